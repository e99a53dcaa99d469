"""The Lee (1980) local-statistics speckle filter and a data-driven ENL estimate."""

from __future__ import annotations

import math
import numbers
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

import pipekit as pk
from geocatalog import GeoTensor
from pipekit_array import nanpercentile

from .._carrier import float_values, namespace, nan_of, rewrap, values_of
from .._errors import GeotoolzValueError

__all__ = ["LeeSpeckle", "box_mean", "estimate_enl", "lee_filter"]


def _check_spatial(op: str, values: Any) -> None:
    if len(values.shape) < 2:
        raise GeotoolzValueError(
            f"{op} expects values of shape (..., y, x) with two spatial axes; received shape "
            f"{tuple(values.shape)}. Reshape a flat array to (H, W) first."
        )


def _check_window(op: str, window: Any) -> int:
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise pk.ConfigError(
            f"{op}: window must be an odd integer >= 3 (the box side in pixels, e.g. 7); "
            f"received {window!r}"
        )
    if window < 3 or window % 2 == 0:
        raise pk.ConfigError(
            f"{op}: window must be an odd integer >= 3 so the box is centred on its pixel; "
            f"received {window}. Use e.g. {max(3, int(window) | 1)}."
        )
    return int(window)


def _numpy_box_sum(values: np.ndarray, window: int, axis: int) -> np.ndarray:
    """Sums of ``window`` consecutive entries along ``axis`` ("valid" positions only)."""
    n = values.shape[axis] - window + 1
    index: list[Any] = [slice(None)] * values.ndim
    index[axis] = slice(0, n)
    total = values[tuple(index)].copy()
    for start in range(1, window):
        index[axis] = slice(start, start + n)
        total += values[tuple(index)]
    return total


def box_mean(values: Float[ArrayLike, "*band y x"], window: int) -> Float[ArrayLike, "*band y x"]:
    """Mean over the ``window x window`` box centred on each pixel, reflecting at the border.

    The border rule is ``scipy.ndimage.uniform_filter(values, window, mode="reflect")``:
    the image is extended by mirroring about its edge, the edge pixel repeated
    (``d c b a | a b c d | d c b a``; NumPy's ``np.pad(mode="symmetric")``), repeatedly if
    the window is larger than the image. Separable: two 1-D box sums, each ``window``
    additions per pixel (``lax.reduce_window`` under JAX, shifted-slice sums on NumPy),
    so a NaN or infinity affects only the boxes that contain it.
    """
    _check_spatial("box_mean", values)
    r = window // 2
    pad = [(0, 0)] * (values.ndim - 2) + [(r, r), (r, r)]
    n = values.ndim
    if isinstance(values, np.ndarray):
        padded = np.pad(values, pad, mode="symmetric")
        total = _numpy_box_sum(_numpy_box_sum(padded, window, -1), window, -2)
    else:
        padded = jnp.pad(values, pad, mode="symmetric")
        zero = jnp.zeros((), values.dtype)
        ones = (1,) * n
        rows = jax.lax.reduce_window(
            padded, zero, jax.lax.add, (1,) * (n - 1) + (window,), ones, "VALID"
        )
        total = jax.lax.reduce_window(
            rows, zero, jax.lax.add, (1,) * (n - 2) + (window, 1), ones, "VALID"
        )
    return total / (window * window)


def _local_stats(z: Any, window: int) -> tuple[Any, Any, Any]:
    """Box mean, population variance ``E[z^2] - E[z]^2`` (clamped at 0) over valid pixels.

    NaN (nodata) pixels are left out of every box: the sums run over ``where(valid, z, 0)``
    and are divided by the valid fraction of the box, which is exactly 1 where a box holds
    no NaN (so NaN-free images get the plain box statistics bit for bit). A box with no
    valid pixel gives NaN. Returns ``(mean, var, valid_fraction)``.
    """
    xp = namespace(z)
    valid = ~xp.isnan(z)
    zero = xp.zeros_like(z)
    z0 = xp.where(valid, z, zero)
    frac = box_mean(xp.astype(valid, z.dtype), window)
    some = frac > 0
    denom = xp.where(some, frac, xp.ones_like(frac))
    mean = box_mean(z0, window) / denom
    var = box_mean(z0 * z0, window) / denom - mean * mean
    var = xp.where(var > 0, var, zero)
    nan = nan_of(z.dtype)
    return xp.where(some, mean, nan), xp.where(some, var, nan), frac


