"""GeoParquet catalog: build from COGs and STAC, query against a brute-force shapely oracle."""

import datetime as dt
import json
import os

import numpy as np
import pyarrow.parquet as pq
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine

import geocatalog
from geocatalog._catalog import open_catalog
from geocatalog._catalog_build import append_items, build_catalog
from geocatalog._errors import CatalogError, GeoValueError

ZONES = ("EPSG:32630", "EPSG:32631", "EPSG:32633", "EPSG:32760", "EPSG:32660", "EPSG:32601")
N_ITEMS = 40
EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
PIXEL = 1000.0  # 64 x 64 px of 1 km: 64 km scenes


def _layout(i: int, rng: np.random.Generator) -> tuple[str, Affine, dt.datetime]:
    crs = ZONES[i % len(ZONES)]
    if crs == "EPSG:32660":  # straddles 180 E (easting ~834 km at the equator)
        x0, y0 = rng.uniform(790_000, 820_000), rng.uniform(100_000, 1_500_000)
    elif crs == "EPSG:32601":  # straddles 180 W (easting ~166 km)
        x0, y0 = rng.uniform(120_000, 150_000), rng.uniform(100_000, 1_500_000)
    elif crs == "EPSG:32760":
        x0, y0 = rng.uniform(200_000, 700_000), rng.uniform(8_000_000, 9_900_000)
    else:
        x0, y0 = rng.uniform(200_000, 700_000), rng.uniform(4_000_000, 5_000_000)
    when = EPOCH + dt.timedelta(seconds=int(rng.integers(0, 2 * 365 * 86400)))
    return crs, Affine(PIXEL, 0, x0, 0, -PIXEL, y0), when


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """40 COGs across six UTM zones (two straddle the antimeridian), dated over two years."""
    root = tmp_path_factory.mktemp("cogs")
    rng = np.random.default_rng(7)
    out = []
    for i in range(N_ITEMS):
        crs, transform, when = _layout(i, rng)
        path = str(root / f"scene_{i:02d}.tif")
        gt = geocatalog.testing.synthetic_scene(64, 64, seed=i, crs=crs, transform=transform)
        geocatalog.save_cog(gt, path, overviews=False)
        with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
            dst.update_tags(TIFFTAG_DATETIME=when.strftime("%Y:%m:%d %H:%M:%S"))
        out.append({"id": f"scene_{i:02d}", "path": path, "crs": crs, "transform": transform,
                    "datetime": when})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def catalog_path(scenes, tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "cogs.parquet"
    return build_catalog([s["path"] for s in scenes], path, row_group_size=8)


def _stac_item(scene, geometry):
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": scene["id"],
        "geometry": json.loads(shapely.to_geojson(geometry)),
        "bbox": list(geometry.bounds),
        "properties": {
            "datetime": scene["datetime"].isoformat().replace("+00:00", "Z"),
            "proj:epsg": int(scene["crs"].split(":")[1]),
            "proj:transform": list(scene["transform"])[:6],
            "proj:shape": [64, 64],
            "eo:cloud_cover": float(int(scene["id"][-2:]) % 7),
            "platform": "sentinel-2a",
        },
        "assets": {
            "thumbnail": {"href": "thumb.png", "roles": ["thumbnail"]},
            "visual": {"href": os.path.basename(scene["path"]), "roles": ["data"]},
        },
    }


# ------------------------------------------------------------------ oracle (independent)


def _ring(bounds, crs, n=21):
    left, bottom, right, top = bounds
    t = np.linspace(0, 1, n + 2)[:-1]
    xs = np.r_[left + (right - left) * t, [right] * len(t), right - (right - left) * t,
               [left] * len(t)]  # fmt: skip
    ys = np.r_[[bottom] * len(t), bottom + (top - bottom) * t, [top] * len(t),
               top - (top - bottom) * t]  # fmt: skip
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(xs, ys)
    # continuous longitudes: no split, intersection tested under +-360 shifts instead
    return shapely.Polygon(np.c_[np.unwrap(lon, period=360), lat])


def _oracle(scenes, bounds, crs, start, end):
    if crs == "EPSG:4326":
        left, bottom, right, top = bounds
        q = shapely.box(left, bottom, right + 360 if left > right else right, top)
    else:
        q = _ring(bounds, crs)
    hits = []
    for s in scenes:
        if (start is not None and s["datetime"] < start) or (
            end is not None and s["datetime"] >= end
        ):
            continue
        t = s["transform"]
        foot = _ring((t.c, t.f + 64 * t.e, t.c + 64 * t.a, t.f), s["crs"])
        shifted = [shapely.affinity.translate(q, xoff=k) for k in (-360, 0, 360)]
        if any(shapely.intersects(foot, g) for g in shifted):
            hits.append(s["id"])
    return sorted(hits)


