"""Conformance examples: xr_toolz.ice (merged into examples.EXAMPLES).

The operators take sea-ice concentration on a polar stereographic grid (the synthetic
EPSG:3413 field of ``xr_toolz.testing.polar_sea_ice``, coarsened to 100 km so the examples
stay small). Geometry comes from the coordinates on the host, the concentration through
traceable kernels, so NumPy == jit runs; the retrace check opts out (xarray labels are
static under jit) and so does the nodata check (its GeoTensor probes are no DataArray; NaN
land is tested in tests/xr_toolz/test_ice.py).
"""

from __future__ import annotations

import xarray as xr

import xr_toolz as xt
from xr_toolz.testing import polar_sea_ice

from ._case import XARRAY_RETRACE, Case

XARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "xarray input: NaN land is left out / stays NaN (tests/xr_toolz/test_ice.py)",
}


def sea_ice() -> xr.DataArray:
    return polar_sea_ice(periods=3, ny=36, nx=32, resolution=100e3, seed=1)


def sea_ice_percent_bare() -> xr.DataArray:
    """Percent, no grid-mapping coordinate (the CRS comes from the operator), dims x-first."""
    da = polar_sea_ice(periods=2, ny=30, nx=28, resolution=100e3, units="%")
    da = da.drop_vars("crs").transpose("x", "y", "time").copy()
    da.attrs = {"units": "%"}
    return da


EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.ice.SeaIceExtent": [
        # float32 sums of ~1e6 km2 of 1e4 km2 cells: 1e-7 relative, well inside rtol 1e-5
        Case(xt.ice.SeaIceExtent(), sea_ice, vmap=False, extra=XARRAY),
        Case(
            xt.ice.SeaIceExtent(0.3, crs="EPSG:3413"),
            sea_ice_percent_bare,
            vmap=False,
            extra=XARRAY,
        ),
    ],
    "xr_toolz.ice.SeaIceArea": [
        Case(xt.ice.SeaIceArea(), sea_ice, vmap=False, extra=XARRAY),
        Case(
            xt.ice.SeaIceArea(0.0, crs="EPSG:3413"), sea_ice_percent_bare, vmap=False, extra=XARRAY
        ),
    ],
    "xr_toolz.ice.IceEdgeDistance": [
        Case(xt.ice.IceEdgeDistance(), sea_ice, vmap=False, extra=XARRAY),
        Case(
            xt.ice.IceEdgeDistance(0.5, crs="EPSG:3413", true_distance=False),
            sea_ice_percent_bare,
            vmap=False,
            extra=XARRAY,
        ),
    ],
}
