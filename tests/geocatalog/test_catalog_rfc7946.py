"""Catalog boxes follow RFC 7946 section 5: ``west > east`` crosses the antimeridian, else plain.

The oracle is a plain-Python interval test per RFC part, written here: a box is one plain
longitude interval when ``west <= east`` (however wide), or ``[west, 180] U [-180, east]``
when ``west > east``; two boxes meet when a part of one meets a part of the other (touching
counts) and their latitudes overlap. Raster footprints are checked against pyproj.
"""

import datetime as dt
import json

import numpy as np
import pyarrow.parquet as pq
import pyproj
import pytest
from affine import Affine

import geocatalog
from geocatalog._catalog import open_catalog
from geocatalog._catalog_build import build_catalog
from geocatalog._errors import GeoValueError

# ------------------------------------------------------------------ oracle (independent)


def _parts(west, east):
    return [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]


def _meets(a, b):
    lon = any(
        p0 <= q1 and q0 <= p1 for p0, p1 in _parts(a[0], a[2]) for q0, q1 in _parts(b[0], b[2])
    )
    return lon and a[1] <= b[3] and b[1] <= a[3]


def _item(name, bbox, geometry=None, when="2024-05-01T10:00:00Z"):
    return {"type": "Feature", "id": name, "geometry": geometry, "bbox": list(bbox),
            "assets": {}, "properties": {"datetime": when}}  # fmt: skip


def _box(lon, lat, half=0.5):
    return (lon - half, lat - half, lon + half, lat + half)


#: Named items: the cities and lons of the issue, and boxes that cross or span the globe.
ITEMS = {
    "paris": _box(2.35, 48.85),
    "tokyo": _box(139.7, 35.7),
    "lon0": _box(0.0, 0.0),
    "lon175": _box(175.0, 0.0),
    "lon179": (178.8, -0.5, 179.6, 0.5),
    "lon-179": (-179.6, -0.5, -178.8, 0.5),
    "crossing": (178.0, 20.0, -178.0, 22.0),  # 4 degrees wide, across 180
    "wide_crossing": (90.0, -40.0, -90.0, -30.0),  # 180 wide, through 180
    "plain340": (-170.0, 60.0, 170.0, 65.0),  # 340 wide, not through 180
    "globe": (-180.0, -90.0, 180.0, 90.0),
    "west_edge": (-180.0, 10.0, -175.0, 12.0),
    "east_edge": (175.0, 10.0, 180.0, 12.0),
}


def _grid_items():
    rng = np.random.default_rng(11)
    out = dict(ITEMS)
    for k in range(60):  # random RFC boxes, about half crossing
        w, e = rng.uniform(-180, 180, 2).round(1)
        s = round(rng.uniform(-80, 70), 1)
        out[f"r{k:02d}"] = (float(w), s, float(e), s + round(rng.uniform(1, 15), 1))
    return out


def _grid_queries():
    rng = np.random.default_rng(12)
    quoted = [(-180, -90, 180, 90), (-170, -60, 170, 60), (170, -10, -170, 10),
              (10, -10, -10, 10), (179.7, -1, -179.7, 1), (-180, -1, -179, 1),
              (179, -1, 180, 1)]  # fmt: skip
    out = [tuple(float(v) for v in q) for q in quoted]
    for lon in np.arange(-180, 180, 15.0):  # small boxes all round the globe
        out.append((lon, -60.0, lon + 2.0, 70.0))
    for _ in range(120):
        w, e = rng.uniform(-180, 180, 2).round(1)
        s = round(rng.uniform(-90, 80), 1)
        out.append((float(w), s, float(e), min(90.0, s + round(rng.uniform(0.5, 40), 1))))
    return out


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    items = _grid_items()
    root = tmp_path_factory.mktemp("rfc")
    path = build_catalog([_item(k, b) for k, b in items.items()], root / "c.parquet",
                         row_group_size=3)  # fmt: skip
    return items, path


# ------------------------------------------------------------------ tests


def test_query_grid_matches_rfc_interval_oracle(grid, tmp_path):
    items, path = grid
    cat = open_catalog(path)
    # the same rows without the list of crossing row groups (as another writer would leave
    # them): the reader must then assume any group may hold one
    table = pq.read_table(path)
    meta = {k: v for k, v in table.schema.metadata.items() if k != b"geocatalog"}
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(table.replace_schema_metadata(meta), foreign, row_group_size=4)
    other = open_catalog(foreign)
    crossing_queries = 0
    for q in _grid_queries():
        expected = sorted(k for k, b in items.items() if _meets(b, q))
        assert sorted(cat.query(q).ids) == expected, q
        assert sorted(other.query(q).ids) == expected, q
        sub = cat.query(start="2024-01-01")  # the row-subset path, not the row-group path
        assert sorted(sub.query(q).ids) == expected, q
        crossing_queries += q[0] > q[2]
    assert crossing_queries > 40


