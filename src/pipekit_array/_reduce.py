"""Reductions of a carrier (or of one field of a model output) to a scalar per sample."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import numpy as np
from array_api_compat import array_namespace, is_array_api_obj
from jaxtyping import Float, Shaped

import pipekit as pk

from ._carrier import float_values, is_carrier, values_of

__all__ = ["MeanScalar", "nanmean_over"]


def nanmean_over(
    values: Shaped[np.ndarray | jax.Array, "*shape"], n_batch: int = 0
) -> Float[np.ndarray | jax.Array, "*batch"]:
    r"""Mean over all axes after the first ``n_batch``, ignoring NaN; NaN when none is valid.

    .. math:: m = \frac{\sum_i [v_i \ne \mathrm{NaN}]\, v_i}{\sum_i [v_i \ne \mathrm{NaN}]}

    Computed in float32 (float64 input stays float64), one axis at a time from the last, so
    every partial sum is short and NumPy and XLA agree to float32 rounding. An all-NaN
    sample gives NaN without a warning (the count is never divided by zero).
    """
    xp = array_namespace(values)
    if xp.isdtype(values.dtype, "complex floating"):
        raise TypeError(
            f"nanmean_over reduces real values; got dtype {values.dtype}. Take xp.abs or "
            "xp.real of the values first."
        )
    dtype = xp.float64 if values.dtype == xp.float64 else xp.float32
    if not 0 <= n_batch <= values.ndim:
        raise ValueError(
            f"nanmean_over: n_batch={n_batch} batch axes do not fit values of shape "
            f"{tuple(values.shape)}"
        )
    v = xp.astype(values, dtype)
    valid = ~xp.isnan(v)
    total = xp.where(valid, v, xp.zeros_like(v))
    count = xp.astype(valid, dtype)
    for _ in range(v.ndim - n_batch):
        total = xp.sum(total, axis=-1)
        count = xp.sum(count, axis=-1)
    empty = count == 0
    mean = total / xp.where(empty, xp.ones_like(count), count)
    return xp.asarray(xp.where(empty, xp.asarray(float("nan"), dtype=dtype), mean))


def _fields_of(x: Any) -> list[str] | None:
    if isinstance(x, Mapping):
        return [str(k) for k in x]
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return list(type(x)._fields)
    return None


class MeanScalar(pk.Operator):
    r"""Mean over all non-batch axes, ignoring nodata: one scalar per sample.

    .. math:: m = \frac{\sum_i [v_i \ne \mathrm{NaN}]\, v_i}{\sum_i [v_i \ne \mathrm{NaN}]}

    (``np.nanmean`` over every axis of a sample, with a carrier's fill-value pixels left out
    like NaN; an all-nodata sample gives NaN, without NumPy's RuntimeWarning.) A single
    carrier or a bare array gives a 0-d array; a stacked
    carrier (``batch_shape == (n,)``) gives shape ``(n,)``. The result is a bare array:
    NumPy on NumPy input, JAX under jit / vmap. Integer and float32 input are reduced in
    float32, float64 stays float64.

    Args:
        field: pick ``out[field]`` of a dict or ``out.field`` of a NamedTuple first, e.g.
            ``field="sigma"`` after ``ModelOp(uq_model, method="predict_with_uncertainty")``;
            ``None`` reduces the input itself.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> pa.MeanScalar()(np.array([[1.0, np.nan], [2.0, 3.0]]))
        array(2.)
        >>> pa.MeanScalar(field="sigma")({"sigma": np.array([0.5, 1.5], np.float32)})
        array(1., dtype=float32)
    """

    field: str | None = eqx.field(static=True)

    def __init__(self, field: str | None = None) -> None:
        if field is not None and (not isinstance(field, str) or not field):
            raise pk.ConfigError(
                f"MeanScalar: field must be None or the name of a dict key / NamedTuple field "
                f"(a non-empty str, e.g. 'sigma'), got {field!r}"
            )
        self.field = field

    def _apply(self, x: Any) -> Any:
        x = self._select(x)
        values = values_of(x)
        n_batch = len(tuple(getattr(x, "batch_shape", ()))) if is_carrier(x) else 0
        if not is_array_api_obj(values):
            raise TypeError(
                f"MeanScalar expects an array or a carrier with array .values; got "
                f"{type(values).__name__}"
            )
        if not array_namespace(values).isdtype(values.dtype, "complex floating"):
            values = float_values(x, values=values)  # the carrier's fill value is nodata
        return nanmean_over(values, n_batch)

    def _select(self, x: Any) -> Any:
        fields = _fields_of(x)
        if self.field is None:
            if fields is not None:
                raise TypeError(
                    f"MeanScalar(field=None) reduces one array or carrier, but got a "
                    f"{type(x).__name__} with fields {fields}; pick one with "
                    f"MeanScalar(field=...)"
                )
            return x
        if fields is None:
            raise TypeError(
                f"MeanScalar(field={self.field!r}) picks a field of a dict or NamedTuple, but "
                f"got a {type(x).__name__}; use MeanScalar() (field=None) to reduce it whole"
            )
        if self.field not in fields:
            raise ValueError(
                f"MeanScalar(field={self.field!r}): the {type(x).__name__} has no such field; "
                f"available: {fields}"
            )
        return x[self.field] if isinstance(x, Mapping) else getattr(x, self.field)
