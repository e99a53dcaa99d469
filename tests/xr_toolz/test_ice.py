"""xr_toolz.ice: true cell areas, extent/area and ice-edge distance against pyproj and scipy."""

from __future__ import annotations

import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pyproj
import pytest
import xarray as xr
from scipy import ndimage

import pipekit as pk
import xr_toolz as xt
from xr_toolz.ice._grid import _projection_constants
from xr_toolz.ice._kernels import (
    PolarStereo,
    area_kernel,
    edge_distance_kernel,
    extent_kernel,
    scale_at,
)
from xr_toolz.testing import polar_sea_ice

NORTH = pyproj.CRS("EPSG:3413")


@pytest.fixture(scope="module")
def sic() -> xr.DataArray:
    return polar_sea_ice(periods=3)


def _to_geo(crs: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)


def _grid(crs: str, half: float, res: float, units: str = "1") -> xr.DataArray:
    """A bare (y, x) grid of zeros with ``crs_wkt`` in attrs: the CRS found by attr."""
    c = np.arange(-half + res / 2, half, res)
    return xr.DataArray(
        np.zeros((c.size, c.size)),
        dims=("y", "x"),
        coords={"y": c[::-1], "x": c},
        attrs={"units": units, "crs_wkt": pyproj.CRS(crs).to_wkt()},
    )


# ---------------------------------------------------------------- scale factor, cell area


@pytest.mark.parametrize("code", ["EPSG:3413", "EPSG:3976", "EPSG:3411", "EPSG:32661"])
def test_scale_factor_squared_is_pyprojs_areal_scale(code):
    crs = pyproj.CRS(code)
    sign = 1.0 if code != "EPSG:3976" else -1.0
    lat = sign * np.array([55.0, 60.0, 70.0, 80.0, 89.5, 90.0])
    lon = np.array([-170.0, -45.0, 0.0, 30.0, 100.0, 10.0])
    factors = pyproj.Proj(crs).get_factors(lon, lat)
    k = xt.ice.scale_factor(crs, lat)
    np.testing.assert_allclose(k**2, factors.areal_scale, rtol=1e-9)  # pyproj: numeric, ~1e-11
    np.testing.assert_allclose(k, factors.meridional_scale, rtol=1e-9)
    np.testing.assert_allclose(k, factors.parallel_scale, rtol=1e-9)
    # the traceable k(x, y) of the edge-distance kernel, from projected points
    x, y = pyproj.Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True).transform(lon, lat)
    cf, (a, e, c, _) = crs.to_cf(), _projection_constants(crs)
    pole = PolarStereo(cf["false_easting"], cf["false_northing"], a, e, c)
    np.testing.assert_allclose(scale_at(np, x, y, pole) ** 2, factors.areal_scale, rtol=1e-9)


def test_cell_area_equals_geodesic_area_of_the_cell(sic):
    area = xt.ice.cell_area(sic)
    assert area.attrs["units"] == "m2" and area.dims == ("y", "x")
    geod, to_geo = NORTH.get_geod(), _to_geo(NORTH)
    x, y, h = sic.x.values, sic.y.values, 12_500.0
    s = np.linspace(-h, h, 21)[:-1]  # 20 points a side: the projected square's boundary
    side = np.full(20, h)
    for i, j in [(0, 0), (71, 72), (10, 130), (140, 3), (50, 90)]:
        px = x[j] + np.concatenate([s, side, -s, -side])
        py = y[i] + np.concatenate([-side, s, side, -s])
        true, _ = geod.polygon_area_perimeter(*to_geo.transform(px, py))
        corners, _ = geod.polygon_area_perimeter(
            *to_geo.transform(x[j] + np.array([-h, h, h, -h]), y[i] + np.array([-h, -h, h, h]))
        )
        # dx dy / k(centre)^2 is exact to second order in the cell size (25 km / 6400 km)
        assert abs(true) == pytest.approx(float(area[i, j]), rel=2e-6)
        assert abs(corners) == pytest.approx(float(area[i, j]), rel=1e-6)


def test_cell_area_south_and_km_coordinates():
    da = _grid("EPSG:3976", 1000e3, 50e3)
    km = da.assign_coords(x=("x", da.x.values / 1000, {"units": "km"}))
    km = km.assign_coords(y=("y", da.y.values / 1000, {"units": "km"}))
    np.testing.assert_allclose(xt.ice.cell_area(km).values, xt.ice.cell_area(da).values)
    lon, lat = _to_geo(pyproj.CRS("EPSG:3976")).transform(*np.meshgrid(da.x, da.y))
    k2 = pyproj.Proj("EPSG:3976").get_factors(lon, lat).areal_scale
    np.testing.assert_allclose(xt.ice.cell_area(da).values, 50e3**2 / k2, rtol=1e-9)