def _noise_variance(mean: Any, var: Any, frac: Any, window: int) -> Any:
    """Median over interior boxes of ``n / (n - 1) * var / mean^2`` per slice, ``(..., 1, 1)``.

    Only boxes whose every pixel is valid count (``frac == 1``). NaN for a slice without a
    usable box (mean or variance not positive, or not finite).
    """
    xp = namespace(mean)
    r, (height, width) = window // 2, mean.shape[-2:]
    if height > 2 * r and width > 2 * r:  # boxes that lie entirely inside the image
        mean = mean[..., r : height - r, r : width - r]
        var = var[..., r : height - r, r : width - r]
        frac = frac[..., r : height - r, r : width - r]
    if not isinstance(mean, np.ndarray):
        mean, var = jax.lax.stop_gradient(mean), jax.lax.stop_gradient(var)
    n = window * window
    mean_sq = mean * mean
    usable = (mean_sq > 0) & (var > 0) & (frac == 1)
    cv2 = (n / (n - 1)) * var / xp.where(usable, mean_sq, xp.ones_like(mean_sq))
    usable = usable & xp.isfinite(cv2)
    cv2 = xp.where(usable, cv2, nan_of(cv2.dtype))
    median = xp.asarray(nanpercentile(cv2, 50.0, axis=(-2, -1)), dtype=cv2.dtype)
    return xp.reshape(median, (*median.shape, 1, 1))


def estimate_enl(
    values: Float[ArrayLike, "*band y x"] | GeoTensor, window: int = 7
) -> Float[ArrayLike, "*band"]:
    """Estimate the equivalent number of looks of intensity speckle, per image (2-D slice).

    ``ENL = 1 / median_boxes( n / (n - 1) * var_z / mean_z^2 )``: the local squared
    coefficient of variation over every ``window x window`` box that lies entirely inside
    the image (all boxes when the image is smaller than one), ``n = window**2``, with the
    population variance corrected to the unbiased one. Boxes whose mean or variance is not
    positive, or that hold a NaN, are left out; a slice with no usable box gives NaN.

    Why the median: on a homogeneous area of speckle of ``L`` looks the squared local
    coefficient of variation is ``1 / L``; edges and texture only raise it, and the median
    ignores them as long as at least half the boxes are homogeneous. On pure
    ``Gamma(L, 1 / L)`` speckle with 7 x 7 boxes it overestimates ``L`` by 2 to 7 % (10 to
    1 looks; more with smaller boxes): the median of a right-skewed ratio lies below its
    mean. Where most boxes straddle edges or texture it underestimates ``L`` (e.g. about
    2.6 for the 4.4-look :func:`geocatalog.testing.synthetic_s1_scene`, whose fields are a
    few 20 m pixels wide), which makes :class:`LeeSpeckle` smooth more: pass ``enl`` when
    the product's ENL is known.

    Example:
        >>> import numpy as np
        >>> z = np.random.default_rng(0).gamma(4.0, 0.25, size=(2, 200, 200))
        >>> np.round(estimate_enl(z), 1)
        array([4.1, 4.1])
    """
    _check_spatial("estimate_enl", values_of(values))
    window = _check_window("estimate_enl", window)
    z = float_values(values)
    mean, var, frac = _local_stats(z, window)
    sv2 = _noise_variance(mean, var, frac, window)[..., 0, 0]
    return 1.0 / sv2


