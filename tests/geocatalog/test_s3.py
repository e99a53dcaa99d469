"""Object storage against a real S3-compatible HTTP server (moto) on 127.0.0.1.

The server is the ``s3`` fixture of ``conftest.py``. Reads and writes go through the same
code paths as real S3: GDAL's ``/vsis3/`` and ``pyarrow.fs.S3FileSystem``, configured from
the standard ``AWS_*`` environment variables, which are set for this module only.
"""

import datetime as dt
import os

import numpy as np
import pyarrow.fs as pafs
import pytest
import rasterio
from affine import Affine

import geocatalog
from geocatalog._catalog import open_catalog
from geocatalog._catalog_build import append_items, build_catalog
from geocatalog._errors import CatalogError
from geocatalog._io import read_raster, save_cog
from geocatalog._load import load_raster
from geocatalog._storage import _gdal_options, filesystem
from geocatalog.testing import synthetic_scene

BUCKET = "bucket"
WHEN = dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)


def _scene(i: int, crs: str = "EPSG:32630") -> geocatalog.GeoTensor:
    transform = Affine(10.0, 0, 400_000 + 300 * i, 0, -10.0, 4_500_000 - 200 * i)
    return synthetic_scene(64, 48, seed=i, crs=crs, transform=transform)


def _assert_same(a: geocatalog.GeoTensor, b: geocatalog.GeoTensor) -> None:
    np.testing.assert_array_equal(np.asarray(a.values), np.asarray(b.values))
    assert a.transform == b.transform
    assert a.crs_string == b.crs_string
    assert a.fill_value == b.fill_value


def test_endpoint_translates_to_gdal_options(s3):
    options = _gdal_options()
    assert options["AWS_S3_ENDPOINT"] == os.environ["AWS_ENDPOINT_URL"].removeprefix("http://")
    assert (options["AWS_HTTPS"], options["AWS_VIRTUAL_HOSTING"]) == ("NO", "FALSE")
    fs, path = filesystem(f"s3://{BUCKET}/k.tif")
    assert isinstance(fs, pafs.S3FileSystem) and path == f"{BUCKET}/k.tif"


def test_save_cog_read_raster_load_raster_round_trip(s3, tmp_path):
    gt = _scene(0)
    local = save_cog(gt, str(tmp_path / "scene.tif"))
    uri = save_cog(gt, f"s3://{BUCKET}/scene.tif")
    assert uri == f"s3://{BUCKET}/scene.tif"
    assert s3.get_file_info(f"{BUCKET}/scene.tif").type == pafs.FileType.File
    assert s3.get_file_info(BUCKET).type == pafs.FileType.Directory
    assert [i.path for i in s3.get_file_info(pafs.FileSelector(BUCKET))] == [f"{BUCKET}/scene.tif"]
    _assert_same(read_raster(uri), read_raster(local))
    _assert_same(read_raster(uri), gt)
    window = ((5, 30), (7, 40))
    _assert_same(
        read_raster(uri, window, indexes=[3, 4]), read_raster(local, window, indexes=[3, 4])
    )
    bounds = (400_100.0, 4_499_600.0, 400_300.0, 4_499_900.0)
    native = dict(bounds=bounds, indexes=(1, 2))
    _assert_same(load_raster(uri, **native), load_raster(local, **native))
    kwargs = dict(bounds=bounds, bounds_crs=gt.crs_string, crs="EPSG:4326", resolution=1e-4,
                  resampling="bilinear")  # fmt: skip
    _assert_same(load_raster(uri, **kwargs), load_raster(local, **kwargs))
    _assert_same(geocatalog.read_from_url(uri, bounds=bounds), load_raster(local, bounds=bounds))


def test_overwrite_is_seen_by_later_reads(s3):
    uri = f"s3://{BUCKET}/overwrite.tif"
    save_cog(_scene(1), uri)
    _assert_same(read_raster(uri), _scene(1))  # fills GDAL's cache for this object
    save_cog(_scene(2), uri)
    _assert_same(read_raster(uri), _scene(2))


def test_missing_object_is_file_not_found(s3):
    with pytest.raises(FileNotFoundError, match="read_raster: no raster object") as info:
        read_raster(f"s3://{BUCKET}/nope.tif")
    assert info.value.filename == f"s3://{BUCKET}/nope.tif"
    with pytest.raises(FileNotFoundError, match="load_raster: no raster object"):
        load_raster(f"s3://{BUCKET}/nope.tif", bounds=(0, 0, 1, 1))
    with pytest.raises(CatalogError, match="no such file or object"):
        open_catalog(f"s3://{BUCKET}/nope.parquet")


