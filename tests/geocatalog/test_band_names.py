"""GeoTensor band names: validation, how they follow the band axis, jit/vmap, pickle, COG I/O.

Oracles: rasterio (``descriptions`` of the written file; a file whose descriptions rasterio
set, read back by ours) and NumPy indexing of a tuple of names.
"""

import os
import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.io import MemoryFile

import geocatalog as gc
from geocatalog import BandNamesError, GeoTensor
from geocatalog.testing import (
    DEM_BANDS,
    S1_BANDS,
    S2_BANDS,
    synthetic_dem,
    synthetic_fusion_scenes,
    synthetic_s1_scene,
    synthetic_scene,
)

T = Affine(10, 0, 399960, 0, -10, 4500000)
NAMES = ("B02", "B03", "B04", "B08")


def named(values=None, names=NAMES) -> GeoTensor:
    values = np.arange(4 * 3 * 5, dtype=np.float32).reshape(4, 3, 5) if values is None else values
    return GeoTensor(values, T, "EPSG:32630", fill_value=0.0, band_names=names)


# ------------------------------------------------------------------ construction


def test_default_is_none_and_names_are_a_tuple_of_str():
    assert GeoTensor(np.zeros((2, 3, 3)), T, 32630).band_names is None
    gt = named(names=list(np.array(NAMES)))  # a list of NumPy strings
    assert gt.band_names == NAMES
    assert all(type(n) is str for n in gt.band_names)


@pytest.mark.parametrize(
    ("names", "match"),
    [
        (("B02", "B03", "B04"), r"3 names .* has 4 bands"),
        (("B02", "B02", "B04", "B08"), r"must be unique, got \['B02'\]"),
        (("B02", 3, "B04", "B08"), r"must be strings, got 3 \(type int\)"),
        ("B02B03", r"sequence of strings.*band_names=\('B02B03',\)"),
    ],
)
def test_invalid_names_teach(names, match):
    with pytest.raises(BandNamesError, match=match):
        named(names=names)


def test_two_dimensional_values_take_no_names():
    with pytest.raises(BandNamesError, match=r"shape \(3, 5\).*have none.*values\[None\]"):
        GeoTensor(np.zeros((3, 5)), T, 32630, band_names=("ndvi",))
    assert issubclass(BandNamesError, ValueError)


def test_from_lattice_checks_names_against_the_band_axis_after_the_batch():
    gt = named()
    stacked = GeoTensor.from_lattice(
        np.zeros((2, 4, 3, 5)), np.zeros((2, 2), np.int64), gt.lattice, band_names=NAMES
    )
    assert stacked.band_names == NAMES and stacked.batch_shape == (2,)
    with pytest.raises(BandNamesError, match=r"batch axes: 1\) have none"):
        GeoTensor.from_lattice(
            np.zeros((4, 3, 5)), np.zeros((4, 2), np.int64), gt.lattice, band_names=NAMES
        )


# ------------------------------------------------------------------ following the band axis


def test_replace_keeps_names_while_the_band_axis_is_kept():
    gt = named()
    assert gt.replace(values=gt.values * 2).band_names == NAMES
    assert gt.replace(fill_value=None).band_names == NAMES
    assert gt.replace(values=gt.values[:2]).band_names is None  # count changed
    assert gt.replace(values=gt.values[0]).band_names is None  # band axis gone
    assert gt.replace(values=gt.values[None]).band_names is None  # rank changed
    assert gt.replace(values=gt.values[:2], band_names=("a", "b")).band_names == ("a", "b")
    assert gt.replace(band_names=None).band_names is None
    with pytest.raises(BandNamesError, match="2 names"):
        gt.replace(band_names=("a", "b"))


@pytest.mark.parametrize(
    "key",
    [slice(1, 3), slice(None, None, -1), [3, 0], np.array([2, -1]), np.array([1, 0, 1, 0], bool)],
)
def test_band_axis_indexing_subsets_names_as_numpy_subsets_bands(key):
    gt = named()
    out = gt[key, :, 1:]
    oracle = tuple(np.asarray(NAMES, dtype=object)[key])
    assert out.band_names == oracle
    np.testing.assert_array_equal(out.values, gt.values[key][:, :, 1:])


def test_int_on_band_axis_drops_names_and_spatial_slices_keep_them():
    gt = named()
    assert gt[2].band_names is None and gt[2].shape == (3, 5)
    assert gt[..., 1:, 2:4].band_names == NAMES
    assert gt.dynamic_slice(1, 1, 2, 2).band_names == NAMES


def test_pickle_and_repr():
    gt = named()
    back = pickle.loads(pickle.dumps(gt))
    assert back.band_names == NAMES
    assert f"band_names={NAMES!r}" in repr(gt)
    assert "band_names" not in repr(gt.replace(band_names=None))


