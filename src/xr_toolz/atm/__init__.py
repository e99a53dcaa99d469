"""Atmospheric thermodynamics on xarray Datasets with CF ``units`` (issue 16), as MetPy.

The Operators read named variables (or coordinates) of a Dataset, convert them to SI by
their ``units`` attrs, and add one output variable with CF ``units``/``standard_name``.
The kernels of :mod:`._kernels` are pure array functions (SI in, SI out) that run on
NumPy and under ``jax.jit``.
"""

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
    "Dewpoint",
    "EquivalentPotentialTemperature",
    "PotentialTemperature",
    "RelativeHumidity",
    "dewpoint_from_vapor_pressure",
    "equivalent_potential_temperature",
    "potential_temperature",
    "relative_humidity",
    "saturation_vapor_pressure",
    "vapor_pressure_from_specific_humidity",
]
