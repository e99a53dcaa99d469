"""Calibration steps: digital numbers to radiance, radiance to top-of-atmosphere reflectance."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_index

from ._apply import Bands, finish
from ._bands import broadcast_bands, check_keep_bands, per_band
from ._solar import check_numbers, check_sun_zenith, resolve_distance

__all__ = ["DNToRadiance", "RadianceToReflectance"]


class DNToRadiance(pk.Operator):
    r"""Digital numbers to at-sensor radiance: :math:`L = \mathrm{gain} \cdot DN + \mathrm{offset}`.

    The linear calibration of every optical sensor's level-1 product: Landsat Collection 2
    MTL gives ``RADIANCE_MULT_BAND_x`` (gain) and ``RADIANCE_ADD_BAND_x`` (offset) in
    W m⁻² sr⁻¹ µm⁻¹; the same form with ``REFLECTANCE_MULT/ADD`` gives TOA reflectance
    (before the sun-angle division). Integer input becomes float32; nodata (the input's
    fill value, NaN) is NaN in the output, whose ``fill_value`` is NaN.

    Args:
        gain: one number for every band, or one per band (a list, in band order).
        offset: likewise. A band that must stay as it is (a QA band) takes gain 1 and
            offset 0 (it is then returned as floats).

    Raises:
        GeotoolzValueError: a per-band list whose length is not the input's band count.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> dn = np.array([[[100, 200]], [[10, 20]]], np.uint16)
        >>> gz.correction.DNToRadiance(gain=[0.01, 2.0], offset=[-0.1, 0.0])(dn)[:, 0]
        array([[ 0.9,  1.9],
               [20. , 40. ]], dtype=float32)
    """

    gain: float | tuple[float, ...] = eqx.field(static=True)
    offset: float | tuple[float, ...] = eqx.field(static=True)

    def __init__(self, gain: float | list[float] = 1.0, offset: float | list[float] = 0.0) -> None:
        self.gain = check_numbers("DNToRadiance", "gain", gain)
        self.offset = check_numbers("DNToRadiance", "offset", offset)

    def _apply(self, x: Any) -> Any:
        bands = Bands("DNToRadiance", x, keep_bands=())
        v, layout = bands.values, bands.layout
        gain = per_band("DNToRadiance", "gain", self.gain, layout, 1.0)
        offset = per_band("DNToRadiance", "offset", self.offset, layout, 0.0)
        xp = bands.xp
        out = v * broadcast_bands(xp, gain, v.ndim, v.dtype) + broadcast_bands(
            xp, offset, v.ndim, v.dtype
        )
        return finish(x, bands, out)


class RadianceToReflectance(pk.Operator):
    r"""At-sensor radiance to top-of-atmosphere reflectance.

    .. math:: \rho_{TOA} = \frac{\pi\, L\, d^2}{E_{sun}\, \cos\theta_z}

    with :math:`L` the radiance (W m⁻² sr⁻¹ µm⁻¹), :math:`E_{sun}` the band's mean
    exo-atmospheric solar irradiance (W m⁻² µm⁻¹, same units), :math:`d` the Earth-Sun
    distance in AU and :math:`\theta_z` the solar zenith angle (Chander, Markham & Helder
    2009, eq. 3). The sun zenith is either one number for the scene (metadata: Sentinel-2
    ``MEAN_SUN_ZENITH_ANGLE``, Landsat ``90 - SUN_ELEVATION``) or, per pixel, a band of
    the input in degrees (``sun_zenith_band``), which is then consumed: dropped from the
    output. ``d`` comes from ``day_of_year`` (:func:`earth_sun_distance`) or is given
    (Landsat ``EARTH_SUN_DISTANCE``). Bands in ``keep_bands`` (QA flags) pass through
    unchanged. Nodata is NaN, and so is a pixel whose sun is at or below the horizon.

    Args:
        esun: :math:`E_{sun}`, one number or one per corrected band (bands neither kept
            nor the sun zenith band), in band order.
        sun_zenith: the scene's solar zenith in degrees, in [0, 90); or None with
            ``sun_zenith_band``.
        day_of_year: acquisition day (1..366); or None with ``earth_sun_distance``.
        sun_zenith_band: index of a per-pixel solar zenith band (degrees).
        earth_sun_distance: ``d`` in AU, instead of ``day_of_year``.
        keep_bands: band indices returned unchanged (as floats), e.g. ``[-1]`` for QA.

    References:
        Chander, G., Markham, B. L., Helder, D. L. (2009). Summary of current radiometric
        calibration coefficients for Landsat MSS, TM, ETM+, and EO-1 ALI sensors. *Remote
        Sensing of Environment* 113(5), 893-903.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> op = gz.correction.RadianceToReflectance(esun=1000.0, sun_zenith=60.0,
        ...                                          earth_sun_distance=1.0)
        >>> np.round(op(np.full((1, 1, 1), 100.0 / np.pi)), 6)  # pi L d^2 / (E cos 60)
        array([[[0.2]]])
    """

    esun: float | tuple[float, ...] = eqx.field(static=True)
    sun_zenith: float | None = eqx.field(static=True)
    day_of_year: int | None = eqx.field(static=True)
    sun_zenith_band: int | None = eqx.field(static=True)
    earth_sun_distance: float | None = eqx.field(static=True)
    keep_bands: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self,
        esun: float | list[float],
        sun_zenith: float | None = None,
        day_of_year: int | None = None,
        *,
        sun_zenith_band: int | None = None,
        earth_sun_distance: float | None = None,
        keep_bands: tuple[int, ...] | list[int] = (),
    ) -> None:
        owner = "RadianceToReflectance"
        self.esun = check_numbers(owner, "esun", esun, positive=True)
        if (sun_zenith is None) == (sun_zenith_band is None):
            raise pk.ConfigError(
                f"{owner}: pass exactly one of sun_zenith (degrees, one number for the "
                f"scene) or sun_zenith_band (index of a per-pixel zenith band in degrees); "
                f"got sun_zenith={sun_zenith!r}, sun_zenith_band={sun_zenith_band!r}"
            )
        self.sun_zenith = None if sun_zenith is None else check_sun_zenith(owner, sun_zenith)
        self.sun_zenith_band = (
            None
            if sun_zenith_band is None
            else check_index(owner, "sun_zenith_band", sun_zenith_band)
        )
        self.day_of_year, self.earth_sun_distance, _ = resolve_distance(
            owner, day_of_year, earth_sun_distance
        )
        self.keep_bands = check_keep_bands(owner, keep_bands)

    def _apply(self, x: Any) -> Any:
        owner = "RadianceToReflectance"
        bands = Bands(owner, x, self.keep_bands, self.sun_zenith_band)
        v, xp = bands.values, bands.xp
        _, _, d = resolve_distance(owner, self.day_of_year, self.earth_sun_distance)
        esun = per_band(owner, "esun", self.esun, bands.layout, 1.0)
        factor = broadcast_bands(xp, math.pi * d * d / esun, v.ndim, v.dtype)
        if self.sun_zenith_band is None:
            cos = xp.asarray(math.cos(math.radians(self.sun_zenith or 0.0)), dtype=v.dtype)
        else:
            cos = bands.cos_zenith()
        return finish(x, bands, v * factor / cos)
