"""Catalog-scale drivers for xarray pipelines: the geocatalog integration, re-exported.

The seed's Risk 3: glue that composes pipekit with geocatalog lives once, in
``geocatalog.integrations.pipekit``; ``xr_toolz.catalog_ops`` and ``geotoolz.catalog_ops``
import the same objects (``xr_toolz.catalog_ops.CatalogPipeline is
geotoolz.catalog_ops.CatalogPipeline``), so neither package keeps a copy to drift.
"""

from geocatalog.integrations.pipekit import (
    CatalogPipeline as CatalogPipeline,
    CatalogPipelineError as CatalogPipelineError,
    RunReport as RunReport,
    SliceRecord as SliceRecord,
    read_manifest as read_manifest,
)

__all__ = ["CatalogPipeline", "CatalogPipelineError", "RunReport", "SliceRecord", "read_manifest"]
