"""Methane: the CH4 absorption spectrum and its band averages for imaging spectrometers."""

from ._absorption import (
    ch4_absorption_spectrum as ch4_absorption_spectrum,
    ch4_unit_absorption as ch4_unit_absorption,
)

__all__ = [
    # absorption
    "ch4_absorption_spectrum",
    "ch4_unit_absorption",
]