def _random_query(rng, scenes):
    s = scenes[rng.integers(len(scenes))]
    t = s["transform"]
    cx, cy = t.c + 32 * t.a + rng.normal(0, 60_000), t.f + 32 * t.e + rng.normal(0, 60_000)
    lon, lat = pyproj.Transformer.from_crs(s["crs"], "EPSG:4326", always_xy=True).transform(cx, cy)
    lon = (lon + 180) % 360 - 180
    half = rng.uniform(0.05, 1.5)
    kind = rng.choice(["4326", "4326", "3857", "utm"])
    if kind == "4326":
        left, right = (lon - half + 180) % 360 - 180, (lon + half + 180) % 360 - 180
        bounds, crs = (left, lat - half, right, lat + half), "EPSG:4326"  # left > right crosses
    elif kind == "3857":
        x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(
            lon, lat
        )
        bounds, crs = (x - half * 1e5, y - half * 1e5, x + half * 1e5, y + half * 1e5), "EPSG:3857"
    else:
        bounds, crs = (cx - half * 1e5, cy - half * 1e5, cx + half * 1e5, cy + half * 1e5), s["crs"]
    start = end = None
    if rng.random() < 0.8:
        start = EPOCH + dt.timedelta(days=float(rng.uniform(-30, 700)))
        end = start + dt.timedelta(days=float(rng.uniform(10, 400)))
    return bounds, crs, start, end


# ------------------------------------------------------------------ tests


def test_200_random_queries_match_bruteforce(scenes, catalog_path, tmp_path):
    cat = open_catalog(catalog_path)
    stac_paths = []
    for s, row in zip(scenes, sorted(cat, key=lambda r: r["id"]), strict=True):
        p = tmp_path / f"{s['id']}.json"
        p.write_text(json.dumps(_stac_item(s, row["geometry"])))
        stac_paths.append(str(p))
    stac = open_catalog(build_catalog(stac_paths, tmp_path / "stac.parquet", row_group_size=16))
    rng = np.random.default_rng(2024)
    nonempty = crossing = 0
    for _ in range(200):
        bounds, crs, start, end = _random_query(rng, scenes)
        expected = _oracle(scenes, bounds, crs, start, end)
        got = cat.query(bounds, crs=crs, start=start, end=end)
        assert sorted(got.ids) == expected, (bounds, crs, start, end)
        assert sorted(stac.query(bounds, crs=crs, start=start, end=end).ids) == expected
        nonempty += bool(expected)
        crossing += crs == "EPSG:4326" and bounds[0] > bounds[2]
    assert nonempty > 50 and crossing >= 1


def test_antimeridian_footprints_are_split(catalog_path):
    rows = {r["id"]: r for r in open_catalog(catalog_path)}
    for i in (4, 5):  # EPSG:32660 and EPSG:32601 scenes straddle 180 degrees
        geom = rows[f"scene_{i:02d}"]["geometry"]
        assert geom.geom_type == "MultiPolygon"
        assert geom.bounds[0] == -180 and geom.bounds[2] == 180
        box = rows[f"scene_{i:02d}"]["bbox"]  # RFC 7946 covering: west > east
        assert box["xmin"] == max(p.bounds[0] for p in geom.geoms) > 170
        assert box["xmax"] == min(p.bounds[2] for p in geom.geoms) < -170
    box = open_catalog(catalog_path).query((179.0, -90, -179.0, 90))
    assert {"scene_04", "scene_05"} <= set(box.ids)


