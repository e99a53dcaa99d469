"""xr_toolz.atm against metpy.calc on shared inputs; NumPy kernels vs jax.jit.

Tolerances: rtol 1e-12 against MetPy (same formulas, same constants, float64; only the
order of floating-point operations differs); rtol 1e-5 between NumPy float64 and
``jax.jit`` (float32 unless jax x64 is on).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import metpy.calc as mpcalc
import numpy as np
import pytest
import xarray as xr
from metpy.units import units

import pipekit as pk
from xr_toolz import atm
from xr_toolz.atm import _kernels

RTOL = 1e-12


def column(seed: int = 0) -> xr.Dataset:
    """A (level, lat, lon) Dataset: t (K) on hPa levels, td, e (hPa), q (g/kg), p (Pa)."""
    rng = np.random.default_rng(seed)
    level = np.array([1000.0, 925.0, 850.0, 700.0, 500.0, 300.0])
    shape = (level.size, 3, 4)
    t = 300.0 - 60.0 * (1.0 - level / 1000.0)[:, None, None] + rng.normal(0, 2, shape)
    td = t - rng.uniform(0.5, 15.0, shape)
    q = rng.uniform(0.5, 18.0, shape)
    e = rng.uniform(1.0, 30.0, shape)
    dims = ("level", "lat", "lon")
    coords = {
        "level": ("level", level, {"units": "hPa"}),
        "lat": np.linspace(-30.0, 30.0, 3),
        "lon": np.arange(4.0),
    }
    p = np.broadcast_to(level[:, None, None] * 100.0, shape).copy()
    return xr.Dataset(
        {
            "t": (dims, t, {"units": "K"}),
            "td": (dims, td, {"units": "K"}),
            "q": (dims, q, {"units": "g/kg"}),
            "e": (dims, e, {"units": "hPa"}),
            "p": (dims, p, {"units": "Pa"}),
        },
        coords,
    )


def mp(ds: xr.Dataset, name: str, unit: str) -> units.Quantity:
    return ds[name].values * units(unit)


def test_potential_temperature_equals_metpy_from_level_coord_and_variable() -> None:
    ds = column()
    want = mpcalc.potential_temperature(mp(ds, "p", "Pa"), mp(ds, "t", "K")).m_as("K")
    by_var = atm.PotentialTemperature("t", "p")(ds)["theta"]
    by_level = atm.PotentialTemperature("t", "level")(ds)["theta"]
    np.testing.assert_allclose(by_var.values, want, rtol=RTOL)
    np.testing.assert_allclose(by_level.transpose(*ds.t.dims).values, want, rtol=RTOL)
    assert by_var.attrs["units"] == "K"
    assert by_var.attrs["standard_name"] == "air_potential_temperature"
    assert by_var.dims == ds.t.dims and "lat" in by_var.coords
    assert set(atm.PotentialTemperature()(ds).data_vars) == {*ds.data_vars, "theta"}


def test_potential_temperature_kappa_is_metpys_and_p0_is_used() -> None:
    import metpy.constants as mc

    assert pytest.approx(mc.kappa.m, rel=1e-15) == _kernels.KAPPA
    assert pytest.approx(mc.Rd.m_as("J/kg/K"), rel=1e-15) == _kernels.RD
    assert pytest.approx(mc.Cp_d.m_as("J/kg/K"), rel=1e-15) == _kernels.CP_D
    ds = xr.Dataset({"t": ((), 280.0, {"units": "K"}), "p": ((), 500.0, {"units": "hPa"})})
    out = atm.PotentialTemperature(p0=50000.0)(ds)["theta"]
    assert float(out) == pytest.approx(280.0, rel=1e-15)  # p == p0: theta == T


def test_celsius_and_kpa_are_converted() -> None:
    ds = column()
    ds_c = ds.assign(t=(ds.t - 273.15).assign_attrs(units="degC"))
    ds_c = ds_c.assign(p=(ds.p / 1000.0).assign_attrs(units="kPa"))
    a = atm.PotentialTemperature()(ds)["theta"]
    b = atm.PotentialTemperature()(ds_c)["theta"]
    np.testing.assert_allclose(b.values, a.values, rtol=1e-12)


def test_dewpoint_from_vapor_pressure_equals_metpy() -> None:
    ds = column()
    want = mpcalc.dewpoint(mp(ds, "e", "hPa")).m_as("K")
    out = atm.Dewpoint("e")(ds)["td"]
    np.testing.assert_allclose(out.values, want, rtol=RTOL)
    assert out.attrs == {
        "units": "K",
        "standard_name": "dew_point_temperature",
        "long_name": "dew point temperature",
    }


def test_dewpoint_from_specific_humidity_equals_metpy() -> None:
    ds = column()
    want = mpcalc.dewpoint_from_specific_humidity(mp(ds, "p", "Pa"), mp(ds, "q", "g/kg"))
    out = atm.Dewpoint(specific_humidity="q", pressure="level", output="td_q")(ds)["td_q"]
    np.testing.assert_allclose(out.transpose(*ds.q.dims).values, want.m_as("K"), rtol=RTOL)


def test_relative_humidity_equals_metpy_and_bolton_by_hand() -> None:
    ds = column()
    want = mpcalc.relative_humidity_from_dewpoint(mp(ds, "t", "K"), mp(ds, "td", "K"))
    out = atm.RelativeHumidity()(ds)["rh"]
    np.testing.assert_allclose(out.values, want.m_as(""), rtol=RTOL)
    assert out.attrs["units"] == "1" and out.attrs["standard_name"] == "relative_humidity"

    def es(t_k: np.ndarray) -> np.ndarray:  # Bolton 1980 eq. 10, hPa
        tc = t_k - 273.15
        return 6.112 * np.exp(17.67 * tc / (tc + 243.5))

    bolton = atm.RelativeHumidity(formula="bolton")(ds)["rh"]
    np.testing.assert_allclose(bolton.values, es(ds.td.values) / es(ds.t.values), rtol=RTOL)


def test_dewpoint_then_relative_humidity_round_trips_with_bolton() -> None:
    """Td from e = RH * es_bolton(T) gives back RH under Bolton (its exact inverse)."""
    ds = column()
    tc = ds.t.values - 273.15
    e = 0.4 * 611.2 * np.exp(17.67 * tc / (tc + 243.5))
    ds = ds.assign(e=(ds.t.dims, e, {"units": "Pa"}))
    out = atm.RelativeHumidity(formula="bolton")(atm.Dewpoint("e")(ds))
    np.testing.assert_allclose(out["rh"].values, 0.4, rtol=1e-12)


def test_equivalent_potential_temperature_equals_metpy() -> None:
    ds = column()
    want = mpcalc.equivalent_potential_temperature(
        mp(ds, "p", "Pa"), mp(ds, "t", "K"), mp(ds, "td", "K")
    ).m_as("K")
    out = atm.EquivalentPotentialTemperature(pressure="level")(ds)["theta_e"]
    np.testing.assert_allclose(out.transpose(*ds.t.dims).values, want, rtol=RTOL)
    assert out.attrs["standard_name"] == "air_equivalent_potential_temperature"
    # MetPy's docstring case: 850 hPa, 20 degC, Td 10 degC
    one = xr.Dataset(
        {
            "t": ((), 20.0, {"units": "degC"}),
            "td": ((), 10.0, {"units": "degC"}),
            "p": ((), 850.0, {"units": "hPa"}),
        }
    )
    ref = mpcalc.equivalent_potential_temperature(850 * units.hPa, 20 * units.degC, 10 * units.degC)
    got = float(atm.EquivalentPotentialTemperature()(one)["theta_e"])
    assert got == pytest.approx(ref.m_as("K"), rel=RTOL)
    # e_s(Td) above p: no mixing ratio, NaN (MetPy: NaN + warning)
    hot = one.assign(p=one.p.copy(data=0.5), td=one.t)
    assert np.isnan(float(atm.EquivalentPotentialTemperature()(hot)["theta_e"]))


@pytest.mark.parametrize("formula", ["ambaum", "bolton"])
def test_kernels_numpy_equal_jax_jit(formula: str) -> None:
    ds = column(seed=4)
    t, td, p = ds.t.values, ds.td.values, ds.p.values
    q, e = ds.q.values * 1e-3, ds.e.values * 100.0
    cases = [
        (_kernels.potential_temperature, (t, p)),
        (_kernels.dewpoint_from_vapor_pressure, (e,)),
        (_kernels.vapor_pressure_from_specific_humidity, (q, p)),
        (lambda a, b: _kernels.relative_humidity(a, b, formula), (t, td)),
        (lambda a, b, c: _kernels.equivalent_potential_temperature(a, b, c, formula), (t, p, td)),
    ]
    for fn, args in cases:
        want = fn(*args)
        got = jax.jit(fn)(*(jnp.asarray(a) for a in args))
        assert isinstance(got, jax.Array)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)


def test_operator_runs_on_jax_backed_dataset() -> None:
    ds = column()
    ds_j = ds.assign(t=ds.t.copy(data=jnp.asarray(ds.t.values)))
    out = atm.PotentialTemperature()(ds_j)["theta"]
    want = atm.PotentialTemperature()(ds)["theta"]
    np.testing.assert_allclose(np.asarray(out.data), want.values, rtol=1e-5)


def test_units_are_checked_with_teaching_errors() -> None:
    ds = column()
    with pytest.raises(
        atm.AtmInputError, match=r"PotentialTemperature: pressure 'p' .*got units='psi'"
    ):
        atm.PotentialTemperature()(ds.assign(p=ds.p.assign_attrs(units="psi")))
    bare = ds.assign(t=xr.DataArray(ds.t.values, dims=ds.t.dims))
    with pytest.raises(atm.AtmInputError, match=r"temperature 't' must carry .*got no 'units'"):
        atm.RelativeHumidity()(bare)
    with pytest.raises(atm.AtmInputError, match=r"specific_humidity 'q'.*'g/kg'"):
        atm.Dewpoint(specific_humidity="q", pressure="p")(ds.assign(q=ds.q.assign_attrs(units="%")))
    with pytest.raises(atm.AtmInputError, match=r"pressure='pres' is not a variable"):
        atm.PotentialTemperature(pressure="pres")(ds)
    with pytest.raises(atm.AtmInputError, match=r"takes an xarray.Dataset.*got DataArray"):
        atm.PotentialTemperature()(ds.t)


def test_config_errors_teach() -> None:
    with pytest.raises(pk.ConfigError, match=r"Dewpoint: give exactly one of vapor_pressure"):
        atm.Dewpoint()
    with pytest.raises(pk.ConfigError, match=r"Dewpoint: pressure= goes with specific_humidity"):
        atm.Dewpoint("e", pressure="p")
    with pytest.raises(pk.ConfigError, match=r"Dewpoint: pressure= goes with"):
        atm.Dewpoint(specific_humidity="q")
    with pytest.raises(pk.ConfigError, match=r"RelativeHumidity: formula must be one of"):
        atm.RelativeHumidity(formula="magnus")
    with pytest.raises(pk.ConfigError, match=r"PotentialTemperature: p0 must be a positive"):
        atm.PotentialTemperature(p0=0)
    with pytest.raises(pk.ConfigError, match=r"EquivalentPotentialTemperature: dewpoint must"):
        atm.EquivalentPotentialTemperature(dewpoint="")


def test_nan_stays_where_it_is() -> None:
    """NaN is the Dataset's nodata: it propagates to that element only, silently."""
    ds = column()
    t = ds.t.values.copy()
    t[2, 1, 3] = np.nan
    ds = ds.assign(t=(ds.t.dims, t, {"units": "K"}))
    for op in (
        atm.PotentialTemperature(),
        atm.RelativeHumidity(),
        atm.EquivalentPotentialTemperature(),
    ):
        out = op(ds)[op.output].values
        assert np.isnan(out[2, 1, 3]) and np.isnan(out).sum() == 1
