"""Hillshade: GDAL's shaded relief of a DEM (Horn's gradient), as a jit-able operator."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_bool

from .._carrier import float_values, namespace, nan_of, rewrap, values_of
from .._errors import GeotoolzTypeError, GeotoolzValueError
from ._single import single_band

__all__ = ["Hillshade"]


def _number(name: str, value: Any, lo: float, hi: float, closed: bool = True) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (lo <= value <= hi if closed else lo < value <= hi):
        span = f"[{lo}, {hi}]" if closed else f"({lo}, {hi}]"
        raise pk.ConfigError(f"Hillshade: {name} must be a number in {span}, got {value!r}")
    return float(value)


class Hillshade(pk.Operator):
    """Shaded relief of a one-band DEM, as ``gdaldem hillshade`` (Horn 1981 gradient).

    With the 3x3 window ``z0..z8`` (row by row, ``z4`` the pixel), the transform's pixel
    sizes ``a`` (x) and ``e`` (y, negative for north-up grids) and ``z = z_factor``:

    .. math::

        p = z\\,\\frac{(z_0 + 2 z_3 + z_6) - (z_2 + 2 z_5 + z_8)}{8 a}, \\qquad
        q = z\\,\\frac{(z_6 + 2 z_7 + z_8) - (z_0 + 2 z_1 + z_2)}{8 e}

        \\cos\\gamma = \\frac{\\sin(alt) - \\cos(alt)\\,(q\\cos(az) - p\\sin(az))}
                            {\\sqrt{1 + p^2 + q^2}}, \\qquad
        \\mathrm{out} = 255\\,\\max(\\cos\\gamma, 0)

    which is GDAL's formula ``255 (sin(alt) cos(slope) + cos(alt) sin(slope) cos(az -
    aspect))`` with ``slope = atan(sqrt(p² + q²))`` and ``aspect`` the compass direction
    the slope faces, written without trigonometry of the gradient (GDAL's
    ``GDALHillshadeAlg``). ``azimuth`` is the compass direction the light comes from
    (degrees clockwise from north; 315 = north-west), ``altitude`` its angle above the
    horizon. A flat DEM is ``255 sin(alt)``; a slope facing the sun is brightest.

    Output: float32 (float64 for float64 input) in [0, 255] on the input's grid, band
    named ``"hillshade"``, ``fill_value`` NaN. GDAL writes a Byte ``1 + 254 max(cos γ, 0)``
    and keeps 0 for nodata; multiply by 254/255 and add 1 to match its bytes.

    Edges and nodata, as GDAL: by default (``compute_edges=False``, ``gdaldem``'s default)
    a pixel is NaN when its 3x3 window leaves the raster (a 1-pixel border) or holds
    nodata. ``compute_edges=True`` (``-compute_edges``) extrapolates a missing row or
    column linearly (``2 z_edge - z_inner``, exact on planes) and replaces nodata
    neighbours by the centre value; only nodata pixels themselves are NaN. At the four
    corner pixels GDAL repeats the centre column instead of extrapolating it; here the
    corners are extrapolated like every other edge pixel (planes stay exact).

    Pixel sizes come from the GeoTensor's transform (static, so a jit-compiled hillshade
    serves every tile of a grid). They are in CRS units: for a DEM in degrees
    (EPSG:4326), reproject first or set ``z_factor`` to metres-to-degrees (~1/111320).

    Args:
        azimuth: direction of the light, degrees clockwise from north.
        altitude: angle of the light above the horizon, degrees in [0, 90].
        z_factor: vertical exaggeration (> 0), multiplies the elevations.
        compute_edges: compute the border and next to nodata (GDAL ``-compute_edges``).

    Example:
        >>> import numpy as np
        >>> import geocatalog as gc, geotoolz as gz
        >>> dem = gc.GeoTensor(np.zeros((4, 4)), (10, 0, 0, 0, -10, 40), "EPSG:32630")
        >>> gz.viz.Hillshade(altitude=90)(dem).values[1:3, 1:3].tolist()
        [[255.0, 255.0], [255.0, 255.0]]
    """

    azimuth: float = eqx.field(static=True)
    altitude: float = eqx.field(static=True)
    z_factor: float = eqx.field(static=True)
    compute_edges: bool = eqx.field(static=True)

    def __init__(
        self,
        azimuth: float = 315.0,
        altitude: float = 45.0,
        z_factor: float = 1.0,
        compute_edges: bool = False,
    ) -> None:
        self.azimuth = _number("azimuth", azimuth, -360.0, 360.0)
        self.altitude = _number("altitude", altitude, 0.0, 90.0)
        self.z_factor = _number("z_factor", z_factor, 0.0, math.inf, closed=False)
        check_bool("Hillshade", "compute_edges", compute_edges)
        self.compute_edges = compute_edges

    def _apply(self, x: Any) -> Any:
        lattice = getattr(x, "lattice", None)
        if lattice is None:
            raise GeotoolzTypeError(
                f"Hillshade needs the pixel size of the DEM from a GeoTensor's transform; got "
                f"a {type(x).__name__}. Wrap the elevations first: "
                f"geocatalog.GeoTensor(values, transform, crs)."
            )
        if lattice.b != 0 or lattice.d != 0:
            raise GeotoolzValueError(
                f"Hillshade: the DEM's grid is rotated (transform b={lattice.b}, d={lattice.d}), "
                f"so the azimuth has no fixed direction on it; warp it to a north-up grid first "
                f"(geotoolz.fusion.AlignAndStack)."
            )
        values = values_of(x)
        band_axis = single_band("Hillshade", x, values)
        dem = float_values(x, values=values)  # nodata is NaN
        height, width = dem.shape[-2:]
        if self.compute_edges and (height < 2 or width < 2):
            raise GeotoolzValueError(
                f"Hillshade(compute_edges=True) extrapolates from 2 rows and 2 columns; got a "
                f"{height}x{width} DEM"
            )
        xp = namespace(dem)
        win = self._windows(xp, dem)
        centre = win[4]
        if self.compute_edges:  # GDAL: a nodata neighbour takes the centre's value
            win = [xp.where(xp.isnan(w), centre, w) for w in win]
            invalid = xp.isnan(centre)
        else:  # GDAL: any nodata in the window (or outside the raster) gives nodata
            invalid = xp.isnan(centre)
            for w in win:
                invalid = invalid | xp.isnan(w)
            win = [xp.where(invalid, xp.zeros_like(w), w) for w in win]
        z = self.z_factor
        p = ((win[0] + 2.0 * win[3] + win[6]) - (win[2] + 2.0 * win[5] + win[8])) * (
            z / (8.0 * lattice.a)
        )
        q = ((win[6] + 2.0 * win[7] + win[8]) - (win[0] + 2.0 * win[1] + win[2])) * (
            z / (8.0 * lattice.e)
        )
        alt, az = math.radians(self.altitude), math.radians(self.azimuth)
        cos_alt = math.cos(alt)
        num = math.sin(alt) - (q * (cos_alt * math.cos(az)) - p * (cos_alt * math.sin(az)))
        shade = 255.0 * xp.maximum(num / xp.sqrt(1.0 + p * p + q * q), 0.0)
        out = xp.where(invalid, nan_of(dem.dtype), shade)
        names = ("hillshade",) if band_axis else None
        return rewrap(x, out, fill_value=float("nan"), band_names=names)

    def _windows(self, xp: Any, dem: Any) -> list[Any]:
        """The 9 shifted views ``z0..z8`` of the padded DEM, each of the DEM's shape."""
        height, width = dem.shape[-2:]
        if self.compute_edges:  # linear extrapolation, GDAL's INTERPOL(a, b) = 2a - b
            top = 2.0 * dem[..., :1, :] - dem[..., 1:2, :]
            bottom = 2.0 * dem[..., -1:, :] - dem[..., -2:-1, :]
        else:
            top = bottom = xp.full_like(dem[..., :1, :], math.nan)
        padded = xp.concat([top, dem, bottom], axis=-2)
        if self.compute_edges:
            left = 2.0 * padded[..., :, :1] - padded[..., :, 1:2]
            right = 2.0 * padded[..., :, -1:] - padded[..., :, -2:-1]
        else:
            left = right = xp.full_like(padded[..., :, :1], math.nan)
        padded = xp.concat([left, padded, right], axis=-1)
        return [padded[..., r : r + height, c : c + width] for r in range(3) for c in range(3)]
