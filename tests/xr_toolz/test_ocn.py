"""xr_toolz.ocn against gsw, closed-form Gaussian eddies, numpy.gradient and calc.Curl.

Oracles and tolerances (stated where used):

- Coriolis == ``gsw.f`` to 1e-15 relative.
- Geostrophic velocity: the closed form of a Gaussian eddy on an f-plane (relative error
  of the O(h²) differences on the grid used, < 2e-3), and ``numpy.gradient`` with the
  sphere's metric written out by hand (same stencil: 1e-12).
- ζ, strain, Okubo–Weiss of the exact Gaussian-eddy velocity against their closed forms
  (< 2e-3 relative, W < 3e-3); on the sphere a solid-body rotation has zero strain (metric terms).
- N² against ``gsw.Nsquared`` with density referenced to each pair's mid-point pressure
  (< 1e-2 relative: gsw's α, β and dp vs our Δρ and dz), and exactly against
  ``g/ρ₀ Δρ/Δz`` in NumPy.
- MLD against a NumPy reference written from de Boyer Montégut et al. (2004), on
  piecewise-linear profiles with a known crossing and on gsw σθ of the synthetic profiles.
- NumPy == ``jax.jit`` for every operator (float32 both sides).
"""

from __future__ import annotations

import equinox as eqx
import gsw
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import pipekit as pk
import xr_toolz as xt
from xr_toolz.calc import EARTH_RADIUS as R

G = 9.80665


def rel(err, exact) -> float:
    return float(np.nanmax(np.abs(np.asarray(err))) / np.nanmax(np.abs(np.asarray(exact))))


# -- Coriolis ---------------------------------------------------------------------------


def test_coriolis_equals_gsw_f_and_keeps_float32() -> None:
    ssh = xt.testing.ssh_eddies()
    f = xt.ocn.Coriolis()(ssh)
    np.testing.assert_allclose(f.values, gsw.f(ssh.lat.values), rtol=1e-15)
    assert f.dims == ("lat",) and f.attrs["units"] == "s-1" and f.name == "f"
    f32 = xt.ocn.Coriolis()(ssh.astype(np.float32))
    assert f32.dtype == np.float32


def test_coriolis_teaches_missing_latitude() -> None:
    da = xr.DataArray(np.zeros(3), dims="y", coords={"y": [0.0, 1.0, 2.0]})
    with pytest.raises(xt.ocn.OcnValueError, match=r"Coriolis: lat must name .* got 'lat'"):
        xt.ocn.Coriolis()(da)


# -- geostrophic velocity ------------------------------------------------------------------


