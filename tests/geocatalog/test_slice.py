"""GeoSlice: normalisation, validation, JSON round trips and the content hash."""

import datetime as dt
import hashlib
import json
import pickle
import subprocess
import sys

import pytest

import geocatalog as gc
from geocatalog._errors import GeoSliceError, SliceHashMismatchError
from geocatalog._slice import GeoSlice

FULL = dict(
    href="s3://bucket/scene.tif",
    item_id="S2A_20240501",
    bounds=(-3.75, 40.4, -3.7, 40.45),
    bounds_crs="epsg:4326",
    crs=32630,
    resolution=(10, 10.0),
    datetime=dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    indexes=[4, 3, 2],
)


def test_fields_are_normalised():
    sl = GeoSlice(**FULL)
    assert sl.crs == "EPSG:32630" and sl.bounds_crs == "EPSG:4326"
    assert sl.resolution == (10.0, 10.0) and sl.indexes == (4, 3, 2)
    assert sl.datetime == "2024-05-01T10:30:00Z"
    assert GeoSlice("a.tif", datetime="2024-05-01").datetime == "2024-05-01T00:00:00Z"
    assert GeoSlice("a.tif", datetime="2024-05-01T10:30:00.5Z").datetime == (
        "2024-05-01T10:30:00.500000Z"
    )
    assert (
        GeoSlice("a.tif", bounds=(-0.0, 0, 1, 1)).hash
        == GeoSlice("a.tif", bounds=(0, 0, 1, 1)).hash
    )
    assert GeoSlice("a.tif", window=((0, 5), (2, 9))).window == ((0, 5), (2, 9))


def test_equal_content_is_equal_object_and_hash():
    a, b = GeoSlice(**FULL), GeoSlice(**{**FULL, "crs": "EPSG:32630", "indexes": (4, 3, 2)})
    assert a == b and hash(a) == hash(b) and a.hash == b.hash
    assert len({a, b}) == 1
    assert GeoSlice(**{**FULL, "item_id": "other"}).hash != a.hash
    assert pickle.loads(pickle.dumps(a)) == a


def test_hash_is_sha256_of_canonical_json():
    sl = GeoSlice(**FULL)
    d = sl.to_dict()
    content = {k: v for k, v in d.items() if k != "hash"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    assert d["hash"] == sl.hash == hashlib.sha256(text.encode()).hexdigest()


def test_json_round_trip_exact():
    sl = GeoSlice(**FULL)
    d = json.loads(json.dumps(sl.to_dict()))
    assert d["bounds"] == [-3.75, 40.4, -3.7, 40.45] and d["indexes"] == [4, 3, 2]
    back = GeoSlice.from_dict(d)
    assert back == sl and hash(back) == hash(sl) and back.hash == sl.hash
    win = GeoSlice("a.tif", window=((1, 4), (2, 8)), shape=(3, 3))
    assert GeoSlice.from_dict(json.loads(json.dumps(win.to_dict()))) == win


def test_hash_stable_in_fresh_process():
    sl = GeoSlice(**FULL)
    code = (
        "import json, sys; from geocatalog._slice import GeoSlice; "
        "sl = GeoSlice.from_dict(json.loads(sys.stdin.read())); print(sl.hash)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(sl.to_dict()),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == sl.hash


def test_from_dict_checks_hash_and_keys():
    d = GeoSlice(**FULL).to_dict()
    with pytest.raises(SliceHashMismatchError, match="does not match its content"):
        GeoSlice.from_dict({**d, "item_id": "edited"})
    assert GeoSlice.from_dict({k: v for k, v in {**d, "item_id": "x"}.items() if k != "hash"})
    with pytest.raises(GeoSliceError, match="unknown keys \\['colour'\\]"):
        GeoSlice.from_dict({**d, "colour": 1})
    with pytest.raises(GeoSliceError, match="no 'href'"):
        GeoSlice.from_dict({"bounds": [0, 0, 1, 1]})
    with pytest.raises(GeoSliceError, match="needs a mapping"):
        GeoSlice.from_dict([("href", "a.tif")])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(href=""), "href must be a non-empty"),
        (dict(href=None), "href must be a non-empty"),
        (dict(bounds=(0, 0, 0, 1)), "left < right and bottom < top"),
        (dict(bounds=(0, 1, 1, 0)), "left < right and bottom < top"),
        (dict(bounds=(0, 0, 1)), "4 finite numbers"),
        (dict(bounds=(0, 0, float("nan"), 1)), "4 finite numbers"),
        (dict(bounds=(0, 0, 1, 1), window=((0, 1), (0, 1))), "bounds or window, not both"),
        (dict(resolution=10, shape=(3, 3)), "resolution or shape, not both"),
        (dict(resolution=0), "positive pixel sizes"),
        (dict(resolution=(10, -10)), "positive pixel sizes"),
        (dict(shape=(0, 3)), "two positive integers"),
        (dict(shape=(2.5, 3)), "two positive integers"),
        (dict(window=((3, 1), (0, 1))), "0 <= start < stop"),
        (dict(window=((0, 1.5), (0, 1))), "four integers"),
        (dict(bounds_crs=4326), "without bounds"),
        (dict(indexes=(0,)), "1-based"),
        (dict(indexes=()), "1-based"),
        (dict(bands=(4, 3, 2)), r"bands= was renamed indexes= \(1-based.*indexes=\(4, 3, 2\)"),
        (dict(datetime="yesterday"), "ISO 8601"),
        (dict(item_id=5), "item_id must be a string"),
    ],
)
def test_bad_input_refused(kwargs, match):
    kwargs = {"href": "a.tif", **kwargs}
    with pytest.raises(GeoSliceError, match=match) as info:
        GeoSlice(**kwargs)
    assert isinstance(info.value, ValueError) and isinstance(info.value, gc.GeoError)


def test_unknown_crs_refused():
    with pytest.raises(gc.CRSError, match="pyproj") as info:
        GeoSlice("a.tif", crs="EPSG:999999")
    assert isinstance(info.value, ValueError)


def test_old_bands_spelling_names_indexes():
    old = {**GeoSlice("a.tif", indexes=(2,)).to_dict(), "bands": [2]}
    del old["indexes"], old["hash"]
    with pytest.raises(GeoSliceError, match=r"from_dict: bands= was renamed indexes= \(1-based"):
        GeoSlice.from_dict(old)
    with pytest.raises(AttributeError, match=r"renamed GeoSlice\.indexes .*indexes=\(2,\)"):
        GeoSlice("a.tif", indexes=2).bands  # noqa: B018


def test_slice_from_a_stac_row_crossing_the_antimeridian_is_one_interval():
    from geocatalog._slice import slice_from_row

    row = {"href": "a.tif", "id": "a", "bbox": {"xmin": 175.0, "ymin": -5.0, "xmax": -178.0,
                                                 "ymax": 5.0}}  # fmt: skip
    sl = slice_from_row(row)
    assert sl.bounds == (175.0, -5.0, 182.0, 5.0) and sl.bounds_crs == "EPSG:4326"
    plain = slice_from_row({**row, "bbox": {"xmin": -3.0, "ymin": -5.0, "xmax": 4.0, "ymax": 5.0}})
    assert plain.bounds == (-3.0, -5.0, 4.0, 5.0)
