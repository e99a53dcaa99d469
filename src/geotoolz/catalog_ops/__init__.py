"""Catalog-scale drivers: run a pipeline over every slice of a geocatalog catalog.

:class:`CatalogPipeline` ties a pipekit operator to a geocatalog catalog (seed Case 2):
one COG per slice, named by the slice hash, idempotent and resumable.
"""

from geocatalog.integrations.pipekit import (
    CatalogPipeline as CatalogPipeline,
    CatalogPipelineError as CatalogPipelineError,
    RunReport as RunReport,
    SliceRecord as SliceRecord,
    read_manifest as read_manifest,
)

__all__ = ["CatalogPipeline", "CatalogPipelineError", "RunReport", "SliceRecord", "read_manifest"]
