"""xr_toolz: pipekit operators on xarray objects.

What it will own (see ``ARCHITECTURE.md``): operators that accept DataArray/Dataset, keep
dims, coords and attrs, and compute through pure array kernels that also run under
``jax.jit``: metrics, geo, detrend, ocn, atm, calc, transforms, ice.
"""

from . import (
    _pytree,
    atm as atm,
    calc as calc,
    detrend as detrend,
    geo as geo,
    metrics as metrics,
    testing as testing,
    transforms as transforms,
)

_pytree.register()

__all__: list[str] = ["atm", "calc", "detrend", "geo", "metrics", "testing", "transforms"]