def gaussian_plane(n: int = 201, amp: float = 0.3, length: float = 50e3):
    """η = A exp(-r²/L²) centred on a cartesian grid (metres)."""
    x = np.linspace(-200e3, 200e3, n)
    y = np.linspace(-150e3, 150e3, n - 40)
    X, Y = np.meshgrid(x, y)
    e = np.exp(-(X**2 + Y**2) / length**2)
    eta = xr.DataArray(
        amp * e,
        dims=("y", "x"),
        coords={"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})},
        name="ssh",
        attrs={"units": "m"},
    )
    return eta, X, Y, amp * e, length


def test_geostrophic_velocity_of_a_gaussian_eddy_on_an_f_plane() -> None:
    eta, X, Y, e, L = gaussian_plane()
    f0 = 1e-4
    out = xt.ocn.GeostrophicVelocity(f0=f0)(eta)
    u_exact = (G / f0) * (2 * Y / L**2) * e  # -(g/f) ∂η/∂y
    v_exact = -(G / f0) * (2 * X / L**2) * e  # (g/f) ∂η/∂x
    # O(h²) truncation: h/L = 2 km / 50 km, (h/L)² = 1.6e-3.
    assert rel(out["u"].values - u_exact, u_exact) < 2e-3
    assert rel(out["v"].values - v_exact, v_exact) < 2e-3
    assert out["u"].attrs["standard_name"] == "surface_geostrophic_eastward_sea_water_velocity"
    assert out["v"].attrs["standard_name"] == "surface_geostrophic_northward_sea_water_velocity"
    assert out["u"].attrs["units"] == "m s-1"
    # An anticyclone (η > 0) in the northern hemisphere turns clockwise: v < 0 east of it.
    assert float(out["v"].sel(x=L, y=0.0, method="nearest")) < 0


def test_geostrophic_velocity_on_the_sphere_equals_numpy_gradient_and_masks_equator() -> None:
    ssh = xt.testing.ssh_eddies(lat=(-12.0, 12.0), lon=(-50.0, -30.0), eddies=[(8, -40, 0.2, 90)])
    out = xt.ocn.GeostrophicVelocity()(ssh)
    phi, lam = np.deg2rad(ssh.lat.values), np.deg2rad(ssh.lon.values)
    with np.errstate(divide="ignore"):  # f = 0 on the equator row of the oracle
        g_over_f = G / (2 * 7.292115e-5 * np.sin(phi)[:, None])
    eta_y = np.gradient(ssh.values, phi, axis=0, edge_order=2) / R
    eta_x = np.gradient(ssh.values, lam, axis=1, edge_order=2) / (R * np.cos(phi)[:, None])
    keep = np.abs(ssh.lat.values) >= 5.0
    np.testing.assert_allclose(
        out["u"].values[keep], (-g_over_f * eta_y)[keep], rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        out["v"].values[keep], (g_over_f * eta_x)[keep], rtol=1e-12, atol=1e-14
    )
    assert np.isnan(out["u"].values[~keep]).all() and np.isnan(out["v"].values[~keep]).all()
    assert np.isfinite(out["u"].values[keep]).all()
    wide = xt.ocn.GeostrophicVelocity(equator_mask=10.0)(ssh)
    assert np.isnan(wide["u"].values[np.abs(ssh.lat.values) < 10.0]).all()


def test_geostrophic_velocity_reads_ssh_from_a_dataset_and_converts_cm() -> None:
    ssh = xt.testing.ssh_eddies()
    metres = xt.ocn.GeostrophicVelocity()(ssh)
    ds = xr.Dataset({"adt": (100 * ssh).assign_attrs(units="cm")})
    cm = xt.ocn.GeostrophicVelocity(ssh="adt", u="ugos", v="vgos")(ds)
    np.testing.assert_allclose(cm["ugos"].values, metres["u"].values, rtol=1e-12, atol=1e-15)


def test_geostrophic_velocity_errors_teach() -> None:
    eta = gaussian_plane(n=61)[0]
    with pytest.raises(xt.ocn.OcnValueError, match=r"cartesian grid has no latitude.*f0="):
        xt.ocn.GeostrophicVelocity()(eta)
    with pytest.raises(xt.ocn.OcnValueError, match=r"must be in metres.*got units 'K'"):
        xt.ocn.GeostrophicVelocity(f0=1e-4)(eta.assign_attrs(units="K"))
    with pytest.raises(xt.ocn.OcnValueError, match=r"has no variable 'ssh'.*ssh='...'"):
        xt.ocn.GeostrophicVelocity(f0=1e-4)(xr.Dataset({"zos": eta}))
    with pytest.raises(pk.ConfigError, match=r"GeostrophicVelocity: f0 must be a non-zero"):
        xt.ocn.GeostrophicVelocity(f0=0.0)
    with pytest.raises(pk.ConfigError, match=r"GeostrophicVelocity: equator_mask must be"):
        xt.ocn.GeostrophicVelocity(equator_mask=-1.0)


# -- vorticity, strain, Okubo-Weiss ---------------------------------------------------------


def eddy_velocity(n: int = 241):
    """The exact geostrophic velocity of a Gaussian eddy, ψ = ψ0 exp(-r²/L²), and its ψ."""
    eta, X, Y, e, L = gaussian_plane(n)
    psi = (G / 1e-4) * e
    ds = xr.Dataset({"u": (eta.dims, 2 * Y / L**2 * psi), "v": (eta.dims, -2 * X / L**2 * psi)})
    return ds.assign_coords(eta.coords), X, Y, psi, L


def test_vorticity_strain_okubo_weiss_of_a_gaussian_eddy_match_closed_forms() -> None:
    ds, X, Y, psi, L = eddy_velocity()
    r2 = X**2 + Y**2
    zeta = psi * (4 * r2 / L**4 - 4 / L**2)  # ∇²ψ
    strain = psi * 4 * r2 / L**4  # sqrt((−2ψ_xy)² + (ψ_xx − ψ_yy)²)
    w = 16 * psi**2 * (2 * r2 / L**2 - 1) / L**4
    assert rel(xt.ocn.RelativeVorticity()(ds).values - zeta, zeta) < 2e-3
    assert rel(xt.ocn.Strain()(ds).values - strain, strain) < 2e-3
    ow = xt.ocn.OkuboWeiss()(ds)
    assert rel(ow.values - w, w) < 3e-3  # W = s² − ζ² cancels in the core: ~2(h/L)²
    core = r2 < (0.6 * L) ** 2  # W < 0 exactly where r < L/√2
    ring = (r2 > (0.8 * L) ** 2) & (r2 < (2 * L) ** 2)
    assert (ow.values[core] < 0).all() and (ow.values[ring] > 0).all()
    assert ow.attrs["units"] == "s-2" and xt.ocn.Strain()(ds).attrs["units"] == "s-1"


def test_vorticity_from_ssh_through_the_pipeline_matches_closed_form() -> None:
    eta, X, Y, e, L = gaussian_plane(n=241)
    zeta = (G / 1e-4) * e * (4 * (X**2 + Y**2) / L**4 - 4 / L**2)
    pipe = xt.ocn.GeostrophicVelocity(f0=1e-4) | xt.ocn.RelativeVorticity()
    assert rel(pipe(eta).values - zeta, zeta) < 5e-3  # two first differences: wider stencil


def test_relative_vorticity_is_calc_curl_on_the_sphere() -> None:
    uv = xt.ocn.GeostrophicVelocity()(xt.testing.ssh_eddies())
    np.testing.assert_array_equal(xt.ocn.RelativeVorticity()(uv).values, xt.calc.Curl()(uv).values)


def test_solid_body_rotation_on_the_sphere_has_no_strain() -> None:
    """u = ΩR cos φ is a rigid rotation: zero strain (only with the metric terms), ζ = 2Ω sin φ."""
    lat, lon = np.linspace(20.0, 60.0, 161), np.linspace(0.0, 40.0, 41)
    om = 7.292115e-5
    u = om * R * np.cos(np.deg2rad(lat))[:, None] + 0 * lon
    ds = xr.Dataset({"u": (("lat", "lon"), u), "v": (("lat", "lon"), 0 * u)})
    ds = ds.assign_coords(lat=lat, lon=lon)
    zeta = 2 * om * np.sin(np.deg2rad(lat))[:, None] + 0 * lon
    assert float(abs(xt.ocn.Strain()(ds)).max()) < 1e-4 * om
    np.testing.assert_allclose(xt.ocn.OkuboWeiss()(ds).values, -(zeta**2), rtol=1e-4)


# -- EKE --------------------------------------------------------------------------------------


def test_eke_from_anomalies_about_the_time_mean_equals_numpy() -> None:
    uv = xt.ocn.GeostrophicVelocity()(xt.testing.ssh_eddies(ntime=6, drift=0.5))
    u, v = uv["u"].values.copy(), uv["v"].values
    u[2, 10, 10] = np.nan  # left out of the mean; NaN there
    uv["u"] = uv["u"].copy(data=u)
    eke = xt.ocn.EKE(dim="time")(uv)
    up, vp = u - np.nanmean(u, axis=0), v - v.mean(axis=0)
    np.testing.assert_allclose(eke.values, 0.5 * (up**2 + vp**2), rtol=1e-12, atol=1e-20)
    assert eke.dims == uv["u"].dims and eke.attrs["units"] == "m2 s-2"
    anomalies = xt.ocn.EKE()(uv)  # dim=None: u/v taken as the anomalies
    np.testing.assert_allclose(anomalies.values, 0.5 * (u**2 + v**2), rtol=1e-15)
    with pytest.raises(xt.ocn.OcnValueError, match=r"EKE: dim must name dimensions.*\['depth'\]"):
        xt.ocn.EKE(dim="depth")(uv)
    with pytest.raises(pk.ConfigError, match=r"EKE: dim must be None"):
        xt.ocn.EKE(dim=3)


# -- N² and mixed-layer depth ---------------------------------------------------------------


def teos10(pr: xr.Dataset):
    p, lat = pr.pressure.values, pr.lat.values[:, None]
    sa = gsw.SA_from_SP(pr.salinity.values, p, pr.lon.values[:, None], lat)
    return sa, gsw.CT_from_t(sa, pr.temperature.values, p), p, lat


def test_brunt_vaisala_equals_gsw_nsquared_with_locally_referenced_density() -> None:
    pr = xt.testing.ocean_profiles()
    sa, ct, p, lat = teos10(pr)
    n2_gsw, p_mid = gsw.Nsquared(sa, ct, p, lat=lat, axis=1)
    depth = -gsw.z_from_p(p, lat)
    ours = np.empty_like(n2_gsw)
    for i in range(p.shape[0]):  # density referenced to each pair's mid-point pressure
        for k in range(p.shape[1] - 1):
            rho = gsw.rho(sa[i, k : k + 2], ct[i, k : k + 2], p_mid[i, k])
            da = xr.DataArray(rho, dims="depth", coords={"depth": depth[i, k : k + 2]})
            g = float(gsw.grav(lat[i, 0], p_mid[i, k]))
            ours[i, k] = xt.ocn.BruntVaisala(g=g, rho0=None)(da).values[0]
    strat = n2_gsw > 1e-6  # below the mixed layer
    assert rel((ours - n2_gsw)[strat], n2_gsw[strat]) < 1e-2
    assert np.abs(ours - n2_gsw).max() < 1e-2 * n2_gsw.max()  # the layer's base too


def test_brunt_vaisala_is_g_over_rho0_drho_dz_on_midpoints() -> None:
    pr = xt.testing.ocean_profiles(depth=np.array([0.0, 10.0, 25.0, 50.0, 100.0, 200.0]))
    sa, ct, _, _ = teos10(pr)
    sigma = xr.DataArray(gsw.sigma0(sa, ct), dims=("profile", "depth"), coords=pr.coords)
    n2 = xt.ocn.BruntVaisala()(xr.Dataset({"rho": sigma}))
    z = pr.depth.values
    expect = G / 1025.0 * np.diff(sigma.values, axis=1) / np.diff(z)
    np.testing.assert_allclose(n2.values, expect, rtol=1e-12)
    np.testing.assert_allclose(n2.depth.values, 0.5 * (z[1:] + z[:-1]))
    assert n2.attrs["units"] == "s-2" and n2.depth.attrs["positive"] == "down"
    assert "lat" in n2.coords  # per-profile coords are kept
    up = sigma.assign_coords(depth=("depth", -z, {"units": "m", "positive": "up"}))
    np.testing.assert_allclose(xt.ocn.BruntVaisala()(up).values, expect, rtol=1e-12)


def mld_reference(rho: np.ndarray, z: np.ndarray, thr: float = 0.03, ref: float = 10.0):
    """de Boyer Montégut et al. (2004), one profile at a time, in plain NumPy loops."""
    out = []
    for prof in np.atleast_2d(rho):
        r10 = np.interp(ref, z, prof)
        zs, rs, found = [ref], [r10], np.nan
        for zk, rk in zip(z, prof, strict=True):
            if zk <= ref:
                continue
            if rk >= r10 + thr:
                found = zs[-1] + (r10 + thr - rs[-1]) * (zk - zs[-1]) / (rk - rs[-1])
                break
            zs.append(zk)
            rs.append(rk)
        out.append(found)
    return np.array(out)


def test_mixed_layer_depth_of_piecewise_linear_profiles_is_known() -> None:
    z = np.arange(0.0, 201.0, 5.0)
    h = np.array([30.0, 55.0, 120.0])
    grad = np.array([0.005, 0.01, 0.002])  # kg m-4 below h
    rho = 1025.0 + grad[:, None] * np.maximum(z[None, :] - h[:, None], 0.0)
    da = xr.DataArray(rho, dims=("profile", "depth"), coords={"depth": z})
    mld = xt.ocn.MixedLayerDepth()(da)
    np.testing.assert_allclose(mld.values, h + 0.03 / grad, rtol=1e-12)  # 36, 58, 135 m
    np.testing.assert_allclose(mld.values, mld_reference(rho, z), rtol=1e-12)
    assert mld.dims == ("profile",) and mld.attrs["units"] == "m"


def test_mixed_layer_depth_with_gsw_sigma0_equals_reference() -> None:
    pr = xt.testing.ocean_profiles()
    sa, ct, _, _ = teos10(pr)
    sigma = gsw.sigma0(sa, ct)
    ds = xr.Dataset({"sigma0": (("profile", "depth"), sigma)}, coords=pr.coords)
    mld = xt.ocn.MixedLayerDepth(density="sigma0")(ds)
    np.testing.assert_allclose(mld.values, mld_reference(sigma, pr.depth.values), rtol=1e-12)
    h = pr.mld.values
    assert ((mld.values > h) & (mld.values < h + 10.0)).all()


def test_mixed_layer_depth_nan_cases_and_off_level_reference() -> None:
    z = np.array([0.0, 4.0, 12.0, 20.0, 40.0])  # 10 m lies between levels
    rho = np.array(
        [
            [25.0, 25.0, 25.01, 25.02, 25.2],  # crosses between 20 and 40
            [25.0, 25.0, 25.0, 25.0, 25.0],  # never crosses: NaN
            [np.nan] * 5,  # no data: NaN
            [25.0, 25.0, 25.1, 25.2, 25.3],  # crosses between the reference and 12 m
        ]
    )
    da = xr.DataArray(rho, dims=("p", "depth"), coords={"depth": z})
    with np.errstate(invalid="ignore"):
        expect = mld_reference(rho, z)
    np.testing.assert_allclose(xt.ocn.MixedLayerDepth()(da).values, expect, rtol=1e-12)
    assert np.isnan(expect[1:3]).all() and np.isfinite(expect[[0, 3]]).all()


def test_vertical_errors_teach() -> None:
    da = xr.DataArray([1.0, 2.0, 3.0], dims="depth", coords={"depth": [0.0, 20.0, 10.0]})
    with pytest.raises(xt.ocn.OcnValueError, match=r"increasing downward.*sortby\('depth'\)"):
        xt.ocn.MixedLayerDepth()(da)
    p = da.assign_coords(depth=("depth", [0.0, 10.0, 20.0], {"units": "dbar"}))
    with pytest.raises(xt.ocn.OcnValueError, match=r"depth in metres, got units 'dbar'"):
        xt.ocn.BruntVaisala()(p)
    with pytest.raises(xt.ocn.OcnValueError, match=r"BruntVaisala: dim must be a vertical"):
        xt.ocn.BruntVaisala(dim="lev")(da)
    with pytest.raises(xt.ocn.OcnValueError, match=r"ref_depth must lie above the deepest"):
        xt.ocn.MixedLayerDepth(ref_depth=50.0)(da.sortby("depth"))
    with pytest.raises(pk.ConfigError, match=r"MixedLayerDepth: threshold must be a positive"):
        xt.ocn.MixedLayerDepth(threshold=0)


# -- NumPy == jax.jit, end to end --------------------------------------------------------------


def _f32(x):
    return jax.tree.map(lambda leaf: np.asarray(leaf, dtype=np.float32), x)


def _profiles_sigma() -> xr.Dataset:
    pr = xt.testing.ocean_profiles()
    sa, ct, _, _ = teos10(pr)
    return xr.Dataset({"rho": (("profile", "depth"), gsw.rho(sa, ct, 0.0))}, coords=pr.coords)


@pytest.mark.parametrize(
    ("op", "make"),
    [
        (xt.ocn.Coriolis(), xt.testing.ssh_eddies),
        (xt.ocn.GeostrophicVelocity(), xt.testing.ssh_eddies),
        (
            xt.ocn.GeostrophicVelocity() | xt.ocn.OkuboWeiss(),
            xt.testing.ssh_eddies,
        ),
        (xt.ocn.GeostrophicVelocity() | xt.ocn.Strain(), xt.testing.ssh_eddies),
        (
            xt.ocn.GeostrophicVelocity() | xt.ocn.EKE(dim="time"),
            lambda: xt.testing.ssh_eddies(ntime=4),
        ),
        (xt.ocn.BruntVaisala(rho0=None), _profiles_sigma),
        (xt.ocn.MixedLayerDepth(), _profiles_sigma),
    ],
)
def test_numpy_equals_jit(op, make) -> None:
    x = _f32(make())
    eager = op(x)
    jitted = eqx.filter_jit(lambda o, v: o(v))(op, jax.tree.map(jnp.asarray, x))
    a = eager.to_array().values if isinstance(eager, xr.Dataset) else eager.values
    b = jitted.to_array().values if isinstance(jitted, xr.Dataset) else np.asarray(jitted.data)
    assert a.dtype == np.float32 and np.asarray(b).dtype == np.float32
    scale = np.nanmax(np.abs(a))
    np.testing.assert_allclose(np.asarray(b), a, rtol=1e-4, atol=1e-5 * scale, equal_nan=True)


def test_testing_data_are_deterministic_and_cf() -> None:
    ssh = xt.testing.ssh_eddies()
    xr.testing.assert_identical(ssh, xt.testing.ssh_eddies())
    assert ssh.attrs["units"] == "m" and ssh.lat.attrs["standard_name"] == "latitude"
    assert float(ssh.max()) == pytest.approx(0.25, abs=1e-3)  # the anticyclone's crest
    assert float(ssh.min()) == pytest.approx(-0.20, abs=1e-3)
    assert float(abs(ssh.lat).min()) >= 30.0
    pr = xt.testing.ocean_profiles()
    inside = pr.depth <= pr.mld
    t = pr.temperature.where(inside)
    assert float((t.max("depth") - t.min("depth")).max()) == 0.0  # homogeneous layer
    assert pr.pressure.attrs["units"] == "dbar"


def test_land_nan_in_ssh_spreads_only_to_its_stencil_neighbours() -> None:
    ssh = xt.testing.ssh_eddies()
    land = ssh.copy(data=ssh.values.copy())
    land[20, 30] = np.nan
    uv = xt.ocn.GeostrophicVelocity()(land)
    nan = np.isnan(uv["u"].values) | np.isnan(uv["v"].values)
    expect = np.zeros_like(nan)
    expect[19:22, 30] = expect[20, 29:32] = True  # the centred 3-point stencils that use it
    np.testing.assert_array_equal(nan, expect)


def test_eke_dim_list_round_trips_through_yaml() -> None:
    op = xt.ocn.EKE(dim=["time", "lat"])
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again.dim == ("time", "lat") and pk.config_hash(again) == pk.config_hash(op)
