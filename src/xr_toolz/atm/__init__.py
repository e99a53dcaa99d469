"""Atmospheric thermodynamics, geostrophic wind and column averages on xarray (issue 16).

The Operators read named variables (or coordinates) of a Dataset, convert them to SI by
their ``units`` attrs, and add one output variable with CF ``units``/``standard_name``.
The kernels of :mod:`._kernels` are pure array functions (SI in, SI out) that run on
NumPy and under ``jax.jit``.
"""

from ._column import (
    ColumnAverageDryAirMoleFraction as ColumnAverageDryAirMoleFraction,
    column_average_dry_mole_fraction as column_average_dry_mole_fraction,
    layer_dp as layer_dp,
)
from ._dynamics import GeostrophicWind as GeostrophicWind, geostrophic_wind as geostrophic_wind
from ._kernels import (
    dewpoint_from_vapor_pressure as dewpoint_from_vapor_pressure,
    equivalent_potential_temperature as equivalent_potential_temperature,
    potential_temperature as potential_temperature,
    relative_humidity as relative_humidity,
    saturation_vapor_pressure as saturation_vapor_pressure,
    vapor_pressure_from_specific_humidity as vapor_pressure_from_specific_humidity,
)
from ._operators import (
    Dewpoint as Dewpoint,
    EquivalentPotentialTemperature as EquivalentPotentialTemperature,
    PotentialTemperature as PotentialTemperature,
    RelativeHumidity as RelativeHumidity,
)
from ._units import AtmInputError as AtmInputError

__all__ = [
    "AtmInputError",
    "ColumnAverageDryAirMoleFraction",
    "Dewpoint",
    "EquivalentPotentialTemperature",
    "GeostrophicWind",
    "PotentialTemperature",
    "RelativeHumidity",
    "column_average_dry_mole_fraction",
    "dewpoint_from_vapor_pressure",
    "equivalent_potential_temperature",
    "geostrophic_wind",
    "layer_dp",
    "potential_temperature",
    "relative_humidity",
    "saturation_vapor_pressure",
    "vapor_pressure_from_specific_humidity",
]
