"""geotoolz.io: what WriteCOG wrote, read back with rasterio; ReadRaster against rasterio."""

from __future__ import annotations

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene
from pipekit import repro


@pytest.fixture
def scene() -> gc.GeoTensor:
    return synthetic_scene(40, 48, seed=3)


# -- WriteCOG -----------------------------------------------------------------------------


def test_write_cog_writes_what_rasterio_reads_and_returns_the_input(tmp_path, scene):
    op = gz.io.WriteCOG(str(tmp_path / "sub" / "{left:.0f}_{top:.0f}_{count}x{height}x{width}.tif"))
    assert op(scene) is scene
    path = tmp_path / "sub" / "399960_4500000_13x40x48.tif"
    assert sorted(os.listdir(tmp_path / "sub")) == [path.name]  # no temporary file left
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(src.read(), np.asarray(scene.values))
        assert src.transform == scene.transform
        assert src.crs.to_epsg() == 32630
        assert src.nodata == 0
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    assert op.path_for(scene) == str(path)


def test_write_cog_hash_field_is_the_content_hash(tmp_path, scene):
    op = gz.io.WriteCOG(str(tmp_path / "{hash}.tif"))
    op(scene)
    op(scene)  # same content, same name: a rerun overwrites, it does not add a file
    other = scene.replace(values=np.asarray(scene.values) + np.uint16(1))
    op(other)
    want = {repro.output_sha256(g).removeprefix("sha256:") + ".tif" for g in (scene, other)}
    assert set(os.listdir(tmp_path)) == want
    short = gz.io.WriteCOG(str(tmp_path / "{hash:.12}.tif")).path_for(scene)
    assert os.path.basename(short) == repro.output_sha256(scene)[7:19] + ".tif"


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("out/{tile}.tif", r"uses the field \{tile\}; the fields are \['hash'"),
        ("out/{}.tif", r"uses the field \{\}"),
        ("out/{hash.real}.tif", r"uses the field \{hash.real\}"),
        ("out/{hash:d}.tif", r"cannot be formatted"),
        ("out/{hash.tif", r"is not a format string"),
        ("", r"non-empty"),
    ],
)
def test_write_cog_template_errors_teach(template, match):
    with pytest.raises(pk.ConfigError, match=match):
        gz.io.WriteCOG(template)


