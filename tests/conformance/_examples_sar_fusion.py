"""Conformance examples: SAR and fusion operators (merged into examples.EXAMPLES).

AlignAndStack takes three GeoTensors on different grids. The suite's input is one object
that it slices into chips (``x[..., r0:r1, c0:c1]``) and reads ``height``, ``width`` and
``transform`` from, so the examples pass a small pytree, :class:`FusionInput`: slicing it
cuts the optical chip and, from the SAR and DEM scenes, the window of fixed size that
covers the chip's footprint, so every chip has the same shapes (one trace) at different
offsets. A plain tuple of three GeoTensors cannot be sliced that way. ``vmap=False``: the
stacked-scene test stacks slices of one GeoTensor (``gc.stack``), which has no meaning for
three grids of different shapes; batching aligned scenes is ``eqx.filter_vmap`` over each
input stacked separately, tested in ``tests/geotoolz/test_fusion.py``.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import numpy as np
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds

import geotoolz as gz
import pipekit as pk
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_fusion_scenes, synthetic_s1_scene

from ._case import SCENE_SHAPE, Case


def s1_scene() -> GeoTensor:
    # Even sizes: the vmap test stacks the four quarter-sized chips of the scene.
    return synthetic_s1_scene(64, 80, seed=7)[..., :36, :44]


def _cover(src: GeoTensor, dst: GeoTensor) -> GeoTensor:
    """The window of ``src`` covering ``dst``'s footprint plus a pixel; size from shapes only."""
    (dl, _, _, dt), (sl, _, _, st) = dst.bounds, src.bounds
    (dx, dy), (sx, sy) = dst.res, src.res
    rows = math.ceil(dst.height * dy / sy) + 3
    cols = math.ceil(dst.width * dx / sx) + 3
    r0 = math.floor((st - dt) / sy) - 1
    c0 = math.floor((dl - sl) / sx) - 1
    return src[..., r0 : r0 + rows, c0 : c0 + cols]


class FusionInput(eqx.Module):
    """Three GeoTensors that slice together: by the optical grid, the others by footprint."""

    optical: GeoTensor
    sar: GeoTensor
    dem: GeoTensor

    @property
    def height(self) -> int:
        return self.optical.height

    @property
    def width(self) -> int:
        return self.optical.width

    @property
    def transform(self) -> Any:
        return self.optical.transform

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.optical.batch_shape

    def __getitem__(self, key: Any) -> FusionInput:
        optical = self.optical[key]
        return FusionInput(optical, _cover(self.sar, optical), _cover(self.dem, optical))


def fusion_input() -> FusionInput:
    optical, s1, dem, _ = synthetic_fusion_scenes(*SCENE_SHAPE, seed=7)
    optical = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(optical)
    return FusionInput(optical, gz.sar.LinearToDB()(s1), dem)


class GeographicDemInput(FusionInput):
    """The same, with the DEM in EPSG:4326 (AlignAndStack's cross-CRS path).

    Every chip keeps the whole (small) DEM, so shapes stay fixed while the optical offsets
    move.
    """

    def __getitem__(self, key: Any) -> GeographicDemInput:
        optical = self.optical[key]
        return GeographicDemInput(optical, _cover(self.sar, optical), self.dem)


def _dem_in_4326(dem: GeoTensor) -> GeoTensor:
    """``dem`` reprojected (bilinear, by rasterio) onto a ~0.0003 degree geographic grid."""
    left, bottom, right, top = transform_bounds(dem.crs_string, "EPSG:4326", *dem.bounds)
    transform = Affine(0.0003, 0, left, 0, -0.0003, top)
    shape = (1, math.ceil((top - bottom) / 0.0003), math.ceil((right - left) / 0.0003))
    out = np.full(shape, np.nan, np.float32)
    reproject(np.asarray(dem.values), out, src_transform=dem.transform,
              src_crs=dem.crs_string, dst_transform=transform, dst_crs="EPSG:4326",
              resampling=Resampling.bilinear, dst_nodata=np.nan)  # fmt: skip
    return GeoTensor(out, transform, "EPSG:4326", fill_value=float("nan"))


def geographic_dem_input() -> GeographicDemInput:
    x = fusion_input()
    return GeographicDemInput(x.optical, x.sar, _dem_in_4326(x.dem))


def call_align(op: pk.Operator, x: FusionInput) -> Any:
    return op(x.optical, x.sar, x.dem)


def call_align_by_name(op: pk.Operator, x: FusionInput) -> Any:
    return op(dem=x.dem, s1=x.sar, s2=x.optical)


EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.sar.LinearToDB": [
        Case(gz.sar.LinearToDB(), make_input=s1_scene),
        Case(gz.sar.LinearToDB()),  # uint16 DN: computed in float32
    ],
    "geotoolz.sar.LeeSpeckle": [
        Case(gz.sar.LeeSpeckle(window=5, enl=4.4), make_input=s1_scene),
        Case(gz.sar.LeeSpeckle(), make_input=s1_scene),  # ENL estimated per band
    ],
    "geotoolz.fusion.AlignAndStack": [
        Case(gz.fusion.AlignAndStack(target_grid="optical"), fusion_input, call_align, False),
        Case(
            gz.fusion.AlignAndStack(target_grid=0, names=("s2", "s1", "dem"), resampling="nearest"),
            fusion_input,
            call_align_by_name,
            False,
        ),
        Case(
            gz.fusion.AlignAndStack(target_grid="optical"), geographic_dem_input, call_align, False
        ),
        Case(  # the suite checks outputs on the input's (optical) grid: 20/30 m onto 10 m
            gz.fusion.AlignAndStack(target_grid="optical", resampling="average"),
            fusion_input,
            call_align,
            False,
        ),
    ],
    "geotoolz.fusion.BandNormalize": [
        Case(gz.fusion.BandNormalize(mean=(1000.0,) * 13, std=(500.0,) * 13)),
        Case(gz.fusion.BandNormalize(mean=(-15.0, -20.0), std=(5.0, 6.0)), make_input=s1_scene),
    ],
    "geotoolz.fusion.SelectBands": [
        Case(gz.fusion.SelectBands((3, 2))),
        Case(gz.fusion.SelectBands((-1,)), make_input=s1_scene),
    ],
}