def test_crs_from_argument_grid_mapping_and_attrs(sic):
    by_gm = xt.ice.cell_area(sic)
    bare = sic.drop_vars("crs").copy()
    bare.attrs = {"units": "1"}
    np.testing.assert_array_equal(xt.ice.cell_area(bare, crs="EPSG:3413").values, by_gm.values)
    with pytest.raises(xt.ice.IceValueError, match=r"cell_area: the DataArray declares no CRS"):
        xt.ice.cell_area(bare)
    with pytest.raises(xt.ice.IceValueError, match=r"crs='EPSG:3976' differs from the CRS"):
        xt.ice.cell_area(sic, crs="EPSG:3976")
    with pytest.raises(xt.ice.IceValueError, match=r"must be polar stereographic.*Pseudo-Mercator"):
        xt.ice.cell_area(bare, crs="EPSG:3857")
    with pytest.raises(xt.ice.IceValueError, match=r"grid_mapping names 'crs', which is not"):
        xt.ice.cell_area(sic.drop_vars("crs"))
    with pytest.raises(xt.ice.IceValueError, match=r"coordinate 'x' must be projected metres"):
        xt.ice.cell_area(sic.assign_coords(x=("x", sic.x.values, {"units": "degrees"})))


# ---------------------------------------------------------------- extent and area


def test_extent_and_area_equal_the_numpy_formula(sic):
    area_km2 = xt.ice.cell_area(sic).values / 1e6
    c = sic.values
    with np.errstate(invalid="ignore"):
        ice = c >= 0.15
    want_e = (ice * area_km2).sum(axis=(1, 2))
    want_a = np.where(ice, c * area_km2, 0.0).sum(axis=(1, 2))
    ext, ar = xt.ice.SeaIceExtent()(sic), xt.ice.SeaIceArea()(sic)
    np.testing.assert_allclose(ext.values, want_e, rtol=1e-12)
    np.testing.assert_allclose(ar.values, want_a, rtol=1e-12)
    assert ext.dims == ("time",) and ext.attrs["units"] == "km2"
    assert ext.attrs["standard_name"] == "sea_ice_extent" and "crs" in ext.coords
    # percent units, and the grid dims in the other order, give the same numbers
    pct = polar_sea_ice(periods=3, units="%").transpose("x", "time", "y")
    np.testing.assert_allclose(xt.ice.SeaIceArea()(pct).values, want_a, rtol=1e-12)
    np.testing.assert_allclose(xt.ice.SeaIceExtent()(pct).values, want_e, rtol=1e-12)


def test_extent_of_a_polar_cap_is_its_geodesic_area():
    """Ice north of 80° N on a 5 km grid: extent == the ellipsoidal cap's area (pyproj.Geod)."""
    da = _grid("EPSG:3413", 1200e3, 5e3)
    _, lat = _to_geo(NORTH).transform(*np.meshgrid(da.x, da.y))
    cap = da.copy(data=(lat >= 80.0).astype(float))
    lons = np.linspace(-180.0, 180.0, 3601)[:-1]
    cap_area, _ = NORTH.get_geod().polygon_area_perimeter(lons, np.full_like(lons, 80.0))
    got = float(xt.ice.SeaIceExtent()(cap)) * 1e6
    # pixelation of the 1110 km circle by 5 km cells: a few 1e-4 of the area
    assert got == pytest.approx(abs(cap_area), rel=1e-3)
    # A naive dx*dy sum (no scale factor) is off by the scale (k ~ 0.97-0.98 here): 4-5 %
    naive = float(cap.sum()) * 5e3**2
    assert abs(naive / abs(cap_area) - 1) > 0.03


def test_extent_area_kernels_numpy_equals_jit(sic):
    c = np.asarray(sic.values, np.float32)
    area = xt.ice.cell_area(sic).values / 1e6
    for kernel in (extent_kernel, area_kernel):
        eager = kernel(c, area, 0.15, (1, 2))
        jitted = jax.jit(lambda v, kernel=kernel: kernel(v, area, 0.15, (1, 2)))(jnp.asarray(c))
        np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-6)


def test_operators_trace_end_to_end(sic):
    x32 = sic.astype(np.float32)
    for op in (xt.ice.SeaIceExtent(), xt.ice.SeaIceArea(), xt.ice.IceEdgeDistance()):
        eager = op(x32)
        jitted = eqx.filter_jit(op)(jax.tree.map(jnp.asarray, x32))
        assert isinstance(jitted.data, jax.Array) and jitted.dims == eager.dims
        np.testing.assert_allclose(np.asarray(jitted.data), eager.values, rtol=1e-5, atol=1e-3)


# ---------------------------------------------------------------- edge distance


def _scipy_signed(c: np.ndarray, dy: float, dx: float, thr: float = 0.15):
    valid = ~np.isnan(c)
    ice, water = valid & (c >= thr), valid & (c < thr)
    d_w, idx_w = ndimage.distance_transform_edt(~water, sampling=(dy, dx), return_indices=True)
    d_i, idx_i = ndimage.distance_transform_edt(~ice, sampling=(dy, dx), return_indices=True)
    signed = np.where(ice, d_w, np.where(water, -d_i, np.nan))
    nearest = np.where(ice[None], idx_w, idx_i)
    return signed, nearest