def lee_filter(
    values: Float[ArrayLike, "*band y x"], window: int = 7, enl: float | None = None
) -> Float[ArrayLike, "*band y x"]:
    """The Lee filter on an array or carrier's values (nodata as NaN); see :class:`LeeSpeckle`."""
    _check_spatial("LeeSpeckle", values_of(values))
    z = float_values(values)
    xp = namespace(z)
    mean, var, frac = _local_stats(z, window)
    if enl is None:
        sv2 = _noise_variance(mean, var, frac, window)
        sv2 = xp.where(xp.isnan(sv2), xp.zeros_like(sv2), sv2)
    else:
        sv2 = 1.0 / enl
    signal = (var - mean * mean * sv2) / (1.0 + sv2)
    signal = xp.where(signal > 0, signal, xp.zeros_like(signal))
    positive = var > 0
    gain = xp.where(positive, signal / xp.where(positive, var, xp.ones_like(var)), 0.0 * var)
    return mean + gain * (z - mean)


class LeeSpeckle(pk.Operator):
    r"""Lee (1980) local-statistics filter for multiplicative speckle on SAR intensity.

    Model ``z = x v`` with unit-mean speckle ``v`` of variance ``sigma_v^2 = 1 / ENL``.
    Over the ``window x window`` box around each pixel (each band separately), with local
    mean ``z_bar`` and population variance ``var_z``:

    .. math::

        \hat x = \bar z + k (z - \bar z), \qquad k = \frac{var_x}{var_z}, \qquad
        var_x = \max\!\Big(0, \frac{var_z - \bar z^2 \sigma_v^2}{1 + \sigma_v^2}\Big)

    so ``k -> 0`` (the box mean) on homogeneous areas and ``k -> 1`` (the pixel kept) on
    edges and bright targets; ``k = 0`` where ``var_z == 0``.

    Args:
        window: odd box side in pixels (>= 3).
        enl: equivalent number of looks of the input (e.g. 4.4 for Sentinel-1 IW GRD,
            1 for single-look data). ``None`` estimates it per image (each band of each
            scene) with :func:`estimate_enl` over the same boxes: the median squared local
            coefficient of variation; an image with no usable box is returned as it is.
            The estimate is treated as a constant by ``jax.grad``.

    Border: boxes reflect at the image edge like ``scipy.ndimage.uniform_filter(...,
    mode="reflect")`` (edge pixel repeated). Nodata (NaN, or pixels equal to the input's
    ``fill_value``) is left out of the box statistics, as if the box held only its valid
    pixels, and stays NaN in the output (``fill_value`` NaN); :func:`estimate_enl` uses only
    boxes without nodata. An infinity makes every box that contains it non-finite.
    Integer input is computed in float32. Apply it to linear intensity, before :class:`LinearToDB`.

    Reference: J.-S. Lee, "Digital image enhancement and noise filtering by use of local
    statistics", IEEE TPAMI 2 (2), 165-168, 1980.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> z = np.random.default_rng(0).gamma(4.0, 0.25, size=(1, 64, 64)).astype(np.float32)
        >>> out = gz.sar.LeeSpeckle(window=7, enl=4.0)(z)
        >>> bool(out.std() < 0.5 * z.std()), out.dtype
        (True, dtype('float32'))
    """

    window: int = eqx.field(static=True)
    enl: float | None = eqx.field(static=True)

    def __init__(self, window: int = 7, enl: float | None = None) -> None:
        self.window = _check_window("LeeSpeckle", window)
        if enl is not None:
            if isinstance(enl, bool) or not isinstance(enl, numbers.Real):
                raise pk.ConfigError(
                    f"LeeSpeckle: enl must be None (estimate it) or a positive number of "
                    f"looks, e.g. 4.4; received {enl!r}"
                )
            enl = float(enl)
            if not (math.isfinite(enl) and enl > 0):
                raise pk.ConfigError(
                    f"LeeSpeckle: enl must be a positive, finite number of looks (e.g. 4.4 for "
                    f"Sentinel-1 IW GRD) or None to estimate it; received {enl}"
                )
        self.enl = enl

    def _apply(self, x: Any) -> Any:
        return rewrap(x, lee_filter(x, self.window, self.enl), fill_value=float("nan"))
