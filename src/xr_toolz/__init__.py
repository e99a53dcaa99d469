"""xr_toolz: pipekit operators on xarray objects.

What it will own (see ``ARCHITECTURE.md``): operators that accept DataArray/Dataset, keep
dims, coords and attrs, and compute through pure array kernels that also run under
``jax.jit``: metrics, geo, detrend, ocn, atm, calc, transforms, ice.
"""

from . import detrend as detrend, metrics as metrics, testing as testing, transforms as transforms

__all__: list[str] = ["detrend", "metrics", "testing", "transforms"]
