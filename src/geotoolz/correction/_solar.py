"""Sun geometry for radiometric correction: Earth-Sun distance and argument checks.

Everything here runs on the host at construction time (plain Python floats): the
scene-level numbers (day of year, a scene's mean sun zenith) are config, not data.
"""

from __future__ import annotations

import math
from typing import Any

import pipekit as pk

__all__ = [
    "check_number",
    "check_numbers",
    "check_percentile",
    "check_sun_zenith",
    "earth_sun_distance",
    "resolve_distance",
]


def earth_sun_distance(day_of_year: int) -> float:
    r"""Earth-Sun distance in astronomical units on ``day_of_year`` (1 = 1 January).

    .. math:: d = 1 - 0.01672 \cos\big(0.9856^\circ\,(\mathrm{DOY} - 4)\big)

    A first-order expansion of Kepler's orbit: eccentricity 0.01672, perihelion on
    4 January, 0.9856 degrees of mean anomaly per day (360 / 365.256). It agrees with
    Spencer's (1971) Fourier series for :math:`(r_0 / r)^2` within 1e-3 AU on every day of
    the year (7e-4 at most; tested), i.e. 0.2 % in :math:`d^2`, below the absolute
    calibration uncertainty of optical sensors (~3 %). Where the product's metadata gives
    the distance (Landsat ``EARTH_SUN_DISTANCE``), pass that instead.

    References:
        Eva, H., Lambin, E. F. (1998). Remote sensing of biomass burning in tropical
        regions. *Remote Sensing of Environment* 64(3), 292-315 (the formula as used
        in dark-object subtraction).
        Spencer, J. W. (1971). Fourier series representation of the position of the sun.
        *Search* 2(5), 172.

    Example:
        >>> round(earth_sun_distance(4), 5), round(earth_sun_distance(186), 5)
        (0.98328, 1.01672)
    """
    day = check_day_of_year("earth_sun_distance", day_of_year)
    return 1.0 - 0.01672 * math.cos(math.radians(0.9856 * (day - 4)))


def check_day_of_year(owner: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 366:
        raise pk.ConfigError(
            f"{owner}: day_of_year must be an int in 1..366 (1 = 1 January; the acquisition "
            f"date's day of the year, e.g. DATE_ACQUIRED of a Landsat MTL), got {value!r}"
        )
    return int(value)


def resolve_distance(
    owner: str, day_of_year: int | None, earth_sun_distance_au: float | None
) -> tuple[int | None, float | None, float]:
    """Check that exactly one of the two is given; return both as stored and ``d`` in AU."""
    if (day_of_year is None) == (earth_sun_distance_au is None):
        raise pk.ConfigError(
            f"{owner}: pass exactly one of day_of_year (d from the date, see "
            f"geotoolz.correction.earth_sun_distance) or earth_sun_distance (in AU, e.g. "
            f"EARTH_SUN_DISTANCE of a Landsat MTL); got day_of_year={day_of_year!r}, "
            f"earth_sun_distance={earth_sun_distance_au!r}"
        )
    if day_of_year is not None:
        day = check_day_of_year(owner, day_of_year)
        return day, None, earth_sun_distance(day)
    d = check_number(owner, "earth_sun_distance", earth_sun_distance_au)
    if not 0.9 < d < 1.1:
        raise pk.ConfigError(
            f"{owner}: earth_sun_distance must be in astronomical units (0.983..1.017 over "
            f"the year), got {d!r}"
        )
    return None, d, d


def check_number(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise pk.ConfigError(f"{owner}: {name} must be a finite number, got {value!r}")
    return float(value)


def check_numbers(
    owner: str, name: str, value: Any, *, positive: bool = False
) -> float | tuple[float, ...]:
    """A number, or a non-empty sequence of numbers (one per band): kept as float / tuple."""
    if isinstance(value, list | tuple):
        if not value:
            raise pk.ConfigError(
                f"{owner}: {name} must be a number or one number per band, got an empty list"
            )
        out: float | tuple[float, ...] = tuple(check_number(owner, name, v) for v in value)
        values = out
    else:
        out = check_number(owner, name, value)
        values = (out,)
    if positive and any(v <= 0 for v in values):
        raise pk.ConfigError(f"{owner}: {name} must be > 0 (every band), got {value!r}")
    return out


def check_sun_zenith(owner: str, value: object) -> float:
    z = check_number(owner, "sun_zenith", value)
    if not 0.0 <= z < 90.0:
        raise pk.ConfigError(
            f"{owner}: sun_zenith must be the solar zenith angle in degrees, in [0, 90) "
            f"(Landsat MTL gives SUN_ELEVATION: use 90 - SUN_ELEVATION), got {z!r}"
        )
    return z


def check_percentile(owner: str, name: str, value: object) -> float:
    p = check_number(owner, name, value)
    if not 0.0 <= p <= 100.0:
        raise pk.ConfigError(
            f"{owner}: {name} must be a percentile in [0, 100] (Chavez: the dark end of "
            f"the histogram, e.g. 1.0), got {p!r}"
        )
    return p
