"""Fourier transforms of DataArrays over named dims: power and isotropic spectra.

The numbers and coordinate names are xrft 1.0's (``freq_<dim>``, ``freq_r``): see
:class:`PowerSpectrum` and :class:`IsotropicSpectrum`; the pure kernels in
:mod:`xr_toolz.transforms._kernels` run on NumPy and under ``jax.jit``.
"""

from ._operators import (
    IsotropicSpectrum as IsotropicSpectrum,
    PowerSpectrum as PowerSpectrum,
    SpectrumInputError as SpectrumInputError,
)

__all__ = ["IsotropicSpectrum", "PowerSpectrum", "SpectrumInputError"]
