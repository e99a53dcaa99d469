"""Ocean diagnostics on xarray objects (issue 16): geostrophy, eddies, stratification.

- :class:`Coriolis` — ``f = 2 Ω sin(lat)`` on the latitude coordinate.
- :class:`GeostrophicVelocity` — surface ``u``/``v`` from sea-surface height (NaN within
  ``equator_mask`` degrees of the equator).
- :class:`RelativeVorticity`, :class:`Strain`, :class:`OkuboWeiss`, :class:`EKE` — on a
  velocity Dataset ``u``/``v``.
- :class:`BruntVaisala` (N², on layer mid-points) and :class:`MixedLayerDepth` (de Boyer
  Montégut 2004) — on potential-density profiles along a depth dimension.

The horizontal kernels reuse :mod:`xr_toolz.calc`'s finite differences; every kernel runs
on NumPy and under ``jax.jit`` with the same numbers, and every Operator traces end to end.

Example:
    >>> import pipekit as pk, xr_toolz as xt
    >>> ssh = xt.testing.ssh_eddies()
    >>> w = (xt.ocn.GeostrophicVelocity() | xt.ocn.OkuboWeiss())(ssh)
    >>> bool(float(w.min()) < 0 < float(w.max()))
    True
"""

from ._errors import OcnTypeError as OcnTypeError, OcnValueError as OcnValueError
from ._horizontal import (
    EKE as EKE,
    Coriolis as Coriolis,
    GeostrophicVelocity as GeostrophicVelocity,
    OkuboWeiss as OkuboWeiss,
    RelativeVorticity as RelativeVorticity,
    Strain as Strain,
)
from ._kernels import OMEGA as OMEGA
from ._vertical import BruntVaisala as BruntVaisala, MixedLayerDepth as MixedLayerDepth

__all__ = [
    "EKE",
    "OMEGA",
    "BruntVaisala",
    "Coriolis",
    "GeostrophicVelocity",
    "MixedLayerDepth",
    "OcnTypeError",
    "OcnValueError",
    "OkuboWeiss",
    "RelativeVorticity",
    "Strain",
]
