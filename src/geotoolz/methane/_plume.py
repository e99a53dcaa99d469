"""Plume masking: threshold an enhancement map, keep connected components of a minimum size."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Literal, TypeAlias, get_args

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_int
from pipekit_array import nanpercentile

from .._carrier import float_values, namespace, nan_of, rewrap
from ._components import component_sizes, label_components

__all__ = ["MAD_TO_SIGMA", "PLUME_OUTPUTS", "PlumeMask", "PlumeOutput", "robust_threshold"]

#: What :class:`PlumeMask` returns: the enhancement on the plume (NaN elsewhere) or a mask.
PlumeOutput: TypeAlias = Literal["enhancement", "mask"]
PLUME_OUTPUTS: tuple[str, ...] = get_args(PlumeOutput)

#: σ of a normal distribution per median absolute deviation: 1 / Φ⁻¹(3/4).
MAD_TO_SIGMA = 1.0 / NormalDist().inv_cdf(0.75)


def robust_threshold(values: Any, false_alarm_rate: float) -> Any:
    r"""Per image (last two axes), the level a Gaussian background exceeds with probability α.

    .. math:: t = \mathrm{median}(v) + \Phi^{-1}(1 - \alpha)\; 1.4826\,
              \mathrm{median}(|v - \mathrm{median}(v)|)

    The median and the MAD (scaled to σ) describe the background even with a plume in the
    map: a plume covering a few percent of the pixels barely moves them, whereas a plain
    ``1 - α`` quantile of the map would be the plume's own values once the plume covers more
    than α of it. NaN (nodata) is left out; exact on NumPy and under jit
    (:func:`pipekit_array.nanpercentile`). Returns shape ``values.shape[:-2] + (1, 1)``.
    """
    xp = namespace(values)
    median = nanpercentile(values, 50.0, axis=(-2, -1))
    median = xp.reshape(xp.asarray(median), (*values.shape[:-2], 1, 1))
    mad = nanpercentile(xp.abs(values - median), 50.0, axis=(-2, -1))
    mad = xp.reshape(xp.asarray(mad), (*values.shape[:-2], 1, 1))
    z = NormalDist().inv_cdf(1.0 - false_alarm_rate)
    return median + xp.asarray(z * MAD_TO_SIGMA, dtype=values.dtype) * mad


class PlumeMask(pk.Operator):
    r"""Plume pixels of an enhancement map: above a threshold, in a component of ``min_pixels``.

    Reads a map of CH4 enhancement (ppm·m, e.g. a matched filter's or
    :class:`MultiBandMultiPass`'s output) of shape ``(..., y, x)``; every image of the
    leading axes (a band of size 1, a stacked scene) is masked on its own.

    1. Threshold ``t``: the fixed ``threshold`` (ppm·m), or, with ``false_alarm_rate=α``,
       :func:`robust_threshold`: ``median + Φ⁻¹(1 - α) · 1.4826 · MAD`` of the map, the level
       a Gaussian background exceeds at a rate α (nodata left out).
    2. Candidates ``v > t`` (NaN, i.e. nodata, is never a candidate).
    3. Connected components of the candidates (``connectivity`` 4 or 8) by min-label
       flooding (:func:`label_components`; a ``jax.lax.while_loop`` under jit, the same
       iteration in a Python loop on NumPy, so both paths give the same mask); components of
       fewer than ``min_pixels`` pixels are dropped as noise.

    Output: with ``output="enhancement"`` (the default) the input's values on the plume and
    NaN elsewhere (``fill_value`` NaN), which :class:`IMEFlux` sums directly, so
    ``Sequential([PlumeMask(...), IMEFlux(...)])`` composes. ``output="mask"`` gives a
    boolean mask of the same shape (nodata is False).

    Example:
        >>> import numpy as np
        >>> from geotoolz.methane import PlumeMask
        >>> v = np.zeros((5, 6)); v[1:3, 1:3] = 900.0; v[4, 5] = 800.0
        >>> PlumeMask(threshold=500.0, min_pixels=2, output="mask")(v).astype(int)
        array([[0, 0, 0, 0, 0, 0],
               [0, 1, 1, 0, 0, 0],
               [0, 1, 1, 0, 0, 0],
               [0, 0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0]])
    """

    threshold: float | None = eqx.field(static=True)
    false_alarm_rate: float | None = eqx.field(static=True)
    min_pixels: int = eqx.field(static=True)
    connectivity: int = eqx.field(static=True)
    output: PlumeOutput = eqx.field(static=True)

    def __init__(
        self,
        threshold: float | None = None,
        false_alarm_rate: float | None = None,
        min_pixels: int = 5,
        connectivity: int = 8,
        output: PlumeOutput = "enhancement",
    ) -> None:
        if (threshold is None) == (false_alarm_rate is None):
            raise pk.ConfigError(
                "PlumeMask: give exactly one of threshold (ppm·m) and false_alarm_rate (a "
                f"probability in (0, 0.5)); got threshold={threshold!r}, "
                f"false_alarm_rate={false_alarm_rate!r}"
            )
        if threshold is not None and not (
            isinstance(threshold, int | float) and math.isfinite(threshold)
        ):
            raise pk.ConfigError(f"PlumeMask: threshold must be a finite number, got {threshold!r}")
        if false_alarm_rate is not None and not (
            isinstance(false_alarm_rate, int | float) and 0.0 < false_alarm_rate < 0.5
        ):
            raise pk.ConfigError(
                "PlumeMask: false_alarm_rate must lie in (0, 0.5) (e.g. 0.01 for 1 % of "
                f"background pixels above the threshold), got {false_alarm_rate!r}"
            )
        if connectivity not in (4, 8):
            raise pk.ConfigError(f"PlumeMask: connectivity must be 4 or 8, got {connectivity!r}")
        if output not in PLUME_OUTPUTS:
            raise pk.ConfigError(
                f"PlumeMask: output must be one of {PLUME_OUTPUTS}, got {output!r}"
            )
        self.threshold = None if threshold is None else float(threshold)
        self.false_alarm_rate = None if false_alarm_rate is None else float(false_alarm_rate)
        self.min_pixels = check_int("PlumeMask", "min_pixels", min_pixels, minimum=1)
        self.connectivity = int(connectivity)
        self.output = output

    def plume(self, x: Any) -> Any:
        """The boolean plume mask of ``x`` (``(..., y, x)``), before any rewrapping."""
        v = float_values(x)
        xp = namespace(v)
        if self.threshold is not None:
            level = xp.asarray(self.threshold, dtype=v.dtype)
        else:
            level = robust_threshold(v, self.false_alarm_rate)
        candidates = v > level  # NaN compares False: nodata is never plume
        sizes = component_sizes(label_components(candidates, self.connectivity))
        return candidates & (sizes >= self.min_pixels)

    def _apply(self, x: Any) -> Any:
        mask = self.plume(x)
        if self.output == "mask":
            return rewrap(x, mask, fill_value=None)
        v = float_values(x)
        return rewrap(x, namespace(v).where(mask, v, nan_of(v.dtype)), fill_value=float("nan"))
