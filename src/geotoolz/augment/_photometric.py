"""Random photometric augmentations: noise, brightness, contrast and band dropout.

Every operator here draws its random numbers from an explicit key, like the flips: a JAX
key (``jax.random.key(seed)``) or, on the NumPy path, a ``numpy.random.Generator``. With a
concrete JAX key the draws are made once on the host and the arithmetic runs in the values'
own namespace (NumPy in, NumPy out); with a traced key (under jit, or vmapped over keys) the
same ``jax.random`` calls run in the compiled program, so one key gives the same numbers on
both paths. The pixel grid never changes, so GeoTensors work under jit too.

Outputs are floats (the input's floating dtype, float32 for integers) with nodata as NaN and
``fill_value`` NaN: noise or an offset added to a fill value would turn nodata into data.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Shaped

import pipekit as pk
from geocatalog import GeoTensor

from .._carrier import float_values, namespace, rewrap, values_of
from .._errors import GeotoolzValueError
from ._augment import Key, _check_key, _check_values, _probability

__all__ = ["BandDropout", "BrightnessJitter", "ContrastJitter", "GaussianNoise", "draw"]


def draw(key: Any, traced: bool, with_jax: Callable[[Any], Any], with_numpy: Callable) -> Any:
    """The random draw of ``key``: traced under jit, else made on the host (a NumPy array).

    ``with_jax(key)`` is the ``jax.random`` call; ``with_numpy(generator)`` its counterpart
    for a ``numpy.random.Generator`` (other numbers: a Generator is not a JAX key). A
    concrete JAX key inside jit is evaluated when the function is traced.
    """
    if traced:
        return with_jax(key)
    if isinstance(key, np.random.Generator):
        return np.asarray(with_numpy(key))
    with jax.ensure_compile_time_eval():
        return np.asarray(with_jax(key))


def _floats(op: str, x: Any, key: Any) -> tuple[bool, Any, Any]:
    """Check the key; ``x``'s values as floats (nodata NaN), and their namespace."""
    traced = _check_key(op, key)
    values = values_of(x)
    _check_values(op, values)
    f = float_values(x)
    if traced:
        f = jnp.asarray(f)
    return traced, f, namespace(f)


def _done(x: Any, out: Any) -> Any:
    return rewrap(x, out, fill_value=float("nan"))


