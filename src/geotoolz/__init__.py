"""geotoolz: pipekit operators on GeoTensors (cloud, radiometry, indices, ...)."""

__all__: list[str] = []
