"""The small pieces a GeoTensor is made of: the int32 offset leaf and the static fill value."""

from __future__ import annotations

import math
import numbers
from typing import Any

import jax
import numpy as np

from ._errors import FillValueError, OffsetOverflowError
from ._lattice import OFFSET_LIMIT

__all__ = ["UNSET", "canonical_fill", "host_offset", "is_traced", "shift_offset"]

#: The one NaN object every NaN fill value is mapped to: jit compares static data with ``==``
#: and hashes it, and ``float("nan")`` is neither equal nor hash-equal to another NaN object.
_NAN = float("nan")


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


#: Default of arguments for which None is a meaningful value (``replace(fill_value=None)``).
UNSET: Any = _Unset()


def canonical_fill(fill_value: Any) -> float | int | None:
    """Return ``fill_value`` as a Python int/float (NaN as one shared object), or None."""
    if fill_value is None:
        return None
    if isinstance(fill_value, np.ndarray) and fill_value.ndim == 0:
        fill_value = fill_value.item()
    if isinstance(fill_value, bool | np.bool_) or not isinstance(fill_value, numbers.Real):
        raise FillValueError(
            f"fill_value must be None or a real number (NaN allowed), kept static; received "
            f"{fill_value!r} of type {type(fill_value).__name__}. Pass a Python number."
        )
    if isinstance(fill_value, numbers.Integral):
        return int(fill_value)
    value = float(fill_value)
    return _NAN if math.isnan(value) else value


def host_offset(row: int, col: int) -> np.ndarray:
    """Return ``np.int32([row, col])``, raising if either does not fit int32."""
    if abs(row) >= OFFSET_LIMIT or abs(col) >= OFFSET_LIMIT:
        raise OffsetOverflowError(
            f"a GeoTensor pixel offset must satisfy |offset| < 2**31 (int32 leaf); received "
            f"(row_off, col_off) = ({row}, {col}). The grid is too far from its lattice origin; "
            "pass a transform whose origin lies nearer the data."
        )
    return np.array([row, col], dtype=np.int32)


def is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def shift_offset(offset: Any, row: int, col: int) -> Any:
    """Add ``(row, col)`` to an int32 offset leaf (host-checked for int32 overflow)."""
    if row == 0 and col == 0:
        return offset
    delta = np.array([row, col], dtype=np.int32).reshape((1,) * (offset.ndim - 1) + (2,))
    if isinstance(offset, np.ndarray):
        moved = offset.astype(np.int64) + delta
        if moved.size and int(np.abs(moved).max()) >= OFFSET_LIMIT:
            raise OffsetOverflowError(
                f"moving the pixel offset by (row, col) = ({row}, {col}) leaves the int32 range "
                "|offset| < 2**31; cut the scene closer to its lattice origin."
            )
        return moved.astype(np.int32)
    return offset + delta