def _real(op: str, name: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise pk.ConfigError(
            f"{op}: {name} must be a real number >= {minimum}, got {value!r} of type "
            f"{type(value).__name__}"
        )
    v = float(value)
    if not math.isfinite(v) or v < minimum:
        raise pk.ConfigError(f"{op}: {name} must be a finite number >= {minimum}, got {v!r}")
    return v


class GaussianNoise(pk.Operator):
    """Add white Gaussian noise: ``out = v + sigma * z``, ``z ~ N(0, 1)`` per element.

    ``z = jax.random.normal(key, v.shape, float32)`` (a Generator draws
    ``rng.standard_normal(v.shape, dtype=float32)``), one independent value per element of
    every band and leading axis, in the values' units (DN for integer input). Sensor noise
    is additive and independent per pixel, which is what makes a model robust to it.

    Args:
        sigma: the noise standard deviation, >= 0.

    Note:
        Nodata stays nodata: NaN + noise is NaN (the output is float, ``fill_value`` NaN).
    """

    sigma: float = eqx.field(static=True)

    def __init__(self, sigma: float = 0.01) -> None:
        self.sigma = _real("GaussianNoise", "sigma", sigma)

    def _apply(
        self, x: GeoTensor | Shaped[ArrayLike, "*batch y x"], *, key: Key | None = None
    ) -> GeoTensor | Float[Array, "*batch y x"]:
        traced, f, xp = _floats("GaussianNoise", x, key)
        shape = tuple(f.shape)
        z = draw(
            key,
            traced,
            lambda k: jax.random.normal(k, shape, jnp.float32),
            lambda g: g.standard_normal(shape, dtype=np.float32),
        )
        z = xp.astype(xp.asarray(z), f.dtype)
        return _done(x, f + xp.asarray(self.sigma, dtype=f.dtype) * z)


class BrightnessJitter(pk.Operator):
    """Shift all values by one random offset: ``out = v + delta``, ``delta ~ U[-m, m)``.

    ``delta = jax.random.uniform(key, (), float32, -max_delta, max_delta)`` (a Generator
    draws ``rng.uniform(-max_delta, max_delta)``), one value per call shared by every band,
    pixel and leading axis (``tf.image.random_brightness``); for one draw per scene,
    ``jax.vmap`` over a batch of keys.

    Args:
        max_delta: half-width of the offset's range, >= 0, in the values' units.
    """

    max_delta: float = eqx.field(static=True)

    def __init__(self, max_delta: float = 0.1) -> None:
        self.max_delta = _real("BrightnessJitter", "max_delta", max_delta)

    def _apply(
        self, x: GeoTensor | Shaped[ArrayLike, "*batch y x"], *, key: Key | None = None
    ) -> GeoTensor | Float[Array, "*batch y x"]:
        traced, f, xp = _floats("BrightnessJitter", x, key)
        m = self.max_delta
        delta = draw(
            key,
            traced,
            lambda k: jax.random.uniform(k, (), jnp.float32, -m, m),
            lambda g: np.float32(g.uniform(-m, m)),
        )
        return _done(x, f + xp.astype(xp.asarray(delta), f.dtype))


class ContrastJitter(pk.Operator):
    """Scale each band about its mean: ``out = (v - mean_b) * c + mean_b``, ``c ~ U[lower, upper)``.

    ``c = jax.random.uniform(key, (), float32, lower, upper)`` (a Generator draws
    ``rng.uniform(lower, upper)``), one factor per call shared by all bands
    (``tf.image.random_contrast``). ``mean_b`` is the mean of the band's **valid** pixels
    (nodata and NaN left out), per band and leading index, so the fill value never pulls
    the mean; a band with no valid pixel stays all NaN.

    Args:
        lower: smallest factor, >= 0.
        upper: largest factor, >= lower.
    """

    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)

    def __init__(self, lower: float = 0.8, upper: float = 1.2) -> None:
        self.lower = _real("ContrastJitter", "lower", lower)
        self.upper = _real("ContrastJitter", "upper", upper)
        if self.upper < self.lower:
            raise pk.ConfigError(
                f"ContrastJitter: upper must be >= lower, got lower={self.lower!r}, "
                f"upper={self.upper!r}; swap them"
            )

    def _apply(
        self, x: GeoTensor | Shaped[ArrayLike, "*batch y x"], *, key: Key | None = None
    ) -> GeoTensor | Float[Array, "*batch y x"]:
        traced, f, xp = _floats("ContrastJitter", x, key)
        lo, hi = self.lower, self.upper
        c = draw(
            key,
            traced,
            lambda k: jax.random.uniform(k, (), jnp.float32, lo, hi),
            lambda g: np.float32(g.uniform(lo, hi)),
        )
        c = xp.astype(xp.asarray(c), f.dtype)
        valid = ~xp.isnan(f)
        zero = xp.asarray(0, dtype=f.dtype)
        total = xp.sum(xp.where(valid, f, zero), axis=(-2, -1), keepdims=True)
        count = xp.sum(xp.astype(valid, f.dtype), axis=(-2, -1), keepdims=True)
        mean = total / xp.maximum(count, xp.asarray(1, dtype=f.dtype))
        return _done(x, (f - mean) * c + mean)


class BandDropout(pk.Operator):
    """Zero whole bands at random: each band is dropped independently with probability ``p``.

    ``drop = jax.random.uniform(key, (n_bands,)) < p`` over the band axis (-3) (a Generator
    draws ``rng.random(n_bands) < p``), one decision per band shared by the leading axes.
    A dropped band becomes 0 at every valid pixel (no rescaling by ``1 / (1 - p)``): it
    teaches a model to cope with a missing or failed band.

    Dropped bands are 0, not the fill value: by the carrier rule a pixel is nodata only when
    **every** band equals the fill value, so a fill value written into some bands would be
    read as data, and with every band dropped, valid pixels would turn into nodata. The
    output is float with nodata NaN, so 0 (dropped) and nodata stay distinct.

    Args:
        p: probability of dropping each band, in [0, 1].
    """

    p: float = eqx.field(static=True)

    def __init__(self, p: float = 0.1) -> None:
        self.p = _probability("BandDropout", p)

    def _apply(
        self, x: GeoTensor | Shaped[ArrayLike, "*batch band y x"], *, key: Key | None = None
    ) -> GeoTensor | Float[Array, "*batch band y x"]:
        traced, f, xp = _floats("BandDropout", x, key)
        if f.ndim < 3:
            raise GeotoolzValueError(
                f"BandDropout drops bands along axis -3 and expects values of shape (..., band, "
                f"y, x); got shape {tuple(f.shape)}. Add a band axis with values[None]."
            )
        n, p = f.shape[-3], self.p
        drop = draw(
            key,
            traced,
            lambda k: jax.random.uniform(k, (n,)) < p,
            lambda g: g.random(n) < p,
        )
        drop = xp.reshape(xp.asarray(drop), (n, 1, 1))
        return _done(x, xp.where(drop & ~xp.isnan(f), xp.asarray(0, dtype=f.dtype), f))
