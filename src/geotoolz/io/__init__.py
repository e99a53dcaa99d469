"""Raster I/O as pipeline steps: read from a URI, write Cloud-Optimized GeoTIFFs.

- :class:`ReadRaster`: path / URI / GeoSlice in, GeoTensor out (``geocatalog.load_raster``);
  a pipeline can start from a URI, and ``pipekit.repro`` artifacts rerun without a loader.
- :class:`WriteCOG`: writes the GeoTensor atomically to a path formatted from its content
  (``{hash}``, bounds, shape) and passes it on. A writer: never built by the sandboxed
  YAML loader.

Both run eagerly on the host (files have no traced form): keep them outside ``jit``.
"""

from ._read import ReadRaster as ReadRaster
from ._write import TEMPLATE_FIELDS as TEMPLATE_FIELDS, WriteCOG as WriteCOG

__all__ = ["TEMPLATE_FIELDS", "ReadRaster", "WriteCOG"]