def test_gdal_settings_do_not_leak(s3):
    save_cog(_scene(3), f"s3://{BUCKET}/leak.tif")
    assert "AWS_S3_ENDPOINT" not in (rasterio.env.getenv() if rasterio.env.hasenv() else {})
    # without the scoped options GDAL would go to AWS itself, not to the local server
    unreachable = rasterio.Env(AWS_S3_ENDPOINT="127.0.0.1:9", AWS_HTTPS="NO",
                               AWS_VIRTUAL_HOSTING="FALSE", GDAL_HTTP_MAX_RETRY="0")  # fmt: skip
    with unreachable, pytest.raises((geocatalog.RasterReadError, FileNotFoundError)):
        read_raster(f"s3://{BUCKET}/leak.tif")


def test_catalog_on_s3_queries_and_loads_as_local(s3, tmp_path):
    crss = ("EPSG:32630", "EPSG:32630", "EPSG:32631", "EPSG:32630")
    local_paths, uris = [], []
    for i, crs in enumerate(crss):
        local = str(tmp_path / f"scene_{i}.tif")
        save_cog(_scene(i, crs), local, overviews=False)
        with rasterio.open(local, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
            when = WHEN + dt.timedelta(days=10 * i)
            dst.update_tags(TIFFTAG_DATETIME=when.strftime("%Y:%m:%d %H:%M:%S"))
        with open(local, "rb") as src, s3.open_output_stream(f"{BUCKET}/cogs/scene_{i}.tif") as out:
            out.write(src.read())
        local_paths.append(local)
        uris.append(f"s3://{BUCKET}/cogs/scene_{i}.tif")
    local_cat = open_catalog(build_catalog(local_paths, tmp_path / "cat.parquet"))
    # built from the S3 objects (GDAL /vsis3/), written to S3 (local file + one upload)
    remote_cat = open_catalog(build_catalog(uris, f"s3://{BUCKET}/cat.parquet"))
    remote_table, local_table = remote_cat.to_arrow(), local_cat.to_arrow()
    assert sorted(remote_table.column("href").to_pylist()) == sorted(uris)
    assert remote_table.drop_columns("href").equals(local_table.drop_columns("href"))
    lon, lat = (-4.3, -4.0), (40.5, 40.7)
    queries = [
        dict(bbox=(400_000, 4_499_000, 400_500, 4_499_600), crs="EPSG:32630"),
        dict(start=WHEN + dt.timedelta(days=5), end=WHEN + dt.timedelta(days=25)),
        dict(bbox=(lon[0], lat[0], lon[1], lat[1])),
        dict(where={"crs": "EPSG:32631"}),
    ]
    for q in queries:
        assert remote_cat.query(**q).ids == local_cat.query(**q).ids
    hits = remote_cat.query(**queries[0])
    assert len(hits.ids) >= 2
    for sl in hits.iter_slices():
        assert sl.href.startswith(f"s3://{BUCKET}/cogs/")
        local = str(tmp_path / sl.href.rsplit("/", 1)[1])
        _assert_same(sl.load(), load_raster(local))
        _assert_same(sl.load(indexes=(2,)), load_raster(local, indexes=(2,)))


def test_append_items_on_s3_equals_the_local_append(s3, tmp_path):
    local_paths, uris = [], []
    for i in range(4):
        local = save_cog(_scene(10 + i), str(tmp_path / f"app_{i}.tif"), overviews=False)
        uri = save_cog(_scene(10 + i), f"s3://{BUCKET}/app/app_{i}.tif", overviews=False)
        local_paths.append(local)
        uris.append(uri)
    when = dict.fromkeys([*local_paths, *uris], WHEN).__getitem__
    local = build_catalog(local_paths[:2], tmp_path / "app.parquet", datetime_fn=when)
    remote = build_catalog(uris[:2], f"s3://{BUCKET}/app/cat.parquet", datetime_fn=when)
    open_catalog(remote).query(start=WHEN)  # the old version, read once in this process
    # items 1 (again: replaces its row), 2 and 3
    append_items(local, local_paths[1:], datetime_fn=when)
    assert append_items(remote, uris[1:], datetime_fn=when) == remote
    remote_table, local_table = open_catalog(remote).to_arrow(), open_catalog(local).to_arrow()
    assert remote_table.column("id").to_pylist() == local_table.column("id").to_pylist()
    assert len(remote_table) == 4
    assert remote_table.drop_columns("href").equals(local_table.drop_columns("href"))
    assert sorted(remote_table.column("href").to_pylist()) == uris
    assert [i.base_name for i in s3.get_file_info(pafs.FileSelector(f"{BUCKET}/app"))] == [
        "app_0.tif", "app_1.tif", "app_2.tif", "app_3.tif", "cat.parquet"
    ]  # fmt: skip
