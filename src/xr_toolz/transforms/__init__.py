"""Transforms of DataArrays over named dims: power, isotropic spectra, coherence, EOFs,
the spectral score.

The numbers and coordinate names are xrft 1.0's (``freq_<dim>``, ``freq_r``): see
:class:`PowerSpectrum` and :class:`IsotropicSpectrum`; the pure kernels in
:mod:`xr_toolz.transforms._kernels` run on NumPy and under ``jax.jit``.
"""

from ._coherence import Coherence as Coherence
from ._eof import EOF as EOF
from ._operators import (
    IsotropicSpectrum as IsotropicSpectrum,
    PowerSpectrum as PowerSpectrum,
    SpectrumInputError as SpectrumInputError,
)
from ._psd_score import PSDScore as PSDScore

__all__ = [
    "EOF",
    "Coherence",
    "PSDScore",
    "IsotropicSpectrum",
    "PowerSpectrum",
    "SpectrumInputError",
]
