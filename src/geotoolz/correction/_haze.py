"""Image-based atmospheric correction: Chavez's dark-object subtraction (DOS1) and COST."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_index
from pipekit_array import nanpercentile

from ._apply import Bands, finish
from ._bands import broadcast_bands, check_keep_bands, per_band
from ._solar import (
    check_number,
    check_numbers,
    check_percentile,
    check_sun_zenith,
    resolve_distance,
)

__all__ = ["DarkObjectSubtraction", "TOAToBOA"]

#: Reflectance of Chavez's assumed dark object: a 1 % reflector.
DARK_REFLECTANCE = 0.01


def _dark_values(bands: Bands, percentile: float) -> Any:
    """Per band, the ``percentile`` of its valid pixels, shaped ``(..., n, 1, 1)``."""
    v, xp = bands.values, bands.xp
    dark = nanpercentile(v, percentile, axis=(-2, -1))
    return xp.astype(xp.reshape(dark, (*dark.shape, 1, 1)), v.dtype)


def _check_scale(owner: str, scale: object) -> float:
    s = check_number(owner, "scale", scale)
    if s <= 0:
        raise pk.ConfigError(
            f"{owner}: scale must be > 0 (values = scale x reflectance: 10000 for "
            f"Sentinel-2 L1C digital numbers, 1 for reflectance), got {s!r}"
        )
    return s


class DarkObjectSubtraction(pk.Operator):
    r"""Chavez's dark-object subtraction, DOS1: remove the additive haze of each band.

    The darkest pixels of a scene (deep water, shadow) are assumed to be 1 % reflectors;
    whatever they show above that is path radiance (haze), added to every pixel of the
    band. Per band :math:`b`:

    .. math::
        \mathrm{dark}_b = P_p(x_b), \qquad
        \mathrm{haze}_b = \max(\mathrm{dark}_b - x_{1\%,b},\ 0), \qquad
        x'_b = x_b - \mathrm{haze}_b

    with :math:`P_p` the ``percentile`` of the band's valid pixels (nodata left out) and
    :math:`x_{1\%}` the value of a 1 % reflector in the input's units, which the arguments
    decide (DOS1: :math:`\tau_v = \tau_z = 1`, no diffuse irradiance):

    - **reflectance** (``esun`` None): :math:`x_{1\%} = 0.01 \cdot \mathrm{scale}`
      (``scale`` = 10000 for Sentinel-2 L1C digital numbers).
    - **radiance** (``esun`` given, with ``sun_zenith`` and ``day_of_year`` or
      ``earth_sun_distance``): :math:`L_{1\%,b} = 0.01\, E_{sun,b} \cos\theta_z / (\pi d^2)`.

    This is *not* "subtract the low percentile": the dark object keeps its 1 % (a
    pure-percentile subtraction would make it 0, darkening every band by 1 % reflectance).
    The haze is clipped at 0: a dark object darker than the 1 % reflector means the
    assumption failed, not negative haze, and must not brighten the band. The output is in
    the input's units, float (integers become float32); nodata is NaN (``fill_value``
    NaN). Bands in ``keep_bands`` pass through.

    Args:
        percentile: the dark-object percentile in [0, 100] (default 1).
        esun: per-band (or one) exo-atmospheric irradiance for radiance input; None for
            reflectance input.
        sun_zenith: scene solar zenith in degrees (radiance input only).
        day_of_year, earth_sun_distance: one of them, for ``d`` (radiance input only).
        scale: reflectance input as ``scale`` x reflectance (reflectance input only).
        keep_bands: band indices returned unchanged, e.g. ``[-1]`` for a QA band.

    References:
        Chavez, P. S. (1988). An improved dark-object subtraction technique for
        atmospheric scattering correction of multispectral data. *Remote Sensing of
        Environment* 24(3), 459-479.
        Chavez, P. S. (1996). Image-based atmospheric corrections - revisited and
        improved. *Photogrammetric Engineering and Remote Sensing* 62(9), 1025-1036.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.array([[[0.05, 0.05, 0.20, 0.30]]])  # dark object 0.05 = 1 % + 0.04 haze
        >>> gz.correction.DarkObjectSubtraction(percentile=0)(x)
        array([[[0.01, 0.01, 0.16, 0.26]]])
    """

    percentile: float = eqx.field(static=True)
    esun: float | tuple[float, ...] | None = eqx.field(static=True)
    sun_zenith: float | None = eqx.field(static=True)
    day_of_year: int | None = eqx.field(static=True)
    earth_sun_distance: float | None = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    keep_bands: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self,
        percentile: float = 1.0,
        esun: float | list[float] | None = None,
        sun_zenith: float | None = None,
        day_of_year: int | None = None,
        *,
        earth_sun_distance: float | None = None,
        scale: float = 1.0,
        keep_bands: tuple[int, ...] | list[int] = (),
    ) -> None:
        owner = "DarkObjectSubtraction"
        self.percentile = check_percentile(owner, "percentile", percentile)
        self.scale = _check_scale(owner, scale)
        self.keep_bands = check_keep_bands(owner, keep_bands)
        if esun is None:
            given = {
                "sun_zenith": sun_zenith,
                "day_of_year": day_of_year,
                "earth_sun_distance": earth_sun_distance,
            }
            extra = {k: v for k, v in given.items() if v is not None}
            if extra:
                raise pk.ConfigError(
                    f"{owner}: {extra} given without esun; the sun geometry is only used for "
                    f"radiance input (pass esun, one per band), reflectance input needs none"
                )
            self.esun = self.sun_zenith = self.day_of_year = self.earth_sun_distance = None
            return
        if self.scale != 1.0:
            raise pk.ConfigError(
                f"{owner}: scale={self.scale!r} applies to reflectance input only; with esun "
                f"the input is radiance (W m-2 sr-1 um-1): leave scale at 1.0"
            )
        self.esun = check_numbers(owner, "esun", esun, positive=True)
        if sun_zenith is None:
            raise pk.ConfigError(
                f"{owner}: radiance input (esun given) needs sun_zenith (degrees) for the "
                f"radiance of the 1 % reflector, 0.01 E_sun cos(sun_zenith) / (pi d^2)"
            )
        self.sun_zenith = check_sun_zenith(owner, sun_zenith)
        self.day_of_year, self.earth_sun_distance, _ = resolve_distance(
            owner, day_of_year, earth_sun_distance
        )

    def _apply(self, x: Any) -> Any:
        owner = "DarkObjectSubtraction"
        bands = Bands(owner, x, self.keep_bands)
        v, xp = bands.values, bands.xp
        if self.esun is None:
            one_percent = per_band(owner, "scale", DARK_REFLECTANCE * self.scale, bands.layout, 0.0)
        else:
            _, _, d = resolve_distance(owner, self.day_of_year, self.earth_sun_distance)
            esun = per_band(owner, "esun", self.esun, bands.layout, 0.0)
            cos = math.cos(math.radians(self.sun_zenith or 0.0))
            one_percent = DARK_REFLECTANCE * esun * cos / (math.pi * d * d)
        dark = _dark_values(bands, self.percentile)
        reference = broadcast_bands(xp, one_percent, v.ndim, v.dtype)
        haze = xp.maximum(dark - reference, xp.zeros_like(dark))
        return finish(x, bands, v - haze)


class TOAToBOA(pk.Operator):
    r"""Top-of-atmosphere to surface reflectance by Chavez's COST model (1996).

    COST is DOS with the downwelling path transmittance approximated by the cosine of the
    sun zenith, :math:`\tau_z = \cos\theta_z` (view path :math:`\tau_v = 1`, diffuse sky
    irradiance :math:`E_{down} = 0`). Per band :math:`b` and pixel, in reflectance
    :math:`\rho = x / \mathrm{scale}`:

    .. math::
        \rho_{dark,b} = P_p(\rho_b), \qquad
        \rho_{haze} = \max(\rho_{dark,b} - 0.01\,\tau_z,\ 0), \qquad
        \rho_{BOA} = \frac{\rho_{TOA} - \rho_{haze}}{\tau_z}

    with :math:`P_p` the ``dark_percentile`` of the band's valid pixels (nodata and
    cloud-masked NaN left out) and :math:`\theta_z` per pixel from ``sun_zenith_band``
    (degrees). The output is :math:`\mathrm{scale} \cdot \rho_{BOA}`: in the input's units
    (digital numbers stay digital numbers, so thresholds and QC ranges downstream keep one
    convention).

    Band roles, defaults for a Sentinel-2 L1C stack laid out ``[B02, B03, B04, B08, SZA,
    QA60]`` in digital numbers (``scale=10000``), e.g. after
    ``gz.cloud.MaskClouds(qa_band=-1, ...)``, which keeps the QA band: the sun zenith band
    (``sun_zenith_band=-2``) is **consumed**, dropped from the output; ``keep_bands=[-1]``
    (QA60) passes through unchanged; every other band is corrected. So
    ``[B02, B03, B04, B08, SZA, QA60] -> [B02', B03', B04', B08', QA60]`` and
    ``gz.indices.NDVI(red_idx=2, nir_idx=3)`` reads the corrected red and NIR. Pass
    ``keep_bands=[]`` for a stack without a QA band. Nodata is NaN (``fill_value`` NaN),
    and so is a pixel whose sun is at or below the horizon; the haze is clipped at 0 (see
    :class:`DarkObjectSubtraction`). Sentinel-2 L1C of processing baseline 04.00 or later
    carries ``RADIO_ADD_OFFSET = -1000``: add it first (``DNToRadiance(offset=-1000.0)``).

    Args:
        sun_zenith_band: index of the per-pixel solar zenith band, in degrees.
        keep_bands: band indices passed through (QA flags); ``[]`` for none.
        scale: input = ``scale`` x reflectance (10000 for S2 L1C DN, 1.0 for reflectance).
        dark_percentile: percentile of the dark object, in [0, 100].

    References:
        Chavez, P. S. (1996). Image-based atmospheric corrections - revisited and
        improved. *Photogrammetric Engineering and Remote Sensing* 62(9), 1025-1036.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> rho = np.array([[[0.05, 0.25]], [[60.0, 60.0]]])  # one band, then SZA (cos 0.5)
        >>> op = gz.correction.TOAToBOA(sun_zenith_band=-1, keep_bands=[], scale=1.0,
        ...                             dark_percentile=0)
        >>> np.round(op(rho), 6)  # haze 0.05 - 0.005; (rho - 0.045) / 0.5
        array([[[0.01, 0.41]]])
    """

    sun_zenith_band: int = eqx.field(static=True)
    keep_bands: tuple[int, ...] = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    dark_percentile: float = eqx.field(static=True)

    def __init__(
        self,
        sun_zenith_band: int = -2,
        keep_bands: tuple[int, ...] | list[int] = (-1,),
        scale: float = 10_000.0,
        dark_percentile: float = 1.0,
    ) -> None:
        owner = "TOAToBOA"
        self.sun_zenith_band = check_index(owner, "sun_zenith_band", sun_zenith_band)
        self.keep_bands = check_keep_bands(owner, keep_bands)
        self.scale = _check_scale(owner, scale)
        self.dark_percentile = check_percentile(owner, "dark_percentile", dark_percentile)

    def _apply(self, x: Any) -> Any:
        bands = Bands("TOAToBOA", x, self.keep_bands, self.sun_zenith_band)
        xp, v = bands.xp, bands.values
        tau = bands.cos_zenith()  # (..., 1, y, x); NaN where the sun is down
        rho = v / xp.asarray(self.scale, dtype=v.dtype)
        dark = _dark_values(bands, self.dark_percentile) / xp.asarray(self.scale, dtype=v.dtype)
        haze = dark - DARK_REFLECTANCE * tau
        haze = xp.maximum(haze, xp.zeros_like(haze))
        boa = (rho - haze) / tau
        return finish(x, bands, boa * xp.asarray(self.scale, dtype=v.dtype))
