"""xr_toolz: pipekit operators on xarray objects.

Operators accept DataArray/Dataset, keep dims, coords and attrs, and compute through pure
array kernels that also run under ``jax.jit`` (DataArray and Dataset are JAX pytrees once
this package is imported: data leaves, labels static; see ``xr_toolz._pytree``).
"""

from . import (
    _pytree,
    atm as atm,
    calc as calc,
    catalog_ops as catalog_ops,
    detrend as detrend,
    geo as geo,
    ice as ice,
    metrics as metrics,
    ocn as ocn,
    testing as testing,
    transforms as transforms,
)

_pytree.register()

__all__: list[str] = [
    "atm",
    "calc",
    "catalog_ops",
    "detrend",
    "geo",
    "ice",
    "metrics",
    "ocn",
    "testing",
    "transforms",
]
