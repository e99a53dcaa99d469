"""Sea ice on polar stereographic grids: true cell areas, extent, area and ice-edge distance.

Grids are projected (e.g. NSIDC EPSG:3413 north, EPSG:3976 south, 25 km) with cell-centre
``x``/``y`` coordinates in metres; the CRS is read from a CF ``grid_mapping`` coordinate or
``crs_wkt``/``spatial_ref`` attrs, or given as ``crs="EPSG:3413"``. Cell areas are true
(ellipsoidal) areas, ``dx * dy / k**2`` with ``k`` the projection's point scale factor,
computed on the host from coordinates; the concentration goes through pure kernels that
run on NumPy and under ``jax.jit`` with the same numbers.

Example:
    >>> import xr_toolz as xt
    >>> from xr_toolz.testing import polar_sea_ice
    >>> sic = polar_sea_ice()
    >>> ext = xt.ice.SeaIceExtent()(sic)
    >>> bool(ext.max() > ext.min())  # a seasonal cycle
    True
"""

from ._errors import IceTypeError as IceTypeError, IceValueError as IceValueError
from ._grid import cell_area as cell_area, scale_factor as scale_factor
from ._operators import (
    AbstractIceOperator as AbstractIceOperator,
    IceEdgeDistance as IceEdgeDistance,
    SeaIceArea as SeaIceArea,
    SeaIceExtent as SeaIceExtent,
)

__all__ = [
    "AbstractIceOperator",
    "IceEdgeDistance",
    "IceTypeError",
    "IceValueError",
    "SeaIceArea",
    "SeaIceExtent",
    "cell_area",
    "scale_factor",
]
