"""Radiometric correction of optical GeoTensors: calibration and image-based haze removal.

- :class:`DNToRadiance`: ``L = gain DN + offset`` (sensor calibration).
- :class:`RadianceToReflectance`: ``rho = pi L d^2 / (E_sun cos theta_z)``.
- :class:`DarkObjectSubtraction`: Chavez's DOS1 haze removal, in radiance or reflectance.
- :class:`TOAToBOA`: Chavez's COST model, TOA to surface reflectance with a per-pixel
  sun zenith band.
- :func:`earth_sun_distance`: ``d`` in AU from the day of the year.

Every operator runs eagerly on NumPy and under ``eqx.filter_jit`` / ``filter_vmap`` on JAX
with the same numbers; nodata in is NaN out.
"""

from ._haze import DarkObjectSubtraction as DarkObjectSubtraction, TOAToBOA as TOAToBOA
from ._radiance import (
    DNToRadiance as DNToRadiance,
    RadianceToReflectance as RadianceToReflectance,
)
from ._solar import earth_sun_distance as earth_sun_distance

__all__ = [
    "DNToRadiance",
    "DarkObjectSubtraction",
    "RadianceToReflectance",
    "TOAToBOA",
    "earth_sun_distance",
]