def test_names_are_static_under_jit_and_vmap():
    gt = named()
    assert len(jax.tree.leaves(gt)) == 2  # values and offset only: names are no leaf
    traces = []

    @eqx.filter_jit
    def double(g):
        traces.append(g.band_names)  # static: concrete inside the trace
        return g.replace(values=g.values * 2)

    out = double(gt)
    assert out.band_names == NAMES and traces == [NAMES]
    double(named(np.ones((4, 3, 5), np.float32)))  # same names and shapes: no retrace
    assert len(traces) == 1
    batch = gc.stack([gt, gt[..., :, :]])
    mapped = eqx.filter_vmap(lambda g: g.replace(values=jnp.sqrt(g.values)))(batch)
    assert mapped.band_names == NAMES and mapped.shape == (2, 4, 3, 5)
    assert [g.band_names for g in gc.unstack(mapped)] == [NAMES, NAMES]


def test_stack_refuses_different_band_layouts():
    gt = named()
    with pytest.raises(gc.LatticeMismatchError, match=r"one band layout.*replace\(band_names="):
        gc.stack([gt, gt.replace(band_names=("a", "b", "c", "d"))])


# ------------------------------------------------------------------ GeoTIFF band descriptions


def test_save_cog_writes_names_as_band_descriptions(tmp_path):
    path = gc.save_cog(named(), str(tmp_path / "n.tif"))
    with rasterio.open(path) as src:
        assert src.descriptions == NAMES
    with MemoryFile(named().to_cog_bytes()) as mem, mem.open() as src:
        assert src.descriptions == NAMES
    with rasterio.open(gc.save_cog(named(names=None), str(tmp_path / "u.tif"))) as src:
        assert src.descriptions == (None,) * 4


def _rasterio_file(path, descriptions):
    """A GeoTIFF written by rasterio alone, with the given band descriptions."""
    data = np.arange(4 * 6 * 7, dtype=np.uint16).reshape(4, 6, 7)
    profile = dict(driver="GTiff", count=4, height=6, width=7, dtype="uint16",
                   crs="EPSG:32630", transform=T, nodata=0)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for i, name in enumerate(descriptions, start=1):
            if name is not None:
                dst.set_band_description(i, name)
    return data


def test_readers_take_band_descriptions_written_by_rasterio(tmp_path):
    path = str(tmp_path / "r.tif")
    data = _rasterio_file(path, NAMES)
    gt = gc.read_raster(path)
    assert gt.band_names == NAMES
    np.testing.assert_array_equal(gt.values, data)
    assert gc.read_raster(path, indexes=[3, 1]).band_names == ("B04", "B02")
    assert gc.read_raster(path, indexes=2).band_names is None  # (H, W): no band axis
    assert gc.read_raster(path, ((1, 4), (2, 6))).band_names == NAMES
    assert gc.load_raster(path).band_names == NAMES
    assert gc.load_raster(path, indexes=(4, 2)).band_names == ("B08", "B03")
    warped = gc.load_raster(path, crs="EPSG:4326", resolution=1e-4, indexes=(1, 4))
    assert warped.band_names == ("B02", "B08") and warped.crs_string == "EPSG:4326"


@pytest.mark.parametrize("descriptions", [("B02", None, "B04", "B08"), ("a", "a", "b", "c")])
def test_incomplete_or_repeated_descriptions_read_without_names(tmp_path, descriptions):
    path = str(tmp_path / "p.tif")
    _rasterio_file(path, descriptions)
    with rasterio.open(path) as src:  # the oracle sees what we refuse to name
        assert src.descriptions == descriptions
    assert gc.read_raster(path).band_names is None
    assert gc.read_raster(path, indexes=[3, 4]).band_names == descriptions[2:]


def test_round_trip_and_read_tile(tmp_path):
    scene = synthetic_scene(32, 32)
    path = gc.save_cog(scene, os.path.join(tmp_path, "s.tif"))
    assert gc.read_raster(path).band_names == S2_BANDS
    cat = gc.open_catalog(gc.build_catalog([path], os.path.join(tmp_path, "c.parquet")))
    tile = cat.read_tile((400000, 4499700, 400200, 4499900), (8, 8), "EPSG:32630")
    assert tile.band_names == S2_BANDS
    subset = cat.read_tile(
        (400000, 4499700, 400200, 4499900), (8, 8), "EPSG:32630", indexes=(4, 13)
    )
    assert subset.band_names == ("B08", "QA60")


# ------------------------------------------------------------------ synthetic data


def test_synthetic_generators_name_their_bands():
    assert synthetic_scene(16, 16).band_names == S2_BANDS
    assert synthetic_s1_scene(16, 16).band_names == S1_BANDS == ("VV", "VH")
    assert synthetic_dem(16, 16).band_names == DEM_BANDS
    scenes = synthetic_fusion_scenes(16, 16)
    assert scenes.optical.band_names == S2_BANDS
    assert scenes.labels.band_names is None