def test_edge_distance_projected_equals_scipy_edt(sic):
    got = xt.ice.IceEdgeDistance(true_distance=False)(sic)
    assert got.attrs["units"] == "km" and got.dims == sic.dims and "lat" in got.coords
    for t in range(sic.sizes["time"]):
        want, _ = _scipy_signed(sic.values[t], 25.0, 25.0)
        np.testing.assert_allclose(got.values[t], want, rtol=1e-12, equal_nan=True)


def test_edge_distance_true_is_close_to_geodesic(sic):
    c = sic.values[0]
    got = xt.ice.IceEdgeDistance()(sic).values[0]
    _, nearest = _scipy_signed(c, 25.0, 25.0)
    lat, lon = sic.lat.values, sic.lon.values
    ok = ~np.isnan(c)
    i, j = nearest[0][ok], nearest[1][ok]
    _, _, dist = NORTH.get_geod().inv(lon[ok], lat[ok], lon[i, j], lat[i, j])
    # Simpson's rule on 1/k along the segment vs the geodesic between the same two centres.
    # Where several centres are equally near in projection, scipy may pick another one
    # than the kernel: its geodesic distance differs by the change of k (< 2e-3).
    rel = np.abs(np.abs(got[ok]) / (dist / 1000) - 1)
    assert np.median(rel) < 1e-6 and np.quantile(rel, 0.9) < 1e-5 and rel.max() < 2e-3
    # the correction matters: the projected distance is off by the scale factor
    proj = np.abs(xt.ice.IceEdgeDistance(true_distance=False)(sic).values[0][ok])
    assert np.median(np.abs(proj / (dist / 1000) - 1)) > 1e-3  # k is 0.97-1.0 here


def test_edge_distance_kernel_numpy_equals_jit_and_no_edge_is_inf():
    rng = np.random.default_rng(3)
    c = rng.uniform(0, 1, (2, 11, 9))
    c[:, 2:4, 3:6] = np.nan
    x, y = np.cumsum(rng.uniform(1, 3, 9)), -np.cumsum(rng.uniform(1, 3, 11))  # non-uniform
    eager = edge_distance_kernel(c, 0.4, (1, 2), x, y)
    jitted = jax.jit(lambda v: edge_distance_kernel(v, 0.4, (1, 2), x, y))(jnp.asarray(c))
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-5, equal_nan=True)
    all_ice = edge_distance_kernel(np.ones((1, 3, 3)), 0.15, (1, 2), x[:3], y[:3])
    assert np.all(all_ice == np.inf)


# ---------------------------------------------------------------- synthetic data, config


def test_polar_sea_ice_is_cf_and_seasonal(sic):
    full = polar_sea_ice()
    lon, lat = _to_geo(NORTH).transform(*np.meshgrid(full.x, full.y))
    np.testing.assert_allclose(full.lat.values, lat)
    np.testing.assert_allclose(full.lon.values, lon)
    assert pyproj.CRS.from_wkt(full.crs.attrs["crs_wkt"]) == NORTH
    assert np.diff(full.x.values).tolist() == [25_000.0] * 143
    c = full.values
    assert np.isnan(c).any() and np.all(np.isnan(c) == np.isnan(c[:1]))  # fixed land
    miz = (c > 0.15) & (c < 0.8)
    assert miz.sum() > 100  # a marginal ice zone
    ext = xt.ice.SeaIceExtent()(full)
    # March maximum, September minimum
    assert int(np.argmax(ext.values)) == 2 and int(np.argmin(ext.values)) == 8
    np.testing.assert_array_equal(polar_sea_ice(seed=0).values, c, strict=True)


def test_config_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"SeaIceExtent: threshold must be .* got 15"):
        xt.ice.SeaIceExtent(threshold=15)
    with pytest.raises(pk.ConfigError, match=r"SeaIceArea: dim must be the two .* got 'y'"):
        xt.ice.SeaIceArea(dim="y")
    with pytest.raises(pk.ConfigError, match=r"IceEdgeDistance: crs must be None .* got 3413"):
        xt.ice.IceEdgeDistance(crs=3413)
    with pytest.raises(pk.ConfigError, match=r"IceEdgeDistance: true_distance must be a bool"):
        xt.ice.IceEdgeDistance(true_distance=1)


def test_input_errors_teach(sic):
    with pytest.raises(xt.ice.IceTypeError, match=r"SeaIceExtent takes .* got Dataset"):
        xt.ice.SeaIceExtent()(sic.to_dataset())
    bad = sic.assign_attrs(units="K")
    with pytest.raises(xt.ice.IceValueError, match=r"SeaIceArea: concentration units .* 'K'"):
        xt.ice.SeaIceArea()(bad)
    with pytest.raises(xt.ice.IceValueError, match=r"IceEdgeDistance: the DataArray has no dim"):
        xt.ice.IceEdgeDistance(dim=("row", "col"))(sic)


def test_yaml_pickle_round_trip(sic):
    op = xt.ice.SeaIceArea(threshold=0.3, crs="EPSG:3413")
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert pk.config_hash(again) == pk.config_hash(op)
    np.testing.assert_array_equal(again(sic).values, pickle.loads(pickle.dumps(op))(sic).values)