def test_geo_metadata_is_geoparquet_1_1(catalog_path):
    pf = pq.ParquetFile(catalog_path)
    geo = json.loads(pf.schema_arrow.metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    col = geo["columns"]["geometry"]
    assert col["encoding"] == "WKB"
    assert set(col["geometry_types"]) == {"Polygon", "MultiPolygon"}
    assert "crs" not in col  # omitted = OGC:CRS84
    # RFC 7946 section 5: the file bbox holds every footprint part; west > east crosses 180.
    # The scenes straddle 180 and leave their widest empty stretch over the Atlantic
    # (zone 1 ends near -179.6, zone 30 starts near -6.5), so the shortest box crosses.
    west, south, east, north = col["bbox"]
    assert west > east
    box_parts = [(west, 180.0), (-180.0, east)]
    footprints = [shapely.from_wkb(g) for g in pq.read_table(catalog_path)["geometry"].to_pylist()]
    for geom in footprints:
        for a, b_s, b, t in (p.bounds for p in getattr(geom, "geoms", [geom])):
            assert any(lo <= a and b <= hi for lo, hi in box_parts) and south <= b_s <= t <= north
    assert min(g.bounds[1] for g in footprints) == south
    schema = pf.schema_arrow
    for key, path in col["covering"]["bbox"].items():
        assert path == ["bbox", key]
        assert str(schema.field("bbox").type.field(key).type) == "double"
    assert str(schema.field("datetime").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("transform").type.value_type) == "double"
    crossing = sum(g.bounds[0] == -180 and g.bounds[2] == 180 for g in footprints)
    assert 0 < crossing < N_ITEMS  # plain rows, then crossing ones in groups of their own
    assert pf.metadata.num_row_groups == -(-(N_ITEMS - crossing) // 8) - (-crossing // 8)
    stats = pf.metadata.row_group(0).column(1).statistics  # bbox.xmin
    assert stats is not None and stats.has_min_max


def test_rows_follow_hilbert_order_and_columns(scenes, catalog_path):
    table = pq.read_table(catalog_path)
    by_id = {s["id"]: s for s in scenes}
    for row in table.drop_columns(["geometry"]).to_pylist():
        s = by_id[row["id"]]
        assert row["crs"] == s["crs"] and row["transform"] == list(s["transform"])[:6]
        assert (row["height"], row["width"], row["count"], row["dtype"]) == (64, 64, 13, "uint16")
        assert row["datetime"] == s["datetime"] and os.path.samefile(row["href"], s["path"])
    from geocatalog._geoparquet import hilbert_index

    b = table.column("bbox").combine_chunks()
    x = [b.field(k).to_numpy() for k in ("xmin", "ymin", "xmax", "ymax")]
    crossing = x[0] > x[2]  # RFC 7946: [xmin, 180] U [-180, xmax], centred near 180
    centre = np.where(crossing, (x[0] + x[2] + 360) / 2, (x[0] + x[2]) / 2)
    h = hilbert_index(np.where(centre > 180, centre - 360, centre), (x[1] + x[3]) / 2)
    assert np.all(np.diff(crossing.astype(int)) >= 0)  # crossing rows last
    for part in (~crossing, crossing):
        assert np.all(np.diff(h[part].astype(np.int64)) >= 0)


def test_duckdb_reads_catalog(catalog_path):
    duckdb = pytest.importorskip("duckdb")
    count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{catalog_path}')").fetchall()[0][0]
    assert count == N_ITEMS


def test_stac_columns_and_asset_choice(scenes, tmp_path):
    item = _stac_item(scenes[0], shapely.box(0, 0, 1, 1))
    path = build_catalog([item], tmp_path / "one.parquet")
    row = open_catalog(path).to_arrow().to_pylist()[0]
    assert row["href"] == os.path.basename(scenes[0]["path"])  # role "data", not thumbnail
    assert row["cloud_cover"] == 0.0 and row["platform"] == "sentinel-2a"
    assert row["crs"] == scenes[0]["crs"] and row["height"] == 64


def test_slices_sample_where_and_chaining(scenes, catalog_path):
    cat = open_catalog(catalog_path)
    by_id = {s["id"]: s for s in scenes}
    for sl in cat.iter_slices():
        s = by_id[sl.item_id]
        t = s["transform"]
        assert sl.bounds == (t.c, t.f - 64 * PIXEL, t.c + 64 * PIXEL, t.f)
        assert sl.bounds_crs == s["crs"]
        assert sl.datetime == s["datetime"].strftime("%Y-%m-%dT%H:%M:%SZ")
        # The slice loads exactly the item's raster (Case 12: slice -> load_raster).
        assert sl.load().transform == t
    day = scenes[3]["datetime"].date()
    assert [sl.item_id for sl in cat.iter_slices_for_date(day)] == [
        s["id"] for s in scenes if s["datetime"].date() == day
    ]
    assert cat.sample(10, seed=1).ids == cat.sample(10, seed=1).ids
    assert cat.sample(10, seed=1).ids != cat.sample(10, seed=2).ids
    assert sorted(cat.query(where={"crs": "EPSG:32631"}).ids) == sorted(
        s["id"] for s in scenes if s["crs"] == "EPSG:32631"
    )
    first_year = cat.query(end="2024-01-01")
    chained = first_year.query(where=lambda t: np.asarray(t["crs"].to_pylist()) == "EPSG:32630")
    assert sorted(chained.ids) == sorted(
        s["id"] for s in scenes if s["crs"] == "EPSG:32630" and s["datetime"].year == 2023
    )
    empty = cat.query((0.0, 0.0, 0.1, 0.1))
    assert len(empty) == 0 and empty.ids == [] and list(empty.iter_slices()) == []
    assert empty.to_arrow().num_rows == 0


def test_append_items_rebuilds_atomically(scenes, tmp_path):
    path = build_catalog([s["path"] for s in scenes[:5]], tmp_path / "c.parquet")
    append_items(path, [s["path"] for s in scenes[3:8]])
    assert sorted(open_catalog(path).ids) == [s["id"] for s in scenes[:8]]
    assert os.listdir(tmp_path) == ["c.parquet"]  # no temporary file left behind


def test_datetime_fn_overrides_tag(scenes, tmp_path):
    when = dt.datetime(2020, 6, 1, 12)
    path = build_catalog([scenes[0]["path"]], tmp_path / "c.parquet", datetime_fn=lambda p: when)
    assert next(iter(open_catalog(path)))["datetime"] == when.replace(tzinfo=dt.UTC)


def test_errors_teach(scenes, catalog_path, tmp_path):
    cat = open_catalog(catalog_path)
    with pytest.raises(GeoValueError, match=r"bbox must be \(left, bottom, right, top\)"):
        cat.query((0, 0, 1))
    with pytest.raises(GeoValueError, match="n must be in"):
        cat.sample(1000)
    with pytest.raises(GeoValueError, match="does not exist; columns are"):
        cat.query(where={"nope": 1})
    with pytest.raises(CatalogError, match="ids must be unique"):
        build_catalog([scenes[0]["path"]] * 2, tmp_path / "dup.parquet")
    with pytest.raises(CatalogError, match="not a readable Parquet file"):
        open_catalog(tmp_path / "missing.parquet")
    with pytest.raises(GeoValueError, match="ISO 8601"):
        cat.query(start="yesterday")


def test_to_geopandas(catalog_path):
    cat = open_catalog(catalog_path)
    try:
        import geopandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="needs geopandas"):
            cat.to_geopandas()
    else:
        assert len(cat.to_geopandas()) == N_ITEMS


def test_queries_read_only_the_row_groups_their_statistics_allow(tmp_path):
    # 60 one-degree boxes along the equator, 3 per row group; every 4th item has no time.
    items = [
        {"type": "Feature", "id": f"i{k:02d}", "geometry": None, "assets": {},
         "bbox": [k, 0.0, k + 1.0, 1.0],
         "properties": {"datetime": None if k % 4 == 0 else f"2024-{k % 12 + 1:02d}-10"}}
        for k in range(60)
    ]  # fmt: skip
    path = build_catalog(items, tmp_path / "c.parquet", row_group_size=3)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 20
    hot = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i)
           for i in range(meta.row_group(0).num_columns)}  # fmt: skip
    for name in ("bbox.xmin", "bbox.ymax", "datetime"):  # read as a copy: PLAIN, no codec
        assert (
            hot[name].compression == "UNCOMPRESSED" and "RLE_DICTIONARY" not in hot[name].encodings
        )
    assert hot["geometry"].compression == "ZSTD"

    def oracle(x0, x1, start=None, end=None):
        out = []
        for it in items:
            when = it["properties"]["datetime"]
            if (start or end) and when is None:
                continue
            if (start and when < start) or (end and when >= end):
                continue
            if it["bbox"][0] <= x1 and it["bbox"][2] >= x0:
                out.append(it["id"])
        return sorted(out)

    cat = open_catalog(path)
    assert cat._store._groups == {} and cat._store._head is None  # open read the footer only
    assert sorted(cat.query((10.5, 0.2, 12.5, 0.8)).ids) == oracle(10.5, 12.5)
    assert sorted(cat._store._groups) == [3, 4]  # rows 9-14 hold x in [9, 15]
    assert cat._store._head is None
    assert sorted(cat.query((7.5, 0.2, 16.5, 0.8), start="2024-01-01").ids) == oracle(
        7.5, 16.5, "2024-01-01"
    )
    assert sorted(cat.query((20.2, 0, 20.4, 1), start="2024-01-01", end="2024-12-31").ids) == (
        oracle(20.2, 20.4, "2024-01-01", "2024-12-31")
    )
    assert sorted(cat.query((0, 0, 60, 1)).ids) == oracle(0, 60)  # untimed: null times kept
    assert len(cat.query((0, 0, 60, 1), start="2000-01-01")) == 45
    assert sorted(cat.query(start="2024-03-01", end="2024-05-01").ids) == oracle(
        -1, 99, "2024-03-01", "2024-05-01"
    )
    assert len(cat.query((100.0, 0.0, 101.0, 1.0))) == 0
