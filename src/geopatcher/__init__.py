"""geopatcher: cutting fields into chips and stitching results back.

What it will own (see ``ARCHITECTURE.md``): the Field/Domain protocols (RasterField,
XarrayField) and ``SpatialPatcher`` = geometry × sampler × window × aggregation, with
exact, boundary-aware overlap-add; ``integrations.pipekit`` (GridSampler, ApplyToChips,
Stitch) and ``integrations.pipekit_jax`` (chips gathered, vmapped and stitched in one
compiled program). Its core imports neither pipekit nor geotoolz.
"""

__all__: list[str] = []
