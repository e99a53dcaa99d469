"""``ReadRaster``: the first step of a pipeline that starts from a URI (or a GeoSlice)."""

from __future__ import annotations

import os
from typing import Any, get_args

import equinox as eqx

import pipekit as pk
from geocatalog import GeoError, GeoSlice, GeoTensor, Resampling, load_raster

from .._errors import GeotoolzTypeError

__all__ = ["ReadRaster"]


class ReadRaster(pk.Operator):
    """Read a raster into a ``(band, y, x)`` GeoTensor: ``geocatalog.load_raster(x, **options)``.

    The input is a path or URI string (local, ``file://``, ``http(s)://``, ``s3://``,
    ``gs://``, ``/vsi...``) or a :class:`geocatalog.GeoSlice`; the options are the keyword
    arguments of :func:`geocatalog.load_raster` and override a slice's fields. So
    ``pk.Sequential([gz.io.ReadRaster(), ...])`` starts from a URI, and a
    :mod:`pipekit.repro` artifact of it reruns with ``artifact.rerun()`` and no loader:
    ``rerun`` hands the recorded ``<stem>_uri`` string to the pipeline.

    The path is the *input*, never config: a YAML document holding ReadRaster cannot
    choose what is read, only how (window, bands, grid). That is why, unlike
    :class:`WriteCOG`, it is allowed in the sandboxed loader (``repro.load`` rebuilds
    artifacts there).

    Args:
        bounds: ``(left, bottom, right, top)`` to read, in ``bounds_crs`` (default: the
            target ``crs`` if given, else the raster's).
        bounds_crs: CRS of ``bounds``.
        window: source pixel window ``((row_start, row_stop), (col_start, col_stop))``;
            exclusive with ``bounds``.
        indexes: 1-based band numbers (rasterio's ``read(indexes=...)``); None reads all.
        crs, resolution, shape: a target grid to warp onto (``resolution`` or ``shape``).
        resampling: kernel used when the grid changes (rasterio ``Resampling`` names).

    A GeoTensor input passes through unchanged when no option is set, so one pipeline
    file serves both callers: a service that already holds the scene in memory
    (``pipeline(gt)``) and an artifact rerun from its recorded URI. With options set, a
    GeoTensor is refused: the options would silently not apply.

    Host I/O: it runs eagerly (a file has no traced form); put ``eqx.filter_jit`` around
    the steps after it.

    Example:
        >>> import os, tempfile
        >>> import geotoolz as gz
        >>> from geocatalog import save_cog
        >>> from geocatalog.testing import synthetic_scene
        >>> path = save_cog(synthetic_scene(32, 32), os.path.join(tempfile.mkdtemp(), "s.tif"))
        >>> gz.io.ReadRaster(indexes=[3, 4], window=((0, 8), (0, 16)))(path).shape
        (2, 8, 16)
    """

    bounds: tuple[float, float, float, float] | None = eqx.field(static=True)
    bounds_crs: str | None = eqx.field(static=True)
    window: tuple[tuple[int, int], tuple[int, int]] | None = eqx.field(static=True)
    indexes: tuple[int, ...] | None = eqx.field(static=True)
    crs: str | None = eqx.field(static=True)
    resolution: tuple[float, float] | None = eqx.field(static=True)
    shape: tuple[int, int] | None = eqx.field(static=True)
    resampling: str = eqx.field(static=True)

    def __init__(
        self,
        bounds: tuple[float, float, float, float] | list[float] | None = None,
        bounds_crs: Any = None,
        window: Any = None,
        indexes: int | tuple[int, ...] | list[int] | None = None,
        crs: Any = None,
        resolution: float | tuple[float, float] | list[float] | None = None,
        shape: tuple[int, int] | list[int] | None = None,
        resampling: Resampling = "nearest",
    ) -> None:
        # GeoSlice owns the rules (one of bounds/window, one of resolution/shape, canonical
        # CRS strings, 1-based indexes): validate and normalise through it.
        try:
            sl = GeoSlice(
                "<input>",
                bounds=bounds,
                bounds_crs=bounds_crs,
                window=window,
                crs=crs,
                resolution=resolution,
                shape=shape,
                indexes=indexes,
            )
        except GeoError as err:
            raise pk.ConfigError(f"ReadRaster: {err}") from None
        if resampling not in get_args(Resampling):
            raise pk.ConfigError(
                f"ReadRaster: resampling must be one of {list(get_args(Resampling))}, got "
                f"{resampling!r}"
            )
        self.bounds, self.bounds_crs, self.window = sl.bounds, sl.bounds_crs, sl.window
        self.indexes, self.crs = sl.indexes, sl.crs
        self.resolution, self.shape = sl.resolution, sl.shape
        self.resampling = resampling

    def _options(self) -> dict[str, Any]:
        names = ("bounds", "bounds_crs", "window", "indexes", "crs", "resolution", "shape")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def _apply(self, x: Any) -> GeoTensor:
        if isinstance(x, GeoTensor):
            options = self._options()
            if not options:
                return x
            raise GeotoolzTypeError(
                f"ReadRaster: got a GeoTensor already in memory, but the options "
                f"{sorted(options)} only apply to a read; pass the path / URI (or a GeoSlice), "
                "or drop the options"
            )
        if not isinstance(x, str | os.PathLike | GeoSlice):
            raise GeotoolzTypeError(
                f"ReadRaster reads a path / URI string or a geocatalog.GeoSlice (or passes a "
                f"GeoTensor through when no option is set), got {type(x).__name__}"
            )
        return load_raster(
            x,
            bounds=self.bounds,
            bounds_crs=self.bounds_crs,
            window=self.window,
            indexes=self.indexes,
            crs=self.crs,
            resolution=self.resolution,
            shape=self.shape,
            resampling=self.resampling,  # type: ignore[arg-type]
        )
