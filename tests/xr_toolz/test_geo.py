"""xr_toolz.geo against independent oracles: NumPy boolean indexing, pandas label slices,
shapely.contains_xy, pyproj's geodesic polygon areas, the sphere's 4πR², and xarray's
``weighted(...).mean``; and NumPy == ``eqx.filter_jit`` on JAX-backed inputs."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
import xarray as xr

import pipekit as pk
from xr_toolz.geo import (
    EARTH_RADIUS,
    ApplyRegionMask,
    AreaWeights,
    GeoTypeError,
    GeoValueError,
    SubsetBBox,
    SubsetTime,
    WeightedMean,
    weighted_mean,
)


def field(lat: np.ndarray, lon: np.ndarray, nt: int = 3, seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    time = pd.date_range("2020-01-01", periods=nt, freq="D")
    data = rng.normal(280.0, 10.0, (nt, lat.size, lon.size))
    return xr.DataArray(
        data,
        dims=("time", "lat", "lon"),
        coords={"time": time, "lat": lat, "lon": lon},
        attrs={"units": "K"},
        name="t2m",
    )


LON360 = np.arange(0.0, 360.0, 2.5)  # 0 .. 357.5
LON180 = np.arange(-180.0, 180.0, 2.5)  # -180 .. 177.5
LAT_ERA5 = np.linspace(90.0, -90.0, 73)  # descending, poles are centres


def jitted(op: pk.Operator, x):
    return eqx.filter_jit(op)(jax.tree.map(jnp.asarray, x))


# --- SubsetBBox ---------------------------------------------------------------------


def test_bbox_in_180_convention_on_360_data_equals_boolean_indexing():
    da = field(LAT_ERA5, LON360)
    out = SubsetBBox(-30, 40, -20, 35)(da)
    as180 = (LON360 + 180) % 360 - 180
    keep = (as180 >= -30) & (as180 <= 40)
    order = np.argsort(as180[keep])  # eastward from -30: 330..357.5 then 0..40
    lon_want = LON360[keep][order]
    lat_keep = (LAT_ERA5 >= -20) & (LAT_ERA5 <= 35)
    want = da.values[:, lat_keep][:, :, keep][:, :, order]
    np.testing.assert_array_equal(out.lon.values, lon_want)
    assert lon_want[0] == 330.0 and lon_want[-1] == 40.0  # both bounds are labels: included
    np.testing.assert_array_equal(out.lat.values, LAT_ERA5[lat_keep])  # stays descending
    assert out.lat.values[0] == 35.0 and out.lat.values[-1] == -20.0
    np.testing.assert_array_equal(out.values, want)
    assert out.attrs == {"units": "K"} and out.dims == da.dims


def test_bbox_across_antimeridian_concatenates_two_pieces_from_lon_min():
    da = field(LAT_ERA5, LON180)
    out = SubsetBBox(170, -170, -90, 90)(da)
    east, west = LON180 >= 170, LON180 <= -170
    want = np.concatenate([da.values[..., east], da.values[..., west]], axis=-1)
    np.testing.assert_array_equal(
        out.lon.values, [170, 172.5, 175, 177.5, -180, -177.5, -175, -172.5, -170]
    )
    np.testing.assert_array_equal(out.values, want)


def test_bbox_in_360_convention_on_180_data():
    da = field(LAT_ERA5, LON180)
    out = SubsetBBox(300, 360, 0, 10)(da)
    keep = (LON180 >= -60) & (LON180 <= 0)
    np.testing.assert_array_equal(out.lon.values, LON180[keep])
    np.testing.assert_array_equal(out.lat.values, [10, 7.5, 5, 2.5, 0])


def test_bbox_whole_circle_and_dataset_and_jit():
    ds = xr.Dataset({"t2m": field(LAT_ERA5, LON180), "z": field(LAT_ERA5, LON180, seed=1)})
    op = SubsetBBox(-180, 180, -45, 45)
    out = op(ds)
    assert out.sizes["lon"] == LON180.size and out.sizes["lat"] == 37
    across = SubsetBBox(150, -150, -10, 10)
    got, want = jitted(across, ds.astype(np.float32)), across(ds.astype(np.float32))
    assert isinstance(got["t2m"].data, jax.Array)
    np.testing.assert_array_equal(got.lon.values, want.lon.values)
    np.testing.assert_array_equal(np.asarray(got["z"].data), want["z"].values)


def test_bbox_errors_teach():
    da = field(LAT_ERA5, LON360)
    with pytest.raises(GeoValueError, match=r"SubsetBBox: the box .* holds no cell centre"):
        SubsetBBox(1, 2, 0, 10)(da)
    with pytest.raises(pk.ConfigError, match="SubsetBBox: lat_min must be <= lat_max"):
        SubsetBBox(0, 10, 30, 10)
    with pytest.raises(pk.ConfigError, match=r"lon_max must be a number of degrees in"):
        SubsetBBox(0, 400, 0, 10)
    with pytest.raises(GeoValueError, match="lon='longitude' must name a dimension"):
        SubsetBBox(0, 10, 0, 10, lon="longitude")(da)
    with pytest.raises(GeoTypeError, match=r"SubsetBBox takes an xarray\.DataArray"):
        SubsetBBox(0, 10, 0, 10)(da.values)


# --- SubsetTime ---------------------------------------------------------------------


def test_subset_time_is_inclusive_label_slice():
    time = pd.date_range("2019-12-25", "2020-03-10", freq="12h")
    da = xr.DataArray(np.arange(time.size, dtype=float), dims="time", coords={"time": time})
    out = SubsetTime("2020-02-01", "2020-02-29")(da)
    t = time.to_numpy()
    keep = (t >= np.datetime64("2020-02-01")) & (t < np.datetime64("2020-03-01"))
    np.testing.assert_array_equal(out.values, da.values[keep])
    assert out.time.values[-1] == np.datetime64("2020-02-29T12:00")  # the whole end day
    open_start = SubsetTime(None, "2019-12-31")(da)
    np.testing.assert_array_equal(open_start.values, da.values[t < np.datetime64("2020-01-01")])
    got = jitted(SubsetTime("2020-01-05", "2020-01-06"), da.astype(np.float32))
    np.testing.assert_array_equal(
        np.asarray(got.data),
        da.values[(t >= np.datetime64("2020-01-05")) & (t < np.datetime64("2020-01-07"))],
    )


def test_subset_time_errors_teach():
    time = pd.to_datetime(["2020-01-03", "2020-01-01", "2020-01-02"])
    da = xr.DataArray([1.0, 2.0, 3.0], dims="time", coords={"time": time})
    with pytest.raises(GeoValueError, match=r"must be sorted ascending.*x.sortby\('time'\)"):
        SubsetTime("2020-01-01", "2020-01-02")(da)
    with pytest.raises(GeoValueError, match="SubsetTime: no 'time' step lies in"):
        SubsetTime("2021-01-01", "2021-02-01")(da.sortby("time"))
    with pytest.raises(pk.ConfigError, match="SubsetTime: start must be None or an ISO 8601"):
        SubsetTime("next tuesday", None)
    with pytest.raises(pk.ConfigError, match="SubsetTime: end must be None or an ISO 8601"):
        SubsetTime(None, 20200101)


# --- ApplyRegionMask ----------------------------------------------------------------

POLY = [[-20.0, -15.0], [35.0, -5.0], [10.0, 40.0], [-15.0, 20.0]]


def test_region_mask_equals_shapely_contains_xy():
    lat = np.arange(-88.75, 90, 2.5)
    da = field(lat, LON180)
    out = ApplyRegionMask(POLY)(da)
    glon, glat = np.meshgrid(LON180, lat)
    inside = shapely.contains_xy(shapely.Polygon(POLY), glon, glat)
    assert 50 < inside.sum() < inside.size
    np.testing.assert_array_equal(out.values, np.where(inside, da.values, np.nan))
    # the same region on data in 0..360: the longitudes are compared in the polygon's frame
    da360 = field(lat, LON360)
    out360 = ApplyRegionMask(POLY)(da360)
    g180, glat = np.meshgrid((LON360 + 180) % 360 - 180, lat)
    inside360 = shapely.contains_xy(shapely.Polygon(POLY), g180, glat)
    np.testing.assert_array_equal(out360.values, np.where(inside360, da360.values, np.nan))


def test_region_mask_hand_computed_with_drop_and_integers():
    # Square 0..10 x 0..10. Centres (lon, lat): (5, 5) inside; (10, 5) on the edge is
    # outside (contains: interior only); (5, 15), (-5, 5), (15, 5) outside.
    lon, lat = np.array([-5.0, 5.0, 10.0, 15.0]), np.array([15.0, 5.0])
    da = xr.DataArray(
        np.arange(8, dtype=np.int16).reshape(2, 4),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
    )
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    out = ApplyRegionMask(square)(da)
    nan = np.nan
    np.testing.assert_array_equal(out.values, [[nan, nan, nan, nan], [nan, 5.0, nan, nan]])
    assert out.dtype == np.float32  # integers become float32 (NaN needs a float)
    cropped = ApplyRegionMask(square, drop=True)(da)
    assert cropped.lon.values.tolist() == [5.0] and cropped.lat.values.tolist() == [5.0]
    assert cropped.values.tolist() == [[5.0]]


def test_region_across_antimeridian_written_continuously():
    da = field(np.array([-5.0, 0.0, 5.0]), LON180, nt=1)
    op = ApplyRegionMask([[171, -3], [189, -3], [189, 3], [171, 3]], drop=True)
    out = op(da)
    # eastward from 171: 172.5, 175, 177.5, then -180 (=180), -177.5, -175, -172.5
    np.testing.assert_array_equal(out.lon.values, [172.5, 175, 177.5, -180, -177.5, -175, -172.5])
    np.testing.assert_array_equal(out.lat.values, [0.0])
    idx = [np.flatnonzero(v == LON180)[0] for v in out.lon.values]
    np.testing.assert_array_equal(out.values, da.values[:, 1:2, idx])
    got = jitted(op, da.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(got.data), op(da.astype(np.float32)).values)


def test_region_config_errors_teach():
    with pytest.raises(pk.ConfigError, match="at least 3 \\[lon, lat\\] vertices"):
        ApplyRegionMask([[0, 0], [1, 1]])
    with pytest.raises(pk.ConfigError, match=r"valid simple polygon.*Self-intersection"):
        ApplyRegionMask([[0, 0], [10, 10], [10, 0], [0, 10]])
    with pytest.raises(pk.ConfigError, match="latitudes must lie in \\[-90, 90\\]"):
        ApplyRegionMask([[0, 0], [10, 95], [10, 0]])
    again = pk.loads_yaml(pk.dumps_yaml(ApplyRegionMask(POLY)))
    assert again.polygon == tuple(tuple(p) for p in POLY)


# --- AreaWeights / WeightedMean -------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (np.arange(-89.5, 90, 1.0), np.arange(0.5, 360, 1.0)),
        (LAT_ERA5, LON180),  # descending, polar cells clipped at ±90
        (np.arange(-88.75, 90, 2.5), np.arange(-178.75, 180, 2.5)),
    ],
)
def test_areas_sum_to_the_sphere(lat, lon):
    area = AreaWeights()(field(lat, lon, nt=1))
    assert area.dims == ("lat", "lon") and area.attrs["units"] == "m2"
    np.testing.assert_allclose(float(area.sum()), 4 * np.pi * EARTH_RADIUS**2, rtol=1e-12)
    weights = AreaWeights(normalize=True)(field(lat, lon, nt=1))
    np.testing.assert_allclose(float(weights.sum()), 1.0, rtol=1e-12)
    assert weights.attrs["units"] == "1"


def test_cell_areas_equal_pyproj_geodesic_polygons_on_the_sphere():
    lat, lon = np.arange(-88.75, 90, 2.5), np.arange(1.25, 360, 2.5)
    area = AreaWeights()(field(lat, lon, nt=1)).values
    geod = pyproj.Geod(a=EARTH_RADIUS, b=EARTH_RADIUS)
    t = np.linspace(0.0, 1.0, 201)  # parallels densified: geodesic edges follow them
    for i, j in [(0, 3), (10, 50), (35, 100), (71, 143)]:
        s, n, w, e = lat[i] - 1.25, lat[i] + 1.25, lon[j] - 1.25, lon[j] + 1.25
        lons = np.concatenate([w + (e - w) * t, e + (w - e) * t])
        lats = np.concatenate([np.full(t.size, s), np.full(t.size, n)])
        ref, _ = geod.polygon_area_perimeter(lons, lats)
        np.testing.assert_allclose(area[i, j], abs(ref), rtol=1e-7)


def test_normalized_weights_are_cos_lat_times_exact_dphi():
    lat = np.arange(-88.75, 90, 2.5)  # edges exactly at -90..90: no clipping
    w = AreaWeights(normalize=True)(field(lat, LON360, nt=1)).values
    # sin(φ+h) - sin(φ-h) = 2 cos φ sin h: the exact cell height is cos φ times 2 sin(Δφ/2)
    exact = np.cos(np.deg2rad(lat)) * 2 * np.sin(np.deg2rad(1.25))
    want = np.broadcast_to((exact / exact.sum() / LON360.size)[:, None], w.shape)
    np.testing.assert_allclose(w, want, rtol=1e-12)
    # ERA5 grid: the polar cell is the cap from 88.75 to 90, by hand
    polar = AreaWeights()(field(LAT_ERA5, LON360, nt=1)).values[0, 0]
    hand = EARTH_RADIUS**2 * np.deg2rad(2.5) * (1 - np.sin(np.deg2rad(88.75)))
    np.testing.assert_allclose(polar, hand, rtol=1e-12)


@pytest.mark.parametrize("kind", ["area", "cos_lat"])
@pytest.mark.parametrize("dim", [("lat", "lon"), "lat", ("time", "lon")])
def test_weighted_mean_equals_xarray_weighted_with_nan(kind, dim):
    da = field(LAT_ERA5, LON360, nt=4)
    values = da.values.copy()
    values[0, :5, :7] = np.nan
    values[2] = np.nan  # a whole time step without data: NaN for (lat, lon) means
    da = da.copy(data=values)
    if kind == "area":
        w = AreaWeights()(da)
    else:
        w = xr.DataArray(np.cos(np.deg2rad(LAT_ERA5)), dims="lat", coords={"lat": LAT_ERA5})
    want = da.weighted(w).mean(dim)
    got = WeightedMean(dim, weights=kind)(da)
    assert got.dims == want.dims and got.attrs == {"units": "K"}
    np.testing.assert_allclose(got.values, want.transpose(*got.dims).values, rtol=1e-12)
    jit_got = jitted(WeightedMean(dim, weights=kind), da.astype(np.float32))
    np.testing.assert_allclose(np.asarray(jit_got.data), want.values, rtol=1e-5, equal_nan=True)


def test_weighted_mean_kernel_numpy_equals_jit():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 6)).astype(np.float32)
    x[1, 2, :] = np.nan
    w = rng.uniform(0.1, 1.0, (1, 5, 6))
    eager = weighted_mean(x, w, (1, 2))
    traced = jax.jit(lambda v: weighted_mean(v, w, (1, 2)))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(traced), eager, rtol=1e-6)


def test_weighted_mean_errors_teach():
    with pytest.raises(pk.ConfigError, match="WeightedMean: weights must be 'area' or 'cos_lat'"):
        WeightedMean(weights="gaussian")
    with pytest.raises(GeoValueError, match=r"WeightedMean: dim \['depth'\] not among"):
        WeightedMean(("lat", "depth"))(field(LAT_ERA5, LON360, nt=1))
    with pytest.raises(GeoValueError, match="AreaWeights: lat needs at least 2 cells"):
        AreaWeights()(field(np.array([0.0]), LON360, nt=1))
