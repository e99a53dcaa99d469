"""GeostrophicWind against metpy.calc and analytic fields; the dry-air column average
against an independent NumPy trapezoid formula. Kernels: NumPy == ``jax.jit``.

Tolerances. Geostrophic wind vs MetPy 1.7 (``geostrophic_wind`` with
``lat_lon_grid_deltas``), our ``radius=6370997`` (pyproj's "sphere", MetPy's): u_g to
1e-10 of max|u_g| (same stencils, float64); v_g differs by MetPy's great-circle chord
``dx`` vs our arc along the parallel, so after multiplying ours by arc/chord it agrees to
1e-10 of max|v_g|, and raw to rtol 3.9e-5 (``(Δλ/2)² sin²φ / 6`` at 60N on this 2° grid).
Column average: rtol 1e-12 against NumPy (float64). NumPy vs jit: rtol 1e-5 (float32).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import metpy.calc as mpcalc
import metpy.constants as mpconst
import numpy as np
import pytest
import xarray as xr
from metpy.units import units

import pipekit as pk
from xr_toolz import atm
from xr_toolz.atm import _dynamics
from xr_toolz.calc import CalcValueError, Curl
from xr_toolz.calc._grid import grid_of

MP_RADIUS = 6370997.0  # pyproj Geod(ellps="sphere"), used by lat_lon_grid_deltas
G = float(mpconst.g.m_as("m/s^2"))


def heights(dlon: float = 2.0) -> xr.Dataset:
    lat, lon = np.arange(-60.0, 61.0, 2.5), np.arange(0.0, 60.0, dlon)
    lam, phi = np.meshgrid(np.deg2rad(lon), np.deg2rad(lat))
    z = 5500.0 + 100.0 * np.sin(2 * phi) * np.cos(lam) + 50.0 * np.cos(phi) ** 2
    return xr.Dataset(
        {"z": (("lat", "lon"), z, {"units": "m", "standard_name": "geopotential_height"})},
        {"lat": lat, "lon": lon},
    )


def metpy_wind(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = ds.lat.values, ds.lon.values
    dx, dy = mpcalc.lat_lon_grid_deltas(lon, lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        ug, vg = mpcalc.geostrophic_wind(ds.z.values * units.m, dx, dy, lat[:, None] * units.deg)
    return ug.m_as("m/s"), vg.m_as("m/s")


def test_geostrophic_wind_equals_metpy_up_to_its_chord_dx() -> None:
    ds = heights()
    wind = atm.GeostrophicWind(radius=MP_RADIUS)(ds)
    ug, vg = metpy_wind(ds)
    keep = np.abs(ds.lat.values) >= 5.0
    u, v = wind["u"].values[keep], wind["v"].values[keep]
    ug, vg = ug[keep], vg[keep]
    np.testing.assert_allclose(u, ug, rtol=0, atol=1e-10 * np.abs(ug).max())
    # MetPy's dx is the great-circle chord 2R asin(cos φ sin(Δλ/2)); ours the arc R cos φ Δλ.
    phi, half = np.deg2rad(ds.lat.values[keep])[:, None], np.deg2rad(2.0) / 2
    arc_over_chord = (np.cos(phi) * 2 * half) / (2 * np.arcsin(np.cos(phi) * np.sin(half)))
    np.testing.assert_allclose(v * arc_over_chord, vg, rtol=0, atol=1e-10 * np.abs(vg).max())
    # Raw, v_g differs by 1 - chord/arc ~ (Δλ/2)² sin²φ / 6 <= 3.9e-5 at 60° on a 2° grid.
    assert np.all(np.abs(v - vg) <= 3.9e-5 * np.abs(vg) + 1e-10 * np.abs(vg).max())
    assert np.abs(v - vg).max() > 1e-6 * np.abs(vg).max()  # the chord effect is real


def test_geostrophic_wind_of_a_zonal_slope_is_analytic_and_masks_the_tropics() -> None:
    lat, lon = np.arange(-30.0, 31.0, 1.0), np.arange(10.0, 20.0, 1.0)
    a = 300.0  # Z = 5500 - a φ (φ in radians): u_g = g a / (f R), v_g = 0, exact on a line
    z = 5500.0 - a * np.deg2rad(lat)[:, None] + 0.0 * lon
    ds = xr.Dataset({"z": (("lat", "lon"), z, {"units": "m"})}, {"lat": lat, "lon": lon})
    wind = atm.GeostrophicWind()(ds)
    f = 2 * _dynamics.OMEGA * np.sin(np.deg2rad(lat))
    tropics = np.abs(lat) < 5.0
    assert np.isnan(wind["u"].values[tropics]).all() and np.isnan(wind["v"].values[tropics]).all()
    want = G * a / (f[~tropics] * atm.GeostrophicWind().radius)
    np.testing.assert_allclose(wind["u"].values[~tropics], want[:, None] + 0 * lon, rtol=1e-12)
    np.testing.assert_allclose(wind["v"].values[~tropics], 0.0, atol=1e-10)  # ulp(5500)-level
    assert wind["u"].attrs["units"] == "m s-1"
    assert wind["v"].attrs["standard_name"] == "geostrophic_northward_wind"
    only_equator = atm.GeostrophicWind(equator_mask=0.0)(ds)["u"].values
    assert np.isnan(only_equator[lat == 0.0]).all() and not np.isnan(only_equator[lat != 0]).any()


def test_geopotential_in_m2_s2_is_divided_by_g_and_other_dims_and_order_are_kept() -> None:
    ds = heights()
    want = atm.GeostrophicWind()(ds)
    phi = (ds.z * G).assign_attrs(units="m2 s-2")
    stacked = xr.concat([phi, 2 * phi], dim="time").transpose("lon", "time", "lat")
    got = atm.GeostrophicWind("phi")(xr.Dataset({"phi": stacked.assign_attrs(units="m2 s-2")}))
    assert got["u"].dims == ("lon", "time", "lat")
    for k in ("u", "v"):
        w = want[k].values
        tol = {"rtol": 1e-12, "atol": 1e-11 * np.nanmax(np.abs(w))}  # float64 rounding
        np.testing.assert_allclose(got[k].isel(time=0).T.values, w, **tol)
        np.testing.assert_allclose(got[k].isel(time=1).T.values, 2 * w, **tol)


def test_geostrophic_wind_feeds_curl() -> None:
    """The u/v Dataset is what xr_toolz.calc.Curl takes (geostrophic vorticity)."""
    wind = atm.GeostrophicWind()(heights())
    zeta = Curl()(wind)
    assert zeta.dims == ("lat", "lon") and np.isfinite(zeta.values[30:40, 1:-1]).all()


def test_geostrophic_kernel_numpy_equals_jit_and_operator_traces() -> None:
    ds = heights()
    grid = grid_of("t", ds.z, "lon", "lat", "spherical", 6371008.8)
    # Both sides see the float32-rounded heights (jit runs in float32): ulp(5500 m) = 5e-4 m
    # would otherwise be 7e-4 m/s of wind; differences of close float32 values are exact.
    ds = ds.assign(z=ds.z.astype(np.float32))
    z = ds.z.values.astype(np.float64)
    want = _dynamics.geostrophic_wind(z, grid, 1, 0)
    got = jax.jit(lambda a: _dynamics.geostrophic_wind(a, grid, 1, 0))(jnp.asarray(z))
    for w, g in zip(want, got, strict=True):
        # float32 rounding of ~100 m anomalies (one-sided edge stencils amplify it): 1e-5 of max
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-5, atol=1e-5 * np.nanmax(np.abs(w)))
    op = atm.GeostrophicWind()
    jds = jax.tree.map(jnp.asarray, ds)
    out = eqx.filter_jit(lambda o, d: o(d))(op, jds)
    atol = 1e-5 * np.nanmax(np.abs(want[0]))
    np.testing.assert_allclose(np.asarray(out["u"].data), want[0], rtol=1e-5, atol=atol)


def test_geostrophic_wind_errors_teach() -> None:
    with pytest.raises(pk.ConfigError, match="GeostrophicWind: equator_mask must be"):
        atm.GeostrophicWind(equator_mask=95)
    with pytest.raises(pk.ConfigError, match="GeostrophicWind: u and v must be different"):
        atm.GeostrophicWind(u="w", v="w")
    ds = heights()
    with pytest.raises(atm.AtmInputError, match="height='gh' is not a variable"):
        atm.GeostrophicWind("gh")(ds)
    bad = ds.assign(z=ds.z.assign_attrs(units="ft"))
    with pytest.raises(atm.AtmInputError, match=r"must carry a CF 'units' attr.*got units='ft'"):
        atm.GeostrophicWind()(bad)
    with pytest.raises(CalcValueError, match="cannot tell which dimension is x"):
        atm.GeostrophicWind()(ds.rename(lon="i"))


# --- column-averaged dry-air mole fraction -------------------------------------------


def profile(seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    level = np.array([1000.0, 950.0, 850.0, 700.0, 500.0, 300.0, 150.0, 50.0, 10.0])
    shape = (2, level.size, 3)
    ch4 = 1900.0 - 300.0 * (1 - level / 1000.0)[None, :, None] + rng.normal(0, 5, shape)
    q = 0.015 * (level / 1000.0)[None, :, None] ** 3 * rng.uniform(0.5, 1.0, shape)
    dims = ("time", "level", "site")
    return xr.Dataset(
        {"ch4": (dims, ch4, {"units": "ppb"}), "q": (dims, q, {"units": "kg/kg"})},
        {"level": ("level", level, {"units": "hPa"}), "site": [1, 2, 3]},
    )


def numpy_xch4(ch4_ppb, q, p, basis: str) -> np.ndarray:
    """Independent: mole fractions from moles, then trapezoids over p of dry air."""
    md, mw = float(mpconst.Md.m_as("kg/mol")), float(mpconst.Mw.m_as("kg/mol"))
    x_h2o = (q / mw) / (q / mw + (1 - q) / md)  # water's mole fraction in moist air
    x_dry = ch4_ppb / (1 - x_h2o) if basis == "wet" else ch4_ppb
    num = np.trapezoid(x_dry * (1 - q), p, axis=1)
    return num / np.trapezoid(1 - q + 0 * x_dry, p, axis=1)


@pytest.mark.parametrize("basis", ["dry", "wet"])
def test_column_average_equals_numpy_trapezoid(basis: str) -> None:
    ds = profile()
    got = atm.ColumnAverageDryAirMoleFraction(basis=basis)(ds)["xch4"]
    want = numpy_xch4(ds.ch4.values, ds.q.values, ds.level.values * 100.0, basis)
    assert got.dims == ("time", "site") and "level" not in got.coords
    np.testing.assert_allclose(got.values, want, rtol=1e-12)
    assert got.attrs["units"] == "ppb"
    assert got.attrs["long_name"] == "column-averaged dry-air mole fraction of methane"
    if basis == "wet":  # the conversion matters at these humidities
        dry = atm.ColumnAverageDryAirMoleFraction()(ds)["xch4"].values
        assert np.all(got.values > dry + 1.0)


def test_constant_profile_gives_that_value_and_units_convert() -> None:
    ds = profile()
    eps = float((mpconst.Mw / mpconst.Md).m_as(""))
    x_wet = 1.8e-6 / (1 + ds.q / (eps * (1 - ds.q)))  # a constant 1800 ppb dry, made wet
    ds = ds.assign(ch4=x_wet.assign_attrs(units="mol mol-1"))
    got = atm.ColumnAverageDryAirMoleFraction(basis="wet")(ds)["xch4"].values
    np.testing.assert_allclose(got, 1800.0, rtol=1e-13)
    flipped = ds.isel(level=slice(None, None, -1))  # top-first, Pa, ppm out
    flipped = flipped.assign_coords(level=("level", flipped.level.values * 100, {"units": "Pa"}))
    ppm = atm.ColumnAverageDryAirMoleFraction(basis="wet", units="ppm")(flipped)["xch4"]
    np.testing.assert_allclose(ppm.values, 1.8, rtol=1e-13)


def test_full_pressure_variable_nan_column_and_dry_atmosphere() -> None:
    ds = profile()
    p3 = (ds.level * 100.0 + 0 * ds.q).transpose(*ds.q.dims).assign_attrs(units="Pa")
    ds = ds.assign(p=p3)
    want = atm.ColumnAverageDryAirMoleFraction()(ds)["xch4"].values
    got = atm.ColumnAverageDryAirMoleFraction(pressure="p")(ds)["xch4"].values
    np.testing.assert_allclose(got, want, rtol=1e-13)
    ch4 = ds.ch4.values.copy()
    ch4[1, 4, 2] = np.nan
    nan_out = atm.ColumnAverageDryAirMoleFraction()(ds.assign(ch4=(ds.ch4.dims, ch4, ds.ch4.attrs)))
    assert np.isnan(nan_out["xch4"].values[1, 2]) and np.isfinite(nan_out["xch4"].values[0]).all()
    no_q = atm.ColumnAverageDryAirMoleFraction(specific_humidity=None)(ds)["xch4"].values
    p = ds.level.values * 100.0
    want_dry = np.trapezoid(ds.ch4.values, p, axis=1) / np.trapezoid(np.ones_like(p), p)
    np.testing.assert_allclose(no_q, want_dry, rtol=1e-12)


def test_column_kernel_numpy_equals_jit_and_operator_traces() -> None:
    ds = profile()
    x, q = ds.ch4.values * 1e-9, ds.q.values
    p = np.broadcast_to(ds.level.values[None, :, None] * 100.0, x.shape)
    want = atm.column_average_dry_mole_fraction(x, p, 1, q, "wet")
    got = jax.jit(lambda a, b, c: atm.column_average_dry_mole_fraction(a, b, 1, c, "wet"))(
        jnp.asarray(x), jnp.asarray(p), jnp.asarray(q)
    )
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)
    op = atm.ColumnAverageDryAirMoleFraction(basis="wet")
    out = eqx.filter_jit(lambda o, d: o(d)["xch4"])(op, jax.tree.map(jnp.asarray, ds))
    np.testing.assert_allclose(np.asarray(out.data), want * 1e9, rtol=1e-5)


def test_column_average_errors_teach() -> None:
    with pytest.raises(pk.ConfigError, match="basis must be one of"):
        atm.ColumnAverageDryAirMoleFraction(basis="moist")
    with pytest.raises(pk.ConfigError, match="basis='wet' converts to dry air"):
        atm.ColumnAverageDryAirMoleFraction(basis="wet", specific_humidity=None)
    with pytest.raises(pk.ConfigError, match="units must be one of"):
        atm.ColumnAverageDryAirMoleFraction(units="%")
    ds = profile()
    with pytest.raises(atm.AtmInputError, match="dim='lev' must be a dimension"):
        atm.ColumnAverageDryAirMoleFraction(dim="lev")(ds)
    with pytest.raises(
        atm.AtmInputError, match=r"mole_fraction 'ch4' must carry.*got units='kg/kg'"
    ):
        atm.ColumnAverageDryAirMoleFraction()(ds.assign(ch4=ds.ch4.assign_attrs(units="kg/kg")))
    shuffled = ds.assign_coords(level=("level", ds.level.values[[1, 0, 2, 3, 4, 5, 6, 7, 8]]))
    shuffled.level.attrs["units"] = "hPa"
    with pytest.raises(atm.AtmInputError, match="must be strictly monotonic"):
        atm.ColumnAverageDryAirMoleFraction()(shuffled)
