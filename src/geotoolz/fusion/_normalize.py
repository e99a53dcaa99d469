"""BandNormalize: learnable per-band gain and bias, the fusion parameter before a classifier."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import pipekit as pk

from .._carrier import float_values, namespace, rewrap, values_of
from .._errors import GeotoolzValueError

__all__ = ["BandNormalize"]


class BandNormalize(pk.Operator):
    """``y_b = gain_b * x_b + bias_b`` per band: sensors on one scale.

    A fused stack mixes reflectance DN (~10^3), backscatter in dB (~-15) and elevation in
    metres (~10^2). The config is each band's ``mean`` and ``std`` (e.g. from training
    scenes, plain numbers in YAML); the parameters ``gain = 1 / std`` and
    ``bias = -mean / std`` start as the standardisation and are array leaves, so training
    (``pipekit_jax.fit``) tunes how much each sensor's bands weigh. Nodata (NaN from clouds
    or outside a sensor's footprint, or the input's ``fill_value``) stays NaN
    (``fill_value`` NaN) and gives the parameters a gradient of 0, not NaN. Before a
    convolution, which would spread NaN, fill it explicitly:
    ``geotoolz.radiometry.FillNodata(0.0)`` sets it to the standardised mean.

    Args:
        mean: per-band mean, one number per band of the input (band axis ``-3``).
        std: per-band standard deviation, positive.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> op = gz.fusion.BandNormalize(mean=(10.0, -15.0), std=(2.0, 5.0))
        >>> op(np.array([[[12.0, np.nan]], [[-10.0, -20.0]]], np.float32)).tolist()
        [[[1.0, nan]], [[1.0, -1.0]]]
    """

    mean: tuple[float, ...] = eqx.field(static=True)
    std: tuple[float, ...] = eqx.field(static=True)
    gain: Float[Array, "band 1 1"]
    bias: Float[Array, "band 1 1"]

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        mean = tuple(float(m) for m in mean)
        std = tuple(float(s) for s in std)
        if not mean or len(mean) != len(std):
            raise pk.ConfigError(
                f"BandNormalize: mean and std need one number per band, got {len(mean)} "
                f"means and {len(std)} stds"
            )
        if not all(np.isfinite(m) for m in mean) or not all(s > 0 and np.isfinite(s) for s in std):
            raise pk.ConfigError(
                f"BandNormalize: means must be finite and stds positive, got mean={mean}, std={std}"
            )
        self.mean, self.std = mean, std
        inv = 1.0 / np.asarray(std, np.float64)
        self.gain = (inv.astype(np.float32)).reshape(-1, 1, 1)
        self.bias = (-np.asarray(mean) * inv).astype(np.float32).reshape(-1, 1, 1)

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        xp = namespace(values)
        if values.ndim < 3 or values.shape[-3] != len(self.mean):
            raise GeotoolzValueError(
                f"BandNormalize(mean of {len(self.mean)} bands) expects values (..., band, y, x) "
                f"with {len(self.mean)} bands, got shape {tuple(values.shape)}"
            )
        if isinstance(self.gain, jax.core.Tracer) or isinstance(self.bias, jax.core.Tracer):
            xp = jnp  # NumPy values, traced parameters (jax.grad of an eager pipeline)
        values = xp.asarray(float_values(x, xp.float32, values=values))
        gain, bias = xp.asarray(self.gain), xp.asarray(self.bias)
        lead = (1,) * (values.ndim - 3)
        gain, bias = xp.reshape(gain, lead + gain.shape), xp.reshape(bias, lead + bias.shape)
        missing = xp.isnan(values)
        zero = xp.zeros((), dtype=values.dtype)
        # NaN is replaced before the multiply, not after: a NaN input would otherwise give
        # the gain a NaN gradient (0 * NaN) through the masked branch of ``where``.
        nan = xp.asarray(float("nan"), dtype=values.dtype)
        out = xp.where(missing, nan, xp.where(missing, zero, values) * gain + bias)
        return rewrap(x, out, fill_value=float("nan"))