def test_the_cases_of_the_issue(grid):
    cat = open_catalog(grid[1])
    assert {"paris", "tokyo", "lon0", "lon175"} <= set(cat.query((-180, -90, 180, 90)).ids)
    wide = set(cat.query((-170, -60, 170, 60)).ids)  # plain, 340 degrees wide
    assert "lon0" in wide and "paris" in wide and "lon175" not in wide and "lon179" not in wide
    across = set(cat.query((170, -10, -170, 10)).ids)  # crosses: 20 degrees wide
    assert {"lon179", "lon-179", "lon175"} <= across and "lon0" not in across
    swapped = set(cat.query((10, -10, -10, 10)).ids)  # taken as crossing, not swapped back
    assert "lon175" in swapped and "lon0" not in swapped
    for lon in (-179.5, -90.0, 0.0, 2.35, 139.7, 179.5):  # the globe item is found anywhere
        assert "globe" in cat.query(_box(lon, 0.0, 0.1)).ids
    rows = {r["id"]: r["bbox"] for r in cat}
    assert rows["globe"] == {"xmin": -180.0, "ymin": -90.0, "xmax": 180.0, "ymax": 90.0}
    assert (rows["crossing"]["xmin"], rows["crossing"]["xmax"]) == (178.0, -178.0)
    assert (rows["plain340"]["xmin"], rows["plain340"]["xmax"]) == (-170.0, 170.0)