def test_write_cog_leaves_nothing_partial_on_failure(tmp_path, scene, monkeypatch):
    target = tmp_path / "scene.tif"
    target.write_bytes(b"old")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("geocatalog._io.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        gz.io.WriteCOG(str(target))(scene)
    assert os.listdir(tmp_path) == ["scene.tif"] and target.read_bytes() == b"old"


def test_write_cog_refuses_traced_stacked_and_bare_input(tmp_path, scene):
    op = gz.io.WriteCOG(str(tmp_path / "x.tif"))
    with pytest.raises(gz.GeotoolzTypeError, match=r"cannot run inside jit / vmap"):
        eqx.filter_jit(op)(jax.tree.map(jnp.asarray, scene))
    with pytest.raises(gz.GeotoolzTypeError, match=r"one scene per file"):
        op(gc.stack([scene, scene]))
    with pytest.raises(gz.GeotoolzTypeError, match=r"writes a GeoTensor .* got ndarray"):
        op(np.zeros((1, 2, 2)))
    assert os.listdir(tmp_path) == []


def test_write_cog_is_refused_by_the_sandbox_and_left_out_of_allow_lists(tmp_path):
    writer = gz.io.WriteCOG(str(tmp_path / "{hash}.tif"))
    text = pk.dumps_yaml(pk.Sequential([gz.indices.NDVI(2, 3), writer]))
    assert pk.loads_yaml(text) == pk.Sequential([gz.indices.NDVI(2, 3), writer])  # trusted
    allowed = ["pipekit.Sequential", "geotoolz.indices.NDVI", "geotoolz.io.WriteCOG"]
    with pytest.raises(pk.UntrustedTargetError, match=r"writes outside the process") as info:
        pk.loads_yaml_sandboxed(text, allowed=allowed)  # even when listed
    assert info.value.target == "geotoolz.io.WriteCOG"
    public = pk.registry.public_operators(include_modules=["geotoolz"])
    assert "geotoolz.io.WriteCOG" not in public
    assert "geotoolz.io.ReadRaster" in public  # reads only what its caller passes
    with pytest.raises(pk.UntrustedTargetError, match=r"writes outside the process"):
        pk.loads_yaml_sandboxed(pk.dumps_yaml(writer), allowed=public | {"geotoolz.io.WriteCOG": 0})


# -- ReadRaster ---------------------------------------------------------------------------


@pytest.fixture
def cog(tmp_path, scene) -> str:
    return gc.save_cog(scene, str(tmp_path / "scene.tif"))


def test_read_raster_equals_rasterio(cog, rio_window_transform):
    gt = gz.io.ReadRaster()(cog)
    with rasterio.open(cog) as src:
        np.testing.assert_array_equal(np.asarray(gt.values), src.read())
        assert gt.transform == src.transform and gt.fill_value == src.nodata
        window = Window(col_off=8, row_off=4, width=16, height=10)
        part = src.read([3, 4], window=window)
        part_transform = rio_window_transform(src.transform, 4, 8)
    sub = gz.io.ReadRaster(indexes=[3, 4], window=((4, 14), (8, 24)))(cog)
    np.testing.assert_array_equal(np.asarray(sub.values), part)
    assert sub.transform == part_transform
    # a GeoSlice input; the operator's options override the slice's fields
    sl = gc.GeoSlice(cog, indexes=(1,), window=((0, 5), (0, 5)))
    assert gz.io.ReadRaster()(sl).shape == (1, 5, 5)
    assert gz.io.ReadRaster(indexes=[3, 4], window=((4, 14), (8, 24)))(sl).shape == (2, 10, 16)


def test_read_raster_errors_teach(cog):
    with pytest.raises(pk.ConfigError, match=r"ReadRaster: GeoSlice takes bounds or window"):
        gz.io.ReadRaster(bounds=(0, 0, 1, 1), window=((0, 1), (0, 1)))
    with pytest.raises(pk.ConfigError, match=r"resampling must be one of"):
        gz.io.ReadRaster(resampling="cubicspline")
    with pytest.raises(gz.GeotoolzTypeError, match=r"reads a path / URI string .* got ndarray"):
        gz.io.ReadRaster()(np.zeros((1, 2, 2)))


def test_read_raster_passes_an_in_memory_geotensor_through_only_without_options(cog):
    gt = gz.io.ReadRaster()(cog)
    assert gz.io.ReadRaster()(gt) is gt  # one pipeline file for pipeline(gt) and rerun(uri)
    with pytest.raises(gz.GeotoolzTypeError, match=r"ReadRaster: got a GeoTensor .*\['indexes'\]"):
        gz.io.ReadRaster(indexes=[3])(gt)
    with pytest.raises(gz.GeotoolzTypeError, match=r"ReadRaster reads a path .* got ndarray"):
        gz.io.ReadRaster()(np.zeros((2, 3, 3)))


def test_read_raster_yaml_round_trip_normalises_config(cog):
    op = gz.io.ReadRaster(indexes=3, bounds=[400000, 4499700, 400200, 4499900], crs=32630)
    again = pk.loads_yaml_sandboxed(pk.dumps_yaml(op), allowed=["geotoolz.io.ReadRaster"])
    assert again.indexes == (3,) and again.crs == "EPSG:32630"
    assert pk.config_hash(again) == pk.config_hash(op)


def test_frozen_pipeline_starting_with_read_raster_reruns_without_a_loader(tmp_path, cog):
    pipe = pk.Sequential(
        [
            gz.io.ReadRaster(),
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            gz.indices.NDVI(red_idx=2, nir_idx=3),
        ]
    )
    out = pipe(cog)
    inputs = {"scene_uri": cog, "scene_sha256": repro.file_sha256(cog)}
    path = repro.freeze(pipe, inputs, output=out).save(tmp_path / "run.tar")
    art = repro.load(path)  # rebuilt in the sandbox under the recorded allow-list
    again = art.rerun()  # the URI string goes to ReadRaster
    np.testing.assert_array_equal(np.asarray(again.values), np.asarray(out.values))
    # oracle: rasterio read + NumPy NDVI, clouds (QA60 bits 10, 11) NaN
    with rasterio.open(cog) as src:
        v = src.read().astype(np.float32)
    cloud = (v[-1].astype(np.uint32) & (1 << 10 | 1 << 11)) != 0
    red, nir = np.where(cloud, np.nan, v[2]), np.where(cloud, np.nan, v[3])
    np.testing.assert_allclose(np.asarray(again.values), (nir - red) / (nir + red), rtol=1e-6)
    with open(cog, "r+b") as f:  # a changed input is caught before anything runs
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(repro.ReproError, match=r"input 'scene' .* changed since the freeze"):
        art.rerun()
