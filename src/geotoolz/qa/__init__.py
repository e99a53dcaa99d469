"""Geo QC checks as operators: CRS, pixel size and band schema of a GeoTensor or DataArray.

The geo tier of the QC operators (pipekit.qc: carrier-agnostic shape, dtype, attributes;
pipekit_array.qc: values). Each check returns its input unchanged and applies the shared
``on_error`` policy (``"raise"``, ``"warn"``, ``"log_and_continue"``) of
:mod:`pipekit.qc`. CRS, lattice and band names are static, so under ``jax.jit`` the checks
run at trace time and add nothing to the compiled program.

Example:
    >>> import pipekit as pk
    >>> import geotoolz as gz
    >>> from geocatalog.testing import synthetic_scene
    >>> qc = pk.Sequential([
    ...     gz.qa.AssertCRSEquals("EPSG:32630"),
    ...     gz.qa.AssertResolutionWithin((9.5, 10.5)),
    ...     gz.qa.AssertSchema(bands=["B02", "B03", "B04", "B08", "QA60"]),
    ... ])
    >>> scene = synthetic_scene(16, 16)
    >>> qc(scene) is scene
    True
"""

from ._checks import (
    AssertCRSEquals as AssertCRSEquals,
    AssertResolutionWithin as AssertResolutionWithin,
    AssertSchema as AssertSchema,
)

__all__ = ["AssertCRSEquals", "AssertResolutionWithin", "AssertSchema"]