def test_crossing_rows_sit_in_their_own_row_groups_and_are_pruned(grid):
    items, path = grid
    meta = pq.ParquetFile(path).metadata
    listed = json.loads(meta.metadata[b"geocatalog"])["antimeridian_row_groups"]
    table = pq.read_table(path)
    x0, x1 = (table.column("bbox").combine_chunks().field(k).to_numpy() for k in ("xmin", "xmax"))
    starts = np.cumsum([0] + [meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    rows = [slice(starts[g], starts[g + 1]) for g in range(meta.num_row_groups)]
    crossing = {g for g, r in enumerate(rows) if np.any(x0[r] > x1[r])}
    assert sorted(crossing) == listed and listed
    assert all(
        np.all(x0[starts[g] : starts[g + 1]] > x1[starts[g] : starts[g + 1]]) for g in listed
    )
    cat = open_catalog(path)
    far = (-60.0, -90.0, -59.0, 90.0)  # a meridian strip in the Atlantic, far from 180
    assert sorted(cat.query(far).ids) == sorted(k for k, b in items.items() if _meets(b, far))
    read = set(cat._store._groups)
    # a crossing group is read only when its [min xmin, 180] U [-180, max xmax] reaches -60
    for g in listed:
        lo, hi = x0[starts[g] : starts[g + 1]].min(), x1[starts[g] : starts[g + 1]].max()
        assert (g in read) == (lo <= -59.0 or hi >= -60.0)
    assert any(g not in read for g in listed) and len(read) < meta.num_row_groups


def test_geometry_polygons_are_read_as_the_rfc_says(tmp_path):
    ring = [[170, 0], [-170, 0], [-170, 5], [170, 5], [170, 0]]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    globe = {"type": "Polygon", "coordinates": [[[-180, -90], [180, -90], [180, 90],
                                                 [-180, 90], [-180, -90]]]}  # fmt: skip
    items = [
        _item("plain", (-170, 0, 170, 5), polygon),  # as written: 340 wide
        _item("unsplit", (170, 0, -170, 5), polygon),  # its bbox says it crosses 180
        _item("globe", (-180, -90, 180, 90), globe),
    ]
    cat = open_catalog(build_catalog(items, tmp_path / "c.parquet"))
    rows = {r["id"]: r for r in cat}
    assert (rows["plain"]["bbox"]["xmin"], rows["plain"]["bbox"]["xmax"]) == (-170.0, 170.0)
    assert (rows["unsplit"]["bbox"]["xmin"], rows["unsplit"]["bbox"]["xmax"]) == (170.0, -170.0)
    assert rows["globe"]["geometry"].area == 360.0 * 180.0
    assert sorted(cat.query(_box(0, 2)).ids) == ["globe", "plain"]
    assert sorted(cat.query(_box(179.5, 2)).ids) == ["globe", "unsplit"]


def _cog(path, crs, transform, shape):
    gt = geocatalog.testing.synthetic_scene(*shape, seed=1, crs=crs, transform=transform)
    geocatalog.save_cog(gt, str(path), overviews=False)
    return str(path)


def _ring_lonlat(crs, left, bottom, right, top, n=50):
    t = np.linspace(0, 1, n)
    xs = np.r_[left + (right - left) * t, np.full(n, right), right - (right - left) * t,
               np.full(n, left)]  # fmt: skip
    ys = np.r_[np.full(n, bottom), bottom + (top - bottom) * t, np.full(n, top),
               top - (top - bottom) * t]  # fmt: skip
    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)


def test_raster_footprints_global_dateline_and_polar(tmp_path):
    paths = [
        # a global COG in EPSG:4326: 36 x 18 pixels of 10 degrees, -180..180
        _cog(tmp_path / "globe.tif", "EPSG:4326", Affine(10, 0, -180, 0, -10, 90), (18, 36)),
        # UTM zone 60 N, 64 km from easting 800 km: straddles 180 E at 5-6 degrees N
        _cog(
            tmp_path / "z60.tif",
            "EPSG:32660",
            Affine(1000, 0, 800_000, 0, -1000, 660_000),
            (64, 64),
        ),
        # NSIDC polar stereographic north (EPSG:3413), 400 km round the pole
        _cog(
            tmp_path / "pole.tif",
            "EPSG:3413",
            Affine(10_000, 0, -200_000, 0, -10_000, 200_000),
            (40, 40),
        ),
    ]
    cat = open_catalog(build_catalog(paths, tmp_path / "c.parquet"))
    rows = {r["id"]: r["bbox"] for r in cat}
    assert rows["globe"] == {"xmin": -180.0, "ymin": -90.0, "xmax": 180.0, "ymax": 90.0}
    # pyproj oracle for the zone-60 scene: east of 180 is negative, so west > east
    lon, lat = _ring_lonlat("EPSG:32660", 800_000, 596_000, 864_000, 660_000)
    lon = np.asarray(lon)
    west, east = lon[lon > 0].min(), lon[lon < 0].max()
    assert rows["z60"]["xmin"] == pytest.approx(west, abs=1e-3) and west > 179.0
    assert rows["z60"]["xmax"] == pytest.approx(east, abs=1e-3) and east < -179.0
    assert rows["z60"]["ymin"] == pytest.approx(min(lat), abs=1e-3)
    _, lat_p = _ring_lonlat("EPSG:3413", -200_000, -200_000, 200_000, 200_000)
    assert (rows["pole"]["xmin"], rows["pole"]["xmax"], rows["pole"]["ymax"]) == (-180, 180, 90)
    assert rows["pole"]["ymin"] == pytest.approx(min(lat_p), abs=1e-3)

    def ids(q):
        return sorted(cat.query(q).ids)

    assert ids((179.9, 5.5, 180.0, 5.6)) == ["globe", "z60"]  # west side of the line
    assert ids((-180.0, 5.5, -179.9, 5.6)) == ["globe", "z60"]  # east side
    assert ids((170.0, 5.5, 178.0, 5.6)) == ["globe"]  # in between, neither side
    assert ids((0.0, 5.5, 10.0, 5.6)) == ["globe"]
    assert ids((100.0, 89.5, 101.0, 89.9)) == ["globe", "pole"]  # any lon near the pole
    assert ids((-60.0, 89.5, -59.0, 89.9)) == ["globe", "pole"]
    assert ids((-60.0, 80.0, -59.0, 85.0)) == ["globe"]  # outside the polar box


def test_boxes_the_rfc_does_not_define_are_errors(grid):
    cat = open_catalog(grid[1])
    with pytest.raises(GeoValueError, match=r"crosses the antimeridian.*-180 <= right < left"):
        cat.query((190.0, 0.0, 170.0, 1.0))
    with pytest.raises(GeoValueError, match=r"EPSG:32631 has left > right.*EPSG:4326"):
        cat.query((510_000, 0, 500_000, 10_000), crs="EPSG:32631")
    # left <= right outside [-180, 180] is still a plain interval: 170..190 crosses 180
    assert sorted(cat.query((170.0, -10, 190.0, 10)).ids) == sorted(
        cat.query((170.0, -10, -170.0, 10)).ids
    )


def test_reversed_time_window_is_an_error_that_teaches(grid):
    cat = open_catalog(grid[1])
    with pytest.raises(
        GeoValueError,
        match=r"Catalog.query: start must not be after end.*start='2024-06-01', "
        r"end='2024-01-01'.*Swap them: query\(start='2024-01-01', end='2024-06-01'\)",
    ):
        cat.query(start="2024-06-01", end="2024-01-01")
    with pytest.raises(GeoValueError, match="start must not be after end"):
        cat.query((0, 0, 1, 1), start=dt.date(2024, 2, 1), end=dt.datetime(2024, 1, 1))
    assert len(cat.query(start="2024-05-01T10:00:00", end="2024-05-01T10:00:00")) == 0
    assert len(cat.query(start="2024-05-01", end="2024-05-02")) == len(grid[0])


def test_oracle_on_hand_checked_pairs():
    cases = [((170, 0, -170, 1), (179, 0, 179.5, 1), True),
             ((-170, 0, 170, 1), (175, 0, 176, 1), False),
             ((10, 0, -10, 1), (0, 0, 1, 1), False),
             ((-180, -90, 180, 90), (5, 5, 6, 6), True)]  # fmt: skip
    for a, b, want in cases:
        assert _meets(a, b) == _meets(b, a) == want
