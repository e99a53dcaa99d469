"""NaN-aware percentiles over chosen axes, exact on NumPy and under ``jax.jit``."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental.buffer_callback import buffer_callback
from jaxtyping import Array, Float, Real

from ._percentile_select import nanquantile_rows, radix_rows
from ._types import PercentileMethod

__all__ = ["nanpercentile"]

_METHODS: tuple[PercentileMethod, ...] = ("auto", "radix", "host")

# Up to this many kept positions (e.g. bands), each one is its own
# sub-computation, so that jit drops those nobody reads (dead-code
# elimination): 2 of 13 bands then cost ~2/13. Above it, one vectorised
# computation, because every looped slice adds its own kernels and XLA:CPU
# compile time grows with their count: 13 bands compile in 2 s with "radix"
# (0.2 s with "host"), 64 would take ~10 s.
_LOOP_MAX_ROWS = 16


def nanpercentile(
    x: Real[np.ndarray | Array, "*dims"],
    q: float | Sequence[float],
    axis: int | Sequence[int] = (-2, -1),
    *,
    method: PercentileMethod = "auto",
) -> Float[np.ndarray | Array, "*q_and_kept"] | np.floating:
    r"""The ``q``-th percentiles of ``x`` over ``axis``, ignoring NaNs; exact under jit too.

    NumPy's default ``method="linear"`` (Hyndman & Fan type 7): for the ``n``
    valid (non-NaN) values of a slice, sorted as
    :math:`v_0 \le \dots \le v_{n-1}`, the position is
    :math:`h = (n - 1)\,q / 100` and the percentile

    .. math:: P_q = v_{\lfloor h \rfloor}
              + (h - \lfloor h \rfloor)\,(v_{\lceil h \rceil} - v_{\lfloor h \rfloor}),

    evaluated as NumPy does: from the upper neighbour, ``v_ceil - (1 - g) *
    (v_ceil - v_floor)``, when the weight ``g = h - floor(h)`` is at least 1/2.
    Hence ``inf`` values behave as in NumPy, including its NaN wherever a
    neighbour pair involves an infinity (``inf - inf``, ``0 * inf``).

    Args:
        x: a NumPy array (eager NumPy path; no JAX involved) or a JAX array,
            traced or not (``jax.jit``, ``eqx.filter_jit``, ``jax.vmap``).
            Real dtypes; NaNs are ignored.
        q: a percentile in ``[0, 100]`` or a sequence of them, as Python
            numbers (static under jit).
        axis: the reduced axis or axes, anywhere in ``x``; the others are kept
            in order.
        method: how the JAX path selects (the NumPy path ignores it):
            ``"radix"``, an exact radix select in XLA (any backend);
            ``"host"``, a host callback to the NumPy selection; or
            ``"auto"``, ``"host"`` on CPU and ``"radix"`` elsewhere, chosen
            at lowering by ``lax.platform_dependent``.

    Returns:
        Shape ``(len(q), *kept)`` for a sequence ``q``, ``kept`` for a scalar
        (a NumPy scalar when nothing is kept, as NumPy does). From NumPy input:
        ``np.nanpercentile(x, q, axis)`` exactly, dtype included (float64 for
        a sequence ``q``, the input's for a Python-float ``q``). From JAX
        input: the floating dtype of ``x``, the default float dtype for
        integers; the order statistics are exact, only the interpolation
        rounds (float32 arithmetic for float32). All-NaN slices give NaN.

    Raises:
        ValueError: ``q`` outside ``[0, 100]``, bad ``axis`` or ``method``.
        TypeError: non-real ``x``; ``q`` not static Python numbers.

    Example:
        >>> import numpy as np, jax, jax.numpy as jnp
        >>> img = np.arange(40, dtype=np.float32).reshape(2, 4, 5)  # (band, y, x)
        >>> img[0, 0, 0] = np.nan
        >>> nanpercentile(img, (2.0, 98.0))  # (q, band), as np.nanpercentile
        array([[ 1.36, 20.38],
               [18.64, 38.62]])
        >>> jax.jit(lambda a: nanpercentile(a, (2.0, 98.0)))(jnp.asarray(img))
        Array([[ 1.36, 20.38],
               [18.64, 38.62]], dtype=float32)
        >>> nanpercentile(np.full((1, 3), np.nan), 50.0, axis=-1)  # no warning
        array([nan])

    Note:
        **Speed.** On XLA:CPU ``jnp.nanpercentile`` sorts: 5.9 s where
        ``np.nanpercentile`` takes 0.23 s (``(13, 1024, 1024)`` float32, 6 %
        NaN, ``q=(2, 98)``, 2 cores). Measured there by
        ``benchmarks/percentile.py``, ``(13, 2048, 2048)`` in brackets:
        ``np.nanpercentile`` 0.22 s (0.91 s); NumPy path 0.059 s (0.42 s);
        jit ``"radix"`` 0.069 s (0.25 s); jit ``"host"`` 0.057 s (0.22 s).
        ``"auto"`` takes ``"host"`` on CPU: it compiles in 0.2 s instead of
        2 s, and is faster on many slices at once (``(256, 13, 64, 64)``
        chips: 0.07 s against 0.32 s; 2**18 rows of 16 values: 6x), where
        XLA:CPU's scatter-adds into many histograms, or its sort, dominate.
        On CPU the host selection reads XLA's buffers in place
        (``jax.experimental.buffer_callback``); on other backends ``"host"``
        copies them through ``jax.pure_callback``, and ``"auto"`` takes the
        native radix kernel instead.

        **Radix select.** Floats map to order-preserving unsigned keys (flip
        every bit of negatives, the sign bit of positives); digits of 8 to 11
        bits are histogrammed from the top with scatter-adds, the first
        histogram shared by all ``q``, each pass narrowing to the bucket holding
        every wanted rank; NaNs are masked out. Slices of at most 128 values
        are sorted instead. Float16/bfloat16 are selected in float32;
        float64 (with ``jax_enable_x64``) uses 64-bit keys. Integer ``x`` is
        cast to the default float dtype first, exact below ``2**24`` in
        float32.

        **Dead code.** With at most 16 kept positions (e.g. bands), each is its
        own sub-computation, so jit drops those nobody reads: percentiles of 2
        of 13 bands cost ~2/13.

        **Gradients.** The thresholds are constants: ``x`` passes through
        ``lax.stop_gradient``, so ``jax.grad`` of a clip to them flows through
        the clip alone, as if they had been precomputed.

        **Warnings.** ``np.nanpercentile`` warns "All-NaN slice encountered"
        (and "invalid value" for ``inf - inf``); this function returns the
        same NaNs silently, because fully masked bands are routine in our
        scenes and tests turn warnings into errors. NumPy's result dtype also
        depends on whether its *first* slice is all-NaN (float32 instead of
        float64 for a sequence ``q``); this function does not copy that.
    """
    fractions, scalar_q, weak_q = _check_q(q)
    if method not in _METHODS:
        raise ValueError(f"nanpercentile got method={method!r}; expected one of {list(_METHODS)}.")
    if isinstance(x, jax.Array):
        axes = _check_axes(axis, x.ndim)
        _check_dtype(x.dtype)
        result = _nanpercentile_jax(x, fractions, axes, method)
    else:
        x = np.asarray(x)
        axes = _check_axes(axis, x.ndim)
        _check_dtype(x.dtype)
        result = _nanpercentile_numpy(x, fractions, axes, weak_gamma=weak_q)
    return result[0] if scalar_q else result


def _check_q(q: float | Sequence[float]) -> tuple[tuple[float, ...], bool, bool]:
    """``q / 100`` in float64 for each q, whether q is a scalar, whether it is weak.

    "Weak" mirrors np.nanpercentile: a Python ``int``/``float`` q interpolates
    in the data's dtype, anything else in float64.
    """
    scalar = isinstance(q, int | float | np.integer | np.floating) or (
        isinstance(q, np.ndarray) and q.ndim == 0
    )
    try:
        values = [float(v) for v in ([q] if scalar else q)]  # type: ignore[union-attr]
    except (TypeError, jax.errors.ConcretizationTypeError) as err:
        raise TypeError(
            f"nanpercentile needs q as Python numbers (static under jit), got {q!r}. "
            "Pass a float or a tuple of floats, e.g. q=(2.0, 98.0)."
        ) from err
    if not all(0.0 <= v <= 100.0 for v in values):
        raise ValueError(
            f"nanpercentile needs every q in [0, 100], got q={q!r}. "
            "Percentiles, not quantiles: use 2.0 for the 2nd percentile."
        )
    # Same float64 division as np.nanpercentile, so the positions agree.
    fractions = tuple(float(np.float64(v) / 100.0) for v in values)
    return fractions, scalar, type(q) in (int, float)


def _check_axes(axis: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    if not all(-ndim <= operator.index(a) < ndim for a in axes):
        raise ValueError(
            f"nanpercentile got axis={axis!r} for an array with {ndim} dimensions; "
            f"each axis must lie in [-{ndim}, {ndim - 1}]."
        )
    normalized = tuple(sorted(operator.index(a) % ndim for a in axes))
    if len(set(normalized)) != len(normalized) or not normalized:
        raise ValueError(
            f"nanpercentile got axis={axis!r}; give one or more distinct axes, "
            "e.g. axis=(-2, -1) for the spatial axes of (band, y, x)."
        )
    return normalized


def _check_dtype(dtype: np.dtype) -> None:
    if dtype == np.bool_ or not (
        jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)
    ):
        raise TypeError(
            f"nanpercentile needs a real (integer or floating) array, got dtype {dtype}. "
            "Cast first, e.g. x.astype(np.float32)."
        )


def _split_axes(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[list[int], int]:
    """Kept axes (in order) and the number of reduced elements per slice."""
    kept = [i for i in range(len(shape)) if i not in axes]
    return kept, math.prod(shape[i] for i in axes)


def _nanpercentile_numpy(
    x: np.ndarray, fractions: tuple[float, ...], axes: tuple[int, ...], *, weak_gamma: bool
) -> np.ndarray:
    kept, n = _split_axes(x.shape, axes)
    kept_shape = tuple(x.shape[i] for i in kept)
    rows = np.transpose(x, [*kept, *axes]).reshape(math.prod(kept_shape), n)
    result = nanquantile_rows(rows, fractions, weak_gamma=weak_gamma)
    return result.reshape(len(fractions), *kept_shape)


def _nanpercentile_jax(
    x: Array, fractions: tuple[float, ...], axes: tuple[int, ...], method: PercentileMethod
) -> Array:
    floating = jnp.issubdtype(x.dtype, jnp.floating)
    out_dtype = x.dtype if floating else jax.dtypes.canonicalize_dtype(float)
    # Keys are at least 32 bits wide: half precision is selected in float32
    # (exactly representable there) and rounded back at the end.
    work_dtype = jnp.float64 if out_dtype == jnp.float64 else jnp.float32
    kept, n = _split_axes(x.shape, axes)
    kept_shape = tuple(x.shape[i] for i in kept)
    n_rows = math.prod(kept_shape)
    rows = jnp.transpose(lax.stop_gradient(x).astype(work_dtype), [*kept, *axes])
    rows = rows.reshape(n_rows, n)
    solve = _SOLVERS[method]
    if n_rows == 0 or n == 0:
        result = jnp.full((len(fractions), n_rows), jnp.nan, work_dtype)
    elif n_rows <= _LOOP_MAX_ROWS:
        parts = [solve(rows[i : i + 1], fractions) for i in range(n_rows)]
        result = jnp.concatenate(parts, axis=1)
    else:
        result = solve(rows, fractions)
    return lax.stop_gradient(result.reshape(len(fractions), *kept_shape).astype(out_dtype))


def _auto_rows(rows: Float[Array, "rows n"], fractions: tuple[float, ...]) -> Array:
    """Host selection on CPU, radix select on every other backend."""
    return lax.platform_dependent(
        rows,
        cpu=lambda r: _cpu_rows(r, fractions),
        default=lambda r: radix_rows(r, fractions),
    )


def _host_rows(rows: Float[Array, "rows n"], fractions: tuple[float, ...]) -> Array:
    """The NumPy selection on the host, whatever the backend."""
    return lax.platform_dependent(
        rows,
        cpu=lambda r: _cpu_rows(r, fractions),
        default=lambda r: _callback_rows(r, fractions),
    )


def _kernel(fractions: tuple[float, ...], n_rows: int, n: int) -> Callable[..., np.ndarray]:
    """NumPy selection of a block ``(*batch, n_rows, n)``: ``(*batch, len(q), n_rows)``.

    With ``vmap_method="expand_dims"`` batch axes lead both the input and the output.
    Interpolation is in float64, rounded to the caller's dtype.
    """

    def select(block: np.ndarray) -> np.ndarray:
        batch = block.shape[:-2]
        result = nanquantile_rows(block.reshape(-1, n), fractions, weak_gamma=False)
        return np.moveaxis(result.reshape(len(fractions), *batch, n_rows), 0, -2)

    return select


def _cpu_rows(rows: Float[Array, "rows n"], fractions: tuple[float, ...]) -> Array:
    """``buffer_callback`` to the NumPy selection, reading and writing XLA's buffers in place.

    On CPU, XLA's buffers are host memory: NumPy views them without a copy.
    ``jax.pure_callback`` would first ``device_put`` its input again (~2 ms for the 4 MiB
    of 256 vmapped 64 x 64 chips, as long as the selection itself).
    """
    n_rows, n = rows.shape
    select = _kernel(fractions, n_rows, n)

    def kernel(ctx: Any, out: Any, block: Any) -> None:
        del ctx
        result = np.asarray(out)
        result[...] = select(np.asarray(block))  # the input is only read: the engine copies

    shape = jax.ShapeDtypeStruct((len(fractions), n_rows), rows.dtype)
    return buffer_callback(kernel, shape, vmap_method="expand_dims")(rows)


def _callback_rows(rows: Float[Array, "rows n"], fractions: tuple[float, ...]) -> Array:
    """``pure_callback`` to the NumPy selection (copies device buffers to the host)."""
    n_rows, n = rows.shape
    select = _kernel(fractions, n_rows, n)
    dtype = rows.dtype

    def kernel(block: np.ndarray) -> np.ndarray:
        return select(np.asarray(block)).astype(dtype)

    shape = jax.ShapeDtypeStruct((len(fractions), n_rows), dtype)
    return jax.pure_callback(kernel, shape, rows, vmap_method="expand_dims")


# Jitted so that the looped slices share one trace (tracing 13 slices of the
# radix kernel took ~1 s, one 0.07 s); jit still inlines and prunes each call.
_SOLVERS = {
    "auto": jax.jit(_auto_rows, static_argnums=1),
    "radix": jax.jit(radix_rows, static_argnums=1),
    "host": jax.jit(_host_rows, static_argnums=1),
}
