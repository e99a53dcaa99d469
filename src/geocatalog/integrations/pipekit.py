"""geocatalog x pipekit: ``CatalogPipeline`` and the ``pipekit.io`` plug-in of the CLI.

- :class:`CatalogPipeline` runs a pipekit operator over every slice of a catalog (seed
  Case 2), idempotent and resumable; re-exported as ``geotoolz.catalog_ops``.
- ``CLI_IO`` lets ``pipekit run`` read GeoTIFFs and write COG + PNG. It is declared in
  ``pyproject.toml`` under ``[project.entry-points."pipekit.io"]``; pipekit finds it
  through the entry point and never imports geocatalog itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._geotensor import GeoTensor
from .._io import read_raster, save_cog
from .._storage import write_bytes
from ..testing import synthetic_scene
from ._catalog_pipeline import (
    CatalogPipeline as CatalogPipeline,
    CatalogPipelineError as CatalogPipelineError,
    RunReport as RunReport,
    SliceRecord as SliceRecord,
    read_manifest as read_manifest,
)

__all__ = [
    "CLI_IO",
    "CatalogPipeline",
    "CatalogPipelineError",
    "GeoTensorIO",
    "RunReport",
    "SliceRecord",
    "read_manifest",
]


def _as_geotensor(result: Any) -> GeoTensor:
    if not isinstance(result, GeoTensor):
        raise TypeError(
            f"the pipeline returned a {type(result).__name__}; `pipekit run` writes GeoTensors "
            "(end the pipeline with an operator that returns one)"
        )
    return result


def _preview_source(gt: GeoTensor) -> GeoTensor:
    values = np.asarray(gt.values)
    if values.ndim == 2 or (values.ndim == 3 and values.shape[0] in (1, 3)):
        return gt
    if values.ndim == 3:
        # Several bands: preview a natural-colour-like composite of the first three.
        return gt.replace(values=values[[2, 1, 0]] if values.shape[0] >= 3 else values[:1])
    raise TypeError(f"cannot preview values of shape {values.shape}")


class GeoTensorIO:
    """Reads GeoTIFF/COG into GeoTensors, writes a COG and a PNG preview beside it."""

    name = "geotensor"

    def demo(self) -> GeoTensor:
        """A 512 x 512 synthetic Sentinel-2-like scene (see ``geocatalog.testing``)."""
        return synthetic_scene(512, 512)

    def read(self, path: str) -> GeoTensor:
        return read_raster(path)

    def write(self, result: Any, path: Path) -> list[Path]:
        gt = _as_geotensor(result)
        gt = gt.replace(values=np.asarray(gt.values))
        cog = Path(save_cog(gt, path))
        png = cog.with_suffix(".png")
        # Same all-or-nothing rule as save_cog: a temp file, then a rename.
        write_bytes(png, _preview_source(gt).to_png_bytes())
        return [cog, png]

    def describe(self, result: Any) -> str:
        stats = _as_geotensor(result).summary_stats()
        return "\n".join(f"{k}: {json.dumps(v)}" for k, v in stats.items())


CLI_IO = GeoTensorIO()
