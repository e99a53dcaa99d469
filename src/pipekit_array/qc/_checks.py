"""Value checks: AssertValueRange, AssertNoNaN, AssertValidFraction (nodata-aware)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import equinox as eqx
import numpy as np

from pipekit import ConfigError
from pipekit.qc import OnError, check_qc_on_error
from pipekit.validate import check_bool, renamed_arguments

from .._carrier import fill_value_of, float_values, namespace, nodata_mask, values_of
from ._base import AbstractValueAssertion, n_batch_of

__all__ = ["AssertNoNaN", "AssertValidFraction", "AssertValueRange"]


def _bound(name: str, value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"AssertValueRange: {name} must be a number or None, got {value!r}")
    if isinstance(value, float | np.floating) and math.isnan(value):
        raise ConfigError(f"AssertValueRange: {name} must be a number or None, got nan")
    return value.item() if isinstance(value, np.generic) else value


def _below(xp: Any, v: Any, bound: int | float) -> Any:
    """``v < bound``, exact for integer ``v`` (no float rounding, no overflow of the bound)."""
    if xp.isdtype(v.dtype, "real floating"):
        return v < xp.asarray(bound, dtype=v.dtype)
    b = math.ceil(bound) if math.isfinite(bound) else bound
    info = xp.iinfo(v.dtype)
    if b <= info.min:
        return xp.zeros(v.shape, dtype=xp.bool)
    if b > info.max:
        return xp.ones(v.shape, dtype=xp.bool)
    return v < xp.asarray(b, dtype=v.dtype)


def _above(xp: Any, v: Any, bound: int | float) -> Any:
    """``v > bound``, exact for integer ``v``."""
    if xp.isdtype(v.dtype, "real floating"):
        return v > xp.asarray(bound, dtype=v.dtype)
    b = math.floor(bound) if math.isfinite(bound) else bound
    info = xp.iinfo(v.dtype)
    if b >= info.max:
        return xp.zeros(v.shape, dtype=xp.bool)
    if b < info.min:
        return xp.ones(v.shape, dtype=xp.bool)
    return v > xp.asarray(b, dtype=v.dtype)


class AssertValueRange(AbstractValueAssertion):
    r"""Check that every valid value lies in ``[min_val, max_val]``; nodata is left out.

    A value is checked only where it is data: NaN elements and pixels whose every band is
    the carrier's fill value (:func:`pipekit_array.nodata_mask`) are skipped, so a scene's
    fill value (0, 65535, -9999) is never "out of range". Integer values are compared
    exactly (bounds are rounded inward: :math:`v \ge \lceil min \rceil`), floating values
    in their own dtype. Either bound may be None (no limit on that side).

    Arguments:
        min_val: the smallest allowed value, or None.
        max_val: the largest allowed value, or None.
        on_error: ``"raise"`` (QCError; under jit ``equinox.EquinoxRuntimeError``),
            ``"warn"`` (QCWarning) or ``"log_and_continue"`` (WARNING on ``"pipekit.qc"``).

    Observed (``QCError.observed``): ``{"n_outside", "min", "max"}`` of the valid values.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> pa.qc.AssertValueRange(0, 10_000)(np.array([0, 10_000, 3], np.uint16))
        array([    0, 10000,     3], dtype=uint16)
        >>> pa.qc.AssertValueRange(0, 1)(np.array([0.5, 2.0, np.nan]))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        ...
        pipekit.qc.QCError: AssertValueRange(min_val=0, max_val=1, on_error='raise') failed: expected valid values in [0, 1] (nodata left out); observed {'n_outside': 1, 'min': 0.5, 'max': 2.0}
    """  # noqa: E501

    min_val: int | float | None = eqx.field(static=True)
    max_val: int | float | None = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)
    check = "value range"

    @renamed_arguments
    def __init__(
        self,
        min_val: int | float | None = None,
        max_val: int | float | None = None,
        on_error: OnError = "raise",
    ) -> None:
        lo, hi = _bound("min_val", min_val), _bound("max_val", max_val)
        if lo is None and hi is None:
            raise ConfigError(
                "AssertValueRange: give min_val, max_val or both (a range with no bound "
                "checks nothing), e.g. AssertValueRange(min_val=0, max_val=10_000)"
            )
        if lo is not None and hi is not None and lo > hi:
            raise ConfigError(
                f"AssertValueRange: min_val must be <= max_val, got min_val={lo!r} > "
                f"max_val={hi!r}; swap them"
            )
        self.min_val, self.max_val = lo, hi
        self.on_error = check_qc_on_error("AssertValueRange", on_error)

    def _expected(self) -> str:
        lo = "-inf" if self.min_val is None else repr(self.min_val)
        hi = "inf" if self.max_val is None else repr(self.max_val)
        return f"valid values in [{lo}, {hi}] (nodata left out)"

    def _measure(self, x: Any) -> tuple[Any, ...]:
        values = values_of(x)
        xp = namespace(values)
        v = xp.astype(values, xp.uint8) if xp.isdtype(values.dtype, "bool") else values
        if xp.isdtype(v.dtype, "complex floating"):
            raise TypeError(
                f"{self!r}: a range needs real values, got dtype {v.dtype}; check abs(x) or "
                f"the real part instead"
            )
        valid = ~nodata_mask(x, values)
        outside = xp.zeros(v.shape, dtype=xp.bool)
        if self.min_val is not None:
            outside = outside | _below(xp, v, self.min_val)
        if self.max_val is not None:
            outside = outside | _above(xp, v, self.max_val)
        outside = outside & valid
        f = float_values(x, values=v)
        inf = xp.asarray(np.inf, dtype=f.dtype)
        lowest = xp.min(xp.where(valid, f, inf)) if f.size else inf
        highest = xp.max(xp.where(valid, f, -inf)) if f.size else -inf
        return xp.any(outside), xp.sum(xp.astype(outside, xp.int32)), lowest, highest

    def _observed(self, n_outside: np.ndarray, lowest: np.ndarray, highest: np.ndarray) -> Any:
        return {"n_outside": int(n_outside), "min": float(lowest), "max": float(highest)}


class AssertNoNaN(AbstractValueAssertion):
    """Check that the values hold no NaN (integer values never do).

    ``allow_nodata`` decides what a NaN *declared* as nodata means. With ``False`` (the
    default) every NaN element fails: the check guards a step that cannot take NaN (a
    model, an integer cast, a sum). With ``True``, NaN passes on a carrier whose fill value
    is NaN (e.g. a GeoTensor with ``fill_value=nan``, what float operators return): there
    NaN is the declared nodata spelling, not a computation error. A NaN in a carrier that
    declares another fill value, or none (a bare array), is undeclared (0/0, log of a
    negative) and fails in both settings.

    Arguments:
        allow_nodata: whether NaN is accepted where the carrier declares NaN as its fill.
        on_error: ``"raise"``, ``"warn"`` or ``"log_and_continue"``.

    Observed (``QCError.observed``): the number of NaN elements.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> pa.qc.AssertNoNaN(on_error="log_and_continue")(np.array([1.0, np.nan]))
        array([ 1., nan])
    """

    allow_nodata: bool = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)
    check = "NaN"

    @renamed_arguments
    def __init__(self, allow_nodata: bool = False, on_error: OnError = "raise") -> None:
        check_bool("AssertNoNaN", "allow_nodata", allow_nodata)
        self.allow_nodata = allow_nodata
        self.on_error = check_qc_on_error("AssertNoNaN", on_error)

    def _expected(self) -> str:
        if self.allow_nodata:
            return "no NaN, except as the carrier's declared fill value (fill_value=nan)"
        return "no NaN element"

    def _measure(self, x: Any) -> tuple[Any, ...] | None:
        values = values_of(x)
        xp = namespace(values)
        if not xp.isdtype(values.dtype, ("real floating", "complex floating")):
            return None  # no NaN in integers or booleans: nothing to run
        fill = fill_value_of(x)
        if self.allow_nodata and isinstance(fill, float) and math.isnan(fill):
            return None  # NaN is this carrier's declared nodata
        nan = xp.isnan(values)
        return xp.any(nan), xp.sum(xp.astype(nan, xp.int32))

    def _observed(self, n_nan: np.ndarray) -> Any:
        return int(n_nan)


class AssertValidFraction(AbstractValueAssertion):
    r"""Check that at least ``min_valid`` of the pixels hold data, in every sample.

    A pixel is valid when none of its elements is nodata (:func:`pipekit_array.nodata_mask`:
    not NaN in any band, and not at the fill value in every band): a pixel missing a band
    cannot feed an index or a model that reads all bands. The fraction is
    :math:`n_{valid} / (H \cdot W)` per sample (each sample of a stacked carrier must
    pass); the comparison is exact (``n_valid >= ceil(min_valid * H * W)``, ``min_valid``
    taken as the decimal it is written as), and a sample with no pixel fails.

    Arguments:
        min_valid: the smallest allowed valid fraction, in ``[0, 1]``.
        on_error: ``"raise"``, ``"warn"`` or ``"log_and_continue"``.

    Observed (``QCError.observed``): the lowest valid fraction among the samples.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> x = np.ones((2, 2, 2)); x[0, 0, 0] = np.nan  # 3 of 4 pixels valid
        >>> pa.qc.AssertValidFraction(0.75)(x) is x
        True
    """

    min_valid: float = eqx.field(static=True)
    on_error: OnError = eqx.field(static=True)
    check = "valid fraction"

    @renamed_arguments
    def __init__(self, min_valid: float, on_error: OnError = "raise") -> None:
        ok = isinstance(min_valid, int | float | np.integer | np.floating) and not isinstance(
            min_valid, bool
        )
        if not ok or not 0.0 <= float(min_valid) <= 1.0:  # type: ignore[arg-type]
            raise ConfigError(
                f"AssertValidFraction: min_valid must be a fraction in [0, 1] (0.5 = half the "
                f"pixels hold data), got {min_valid!r}"
            )
        self.min_valid = float(min_valid)  # type: ignore[arg-type]
        self.on_error = check_qc_on_error("AssertValidFraction", on_error)

    def _expected(self) -> str:
        return f"a valid-pixel fraction >= {self.min_valid!r} (pixels with data in every band)"

    def _measure(self, x: Any) -> tuple[Any, ...]:
        values = values_of(x)
        xp = namespace(values)
        mask = nodata_mask(x, values)
        n_batch = n_batch_of(x)
        if mask.ndim - n_batch < 2:  # a 1-D (or 0-D) sample: every element is a pixel
            mask = xp.reshape(mask, (*mask.shape[:n_batch], 1, -1))
        bands = tuple(range(n_batch, mask.ndim - 2))
        pixel_nodata = xp.any(mask, axis=bands) if bands else mask
        n_pixels = math.prod(pixel_nodata.shape[-2:])
        n_valid = xp.sum(xp.astype(~pixel_nodata, xp.int32), axis=(-2, -1))
        need = math.ceil(Fraction(repr(self.min_valid)) * n_pixels)
        failed = (n_valid < need) | (n_pixels == 0)
        return failed, n_valid, xp.asarray(n_pixels, dtype=xp.int32)

    def _observed(self, n_valid: np.ndarray, n_pixels: np.ndarray) -> Any:
        n = int(n_pixels)
        return float(n_valid.min()) / n if n else 0.0
