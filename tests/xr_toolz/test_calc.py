"""xr_toolz.calc against analytic fields, numpy.gradient and MetPy; NumPy == jax.jit.

Tolerances (stated where used): stencils equal numpy.gradient to 1e-12 (same formulas);
analytic fields to a relative error (max |error| / max |exact|) that the O(h²) truncation
gives on the grid used, checked with an observed convergence order near 2.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import pipekit as pk
import xr_toolz as xt
from xr_toolz.calc._grid import EARTH_RADIUS, grid_of
from xr_toolz.calc._kernels import (
    curl_kernel,
    divergence_kernel,
    gradient_kernel,
    laplacian_kernel,
)
from xr_toolz.calc._stencil import derivative, stencil

R = EARTH_RADIUS
OMEGA = 7.292e-5


def rel(err, exact) -> float:
    return float(np.max(np.abs(np.asarray(err))) / np.max(np.abs(np.asarray(exact))))


def nonuniform(n: int, lo: float, hi: float) -> np.ndarray:
    s = np.linspace(0.0, 1.0, n)
    return lo + (hi - lo) * (s + 0.15 * np.sin(np.pi * s) ** 2 * s)  # smooth, monotonic


def cartesian(n: int = 201, uniform: bool = True):
    x = np.linspace(0.0, 100e3, n) if uniform else nonuniform(n, 0.0, 100e3)
    y = np.linspace(0.0, 80e3, n - 20) if uniform else nonuniform(n - 20, 0.0, 80e3)
    k, m = 2 * np.pi / 50e3, 2 * np.pi / 40e3
    X, Y = np.meshgrid(x, y)
    f = xr.DataArray(
        np.sin(k * X) * np.cos(m * Y),
        dims=("y", "x"),
        coords={"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})},
        name="f",
        attrs={"units": "K", "standard_name": "air_temperature"},
    )
    return f, X, Y, k, m


def sphere(dlat: float = 0.5, lat_max: float = 80.0):
    lat = np.arange(-lat_max, lat_max + dlat / 2, dlat)
    lon = np.arange(0.0, 360.0, dlat)
    lam, phi = np.meshgrid(np.deg2rad(lon), np.deg2rad(lat))
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    return coords, lam, phi


def field(values, coords, dims=("lat", "lon"), **kw):
    return xr.DataArray(values, dims=dims, coords=coords, **kw)


# --- stencils ----------------------------------------------------------------------------


def test_first_derivative_stencil_equals_numpy_gradient_on_a_nonuniform_grid():
    x = nonuniform(23, -3.0, 5.0)
    f = np.exp(np.sin(x))[None, :] * np.arange(1, 4)[:, None]
    got = derivative(f, stencil(x, 1), axis=1)
    np.testing.assert_allclose(got, np.gradient(f, x, axis=1, edge_order=2), rtol=1e-12)


def test_second_derivative_stencil_is_exact_on_quadratics_and_cubic_at_the_edges():
    x = nonuniform(17, 0.0, 3.0)
    got = derivative(3.0 * x**2 - x + 1.0, stencil(x, 2), axis=0)
    np.testing.assert_allclose(got, 6.0, rtol=1e-9)
    u = np.linspace(0, 3, 9)  # uniform: the centred 3 points are exact on cubics too
    np.testing.assert_allclose(derivative(u**3, stencil(u, 2), axis=0), 6.0 * u, atol=1e-9)


# --- cartesian analytic fields -------------------------------------------------------------


@pytest.mark.parametrize("uniform", [True, False])
def test_cartesian_gradient_and_laplacian_of_sin_cos(uniform):
    f, X, Y, k, m = cartesian(201, uniform)
    g = xt.calc.Gradient()(f)
    fx, fy = k * np.cos(k * X) * np.cos(m * Y), -m * np.sin(k * X) * np.sin(m * Y)
    lap = -(k**2 + m**2) * f.values
    # h = 500 m, (kh)^2 ~ 4e-3: O(h²) errors below 2e-3 (edges, one-sided) of the maximum.
    assert rel(g["u"] - fx, fx) < 2e-3
    assert rel(g["v"] - fy, fy) < 2e-3
    assert rel(xt.calc.Laplacian()(f) - lap, lap) < 3e-3


def test_cartesian_convergence_is_second_order():
    errs = []
    for n in (51, 101, 201):
        f, _, _, k, m = cartesian(n)
        errs.append(rel(xt.calc.Laplacian()(f) + (k**2 + m**2) * f.values, f.values))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > 1.8), orders


def test_cartesian_divergence_and_curl_of_linear_fields_are_exact():
    f, X, Y, _, _ = cartesian(41, uniform=False)
    ds = xr.Dataset(
        {"u": (("y", "x"), 2e-5 * X - 3e-5 * Y), "v": (("y", "x"), 4e-5 * X + 5e-5 * Y)},
        coords=f.coords,
    )
    np.testing.assert_allclose(xt.calc.Divergence()(ds), 7e-5, rtol=1e-9)
    np.testing.assert_allclose(xt.calc.Curl()(ds), 7e-5, rtol=1e-9)


def test_km_coordinates_are_converted_to_metres():
    f, *_ = cartesian(41)
    km = f.assign_coords(x=("x", f.x.values / 1e3, {"units": "km"}))
    np.testing.assert_allclose(xt.calc.Gradient()(km)["u"], xt.calc.Gradient()(f)["u"], rtol=1e-12)


# --- spherical analytic fields -------------------------------------------------------------


def test_spherical_gradient_of_known_fields():
    coords, lam, phi = sphere(0.5)
    g = xt.calc.Gradient()(field(np.sin(phi) + np.cos(phi) * np.sin(lam), coords))
    ex, ey = np.cos(lam) / R, (np.cos(phi) - np.sin(phi) * np.sin(lam)) / R
    assert rel(g["u"] - ex, ex) < 1e-4  # dλ = 0.5° = 8.7e-3 rad: (dλ)²/6 ~ 1.3e-5
    assert rel(g["v"] - ey, ey) < 1e-4


@pytest.mark.parametrize(
    ("name", "make", "eigen"),
    [
        ("l=1, m=1", lambda lam, phi: np.cos(phi) * np.cos(lam), -2.0),
        ("l=1, m=0", lambda lam, phi: np.sin(phi), -2.0),
        ("l=2, m=1", lambda lam, phi: np.sin(phi) * np.cos(phi) * np.cos(lam), -6.0),
        ("l=2, m=2", lambda lam, phi: np.cos(phi) ** 2 * np.cos(2 * lam), -6.0),
    ],
)
def test_spherical_harmonics_are_eigenfunctions_of_the_laplacian(name, make, eigen):
    coords, lam, phi = sphere(0.5, lat_max=80.0)
    y = make(lam, phi)
    want = eigen * y / R**2
    got = xt.calc.Laplacian()(field(y, coords))
    # Truncation grows with tan φ near 80°; 0.5° spacing keeps it below 5e-4 of the peak.
    assert rel(got - want, want) < 5e-4, name
    interior = (np.abs(np.rad2deg(phi)) < 60) & (lam > 0.05) & (lam < 2 * np.pi - 0.05)
    assert rel((got - want).values[interior], want) < 1e-4, name


def test_solid_body_rotation_has_no_divergence_and_curl_two_omega_sin_lat():
    coords, _, phi = sphere(1.0, lat_max=85.0)
    u = OMEGA * R * np.cos(phi)
    ds = xr.Dataset(
        {"u": (("lat", "lon"), u, {"units": "m s-1"}), "v": (("lat", "lon"), 0 * u)},
        coords=coords,
    )
    div = xt.calc.Divergence()(ds)
    assert float(np.abs(div).max()) < 1e-14  # ∂u/∂λ = 0 and v = 0: rounding only (ζ ~ 1e-4)
    want = 2 * OMEGA * np.sin(phi)
    curl = xt.calc.Curl()(ds)
    assert rel(curl - want, want) < 1e-3  # (u cos φ) = ΩR cos²φ: O(h²) at 1° spacing
    assert curl.attrs["units"] == "m s-1 m-1" and curl.name == "curl"


def test_curl_of_gradient_is_zero_and_divergence_of_gradient_is_the_laplacian():
    coords, lam, phi = sphere(1.0)
    f = field(np.sin(phi) * np.cos(phi) * np.cos(lam), coords)
    g = xt.calc.Gradient()(f)
    assert float(np.abs(xt.calc.Curl()(g)).max()) < 1e-25  # difference operators commute
    lap = xt.calc.Laplacian()(f)
    # Both O(h²) inside (5-point vs 3-point span); at the edges one-sided differences of
    # one-sided differences are only O(h), so compare two rows/columns in.
    err = (xt.calc.Divergence()(g) - lap).values[2:-2, 2:-2]
    assert rel(err, lap) < 2e-3


# --- MetPy ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mpcalc():
    return pytest.importorskip("metpy.calc")


def test_cartesian_gradient_and_laplacian_equal_metpy(mpcalc):
    f, *_ = cartesian(61, uniform=False)
    x, y = f.x.values, f.y.values
    dfdy, dfdx = (d.magnitude for d in mpcalc.gradient(f.values, coordinates=(y, x)))
    g = xt.calc.Gradient()(f)
    np.testing.assert_allclose(g["u"], dfdx, rtol=1e-10, atol=1e-18)
    np.testing.assert_allclose(g["v"], dfdy, rtol=1e-10, atol=1e-18)
    # MetPy's second derivative: the same 3-point stencil inside, 3 one-sided points at
    # the edges (first order there); ours uses 4 (second order), so compare inside only.
    want = mpcalc.laplacian(f.values, coordinates=(y, x)).magnitude
    got = xt.calc.Laplacian()(f).values
    np.testing.assert_allclose(got[1:-1, 1:-1], want[1:-1, 1:-1], rtol=1e-9, atol=1e-20)


def metpy_on_sphere(values: dict, coords):
    ds = xr.Dataset(
        {k: (("lat", "lon"), v, {"units": "m/s"}) for k, v in values.items()}, coords=coords
    )
    return ds.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=R)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_spherical_divergence_vorticity_laplacian_equal_metpy(mpcalc):
    coords, lam, phi = sphere(1.0, lat_max=70.0)
    u = 10 * np.cos(phi) * np.sin(2 * lam) + 5 * np.sin(phi) ** 2
    v = 8 * np.cos(lam) * np.cos(phi) ** 2
    h = np.sin(phi) * np.cos(phi) * np.cos(lam)
    ds = metpy_on_sphere({"u": u, "v": v, "h": h}, coords)
    ours = xr.Dataset({"u": (("lat", "lon"), u), "v": (("lat", "lon"), v)}, coords=coords)
    div_mp = mpcalc.divergence(ds["u"], ds["v"]).metpy.dequantify().values
    vor_mp = mpcalc.vorticity(ds["u"], ds["v"]).metpy.dequantify().values
    lap_mp = mpcalc.geospatial_laplacian(ds["h"]).metpy.dequantify().values
    div = xt.calc.Divergence()(ours).values
    vor = xt.calc.Curl()(ours).values
    lap = xt.calc.Laplacian()(field(h, coords)).values
    # MetPy differentiates u, v on the nominal grid (dx = R Δλ, dy = R Δφ) and adds the
    # metric term with a numerical derivative of the map factor 1/cos φ; we difference
    # v cos φ and u cos φ (flux form). Both are O(h²), so at 1° they agree to O(h²):
    # 3e-4 of the peak for the divergence, 5e-3 for the vorticity (MetPy's d(1/cos φ)/dy
    # is the larger error near 70°: against the analytic curl ours is 7x closer).
    assert rel(div - div_mp, div_mp) < 3e-4
    assert rel(vor - vor_mp, vor_mp) < 5e-3
    div_true = (20 * np.cos(2 * lam) - 24 * np.cos(lam) * np.cos(phi) * np.sin(phi)) / R
    vor_true = (
        -8 * np.sin(lam) * np.cos(phi) ** 2
        + 20 * np.cos(phi) * np.sin(phi) * np.sin(2 * lam)
        - 10 * np.sin(phi) * np.cos(phi) ** 2
        + 5 * np.sin(phi) ** 3
    ) / (R * np.cos(phi))
    assert rel(div - div_true, div_true) < 1e-3
    assert rel(vor - vor_true, vor_true) < 1e-3
    assert rel(div - div_true, div_true) <= rel(div_mp - div_true, div_true)
    assert rel(vor - vor_true, vor_true) < rel(vor_mp - vor_true, vor_true) / 5
    # MetPy's geospatial Laplacian is div(grad) (5-point span); ours 3-point: O(h²) apart.
    # At the edges MetPy's one-sided differences of one-sided differences are O(h), so
    # compare two rows/columns in; against the exact -6 h / R² ours is closer everywhere.
    inner = (slice(2, -2), slice(2, -2))
    assert rel((lap - lap_mp)[inner], lap_mp) < 2e-3
    want = -6.0 * h / R**2
    assert rel(lap - want, want) < rel(lap_mp - want, want)


# --- NumPy == jax.jit ----------------------------------------------------------------------


@pytest.mark.parametrize("geometry", ["cartesian", "spherical"])
def test_kernels_numpy_equal_jax_jit(geometry):
    if geometry == "cartesian":
        f, *_ = cartesian(41, uniform=False)
        f = f.expand_dims(time=2).transpose("y", "time", "x")  # axes not last: by name
        grid = grid_of("t", f, "x", "y", "auto", R)
        xa, ya = 2, 0
    else:
        coords, lam, phi = sphere(2.0)
        f = field(np.sin(phi) * np.cos(phi) * np.cos(lam), coords).expand_dims(t=2)
        grid = grid_of("t", f, "lon", "lat", "auto", R)
        xa, ya = 2, 1
    a = f.values.astype(np.float32)
    b = (np.cos(a) * 2.0).astype(np.float32)
    kernels = [
        lambda p, q: gradient_kernel(p, grid, xa, ya),
        lambda p, q: divergence_kernel(p, q, grid, xa, ya),
        lambda p, q: curl_kernel(p, q, grid, xa, ya),
        lambda p, q: laplacian_kernel(p, grid, xa, ya),
    ]
    for kernel in kernels:
        eager = kernel(a, b)
        jitted = jax.jit(kernel)(jnp.asarray(a), jnp.asarray(b))
        eager = eager if isinstance(eager, tuple) else (eager,)
        jitted = jitted if isinstance(jitted, tuple) else (jitted,)
        for e, j in zip(eager, jitted, strict=True):
            assert isinstance(e, np.ndarray) and e.dtype == np.float32
            # float32: second differences cancel ~3 digits, and XLA fuses (FMA) where NumPy
            # rounds each step, so 1e-3 of the field's peak (the 4-point edge stencils).
            np.testing.assert_allclose(np.asarray(j), e, rtol=1e-3, atol=1e-3 * np.abs(e).max())


# --- dims, attrs, config, errors -----------------------------------------------------------


def test_dims_detected_by_cf_attrs_and_order_free():
    coords, lam, phi = sphere(2.0)
    f = field(np.cos(phi) * np.cos(lam), coords)
    want = xt.calc.Laplacian()(f)
    renamed = f.rename(lat="j", lon="i")
    renamed.coords["j"].attrs = {"standard_name": "latitude", "units": "degrees_north"}
    renamed.coords["i"].attrs = {"axis": "X", "units": "degrees_east"}
    got = xt.calc.Laplacian()(renamed.expand_dims(time=3).transpose("i", "time", "j"))
    assert got.dims == ("i", "time", "j")
    np.testing.assert_allclose(got.isel(time=1).transpose("j", "i"), want, rtol=1e-12)
    explicit = xt.calc.Laplacian(x_dim="i", y_dim="j", geometry="spherical")
    np.testing.assert_allclose(explicit(renamed), want, rtol=1e-12)


def test_output_attrs_and_coords():
    f, *_ = cartesian(41)
    g = xt.calc.Gradient(u="dfdx", v="dfdy")(f)
    assert list(g.data_vars) == ["dfdx", "dfdy"]
    assert g["dfdx"].attrs["units"] == "K m-1" and "standard_name" not in g["dfdx"].attrs
    lap = xt.calc.Laplacian()(f)
    assert lap.attrs["units"] == "K m-2" and lap.name == "f"
    xr.testing.assert_identical(lap.coords.to_dataset(), f.coords.to_dataset())


def test_yaml_round_trip_keeps_the_numbers():
    f, *_ = cartesian(41)
    op = xt.calc.Gradient(x_dim="x", y_dim="y", geometry="cartesian", u="a", v="b")
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert pk.config_hash(again) == pk.config_hash(op)
    xr.testing.assert_identical(again(f), op(f))


def test_errors_teach():
    f, *_ = cartesian(41)
    with pytest.raises(pk.ConfigError, match=r"Curl: geometry must be one of"):
        xt.calc.Curl(geometry="polar")
    with pytest.raises(pk.ConfigError, match=r"Laplacian: radius must be a positive number"):
        xt.calc.Laplacian(radius=-1.0)
    with pytest.raises(pk.ConfigError, match=r"Gradient: x_dim must be a dimension name"):
        xt.calc.Gradient(x_dim=3)
    with pytest.raises(xt.calc.CalcTypeError, match=r"Gradient takes a scalar field.*ds\['name'\]"):
        xt.calc.Gradient()(f.to_dataset())
    with pytest.raises(xt.calc.CalcValueError, match=r"Divergence: the Dataset has no variable"):
        xt.calc.Divergence(u="uo", v="vo")(xr.Dataset({"u": f, "v": f}))
    anon = f.rename(x="a", y="b")
    with pytest.raises(
        xt.calc.CalcValueError, match=r"Laplacian: cannot tell which dimension is x"
    ):
        xt.calc.Laplacian()(anon)
    deg = f.assign_coords(x=("x", f.x.values, {"units": "degrees_east"}))
    with pytest.raises(xt.calc.CalcValueError, match=r"must be in metres"):
        xt.calc.Laplacian(geometry="cartesian")(deg)


def test_nodata_spreads_only_to_the_stencil_neighbours():
    f, *_ = cartesian(41)
    ints = (f * 1000).round().astype(np.int16)
    ints.values[10, 20] = -999
    ints.attrs["_FillValue"] = -999  # integer nodata: converted to NaN, then differenced
    lap = xt.calc.Laplacian()(ints)
    nan = np.isnan(lap.values)
    want = np.zeros_like(nan)
    want[9:12, 20] = want[10, 19:22] = True  # the 3-point stencils through (10, 20)
    np.testing.assert_array_equal(nan, want)
    assert "_FillValue" not in lap.attrs and lap.dtype == np.float32
    g = xt.calc.Gradient()(ints)
    assert np.isnan(g["u"].values[10, 19:22]).all() and np.isnan(g["v"].values[9:12, 20]).all()
    # the centre's weight is 0 in a centred first difference, but 0 * NaN is NaN: the
    # nodata pixel itself stays nodata (nodata in, nodata out)
    assert np.isnan(g["u"].values).sum() == 3 and np.isnan(g["v"].values).sum() == 3


def test_periodic_longitude_uses_centred_differences_across_the_seam():
    coords, lam, phi = sphere(1.0, lat_max=80.0)  # 0 .. 359: once around the circle
    y = np.cos(phi) * np.cos(lam) + np.sin(phi) * np.cos(phi) * np.sin(lam)
    f = field(y, coords)
    g = xt.calc.Gradient(periodic_x=True)(f)
    h = np.deg2rad(1.0)
    seam = (y[:, 1] - y[:, -1]) / (2 * h * R * np.cos(phi[:, 0]))  # hand-written wrap
    np.testing.assert_allclose(g["u"].values[:, 0], seam, rtol=1e-12)
    want = (
        -2.0 * np.cos(phi) * np.cos(lam) / R**2
        - 6.0 * np.sin(phi) * np.cos(phi) * np.sin(lam) / R**2
    )
    wrapped = xt.calc.Laplacian(periodic_x=True)(f) - want
    open_ = xt.calc.Laplacian()(f) - want
    cols, low = [0, -1], np.abs(coords["lat"][1]) < 30  # low latitudes: x terms dominate
    # the seam columns are as good as the interior once wrapped; one-sided they are not
    assert rel(wrapped.values[:, cols], want) < 2 * rel(wrapped.values[:, 1:-1], want)
    seam_open, seam_wrapped = open_.values[low][:, cols], wrapped.values[low][:, cols]
    assert rel(seam_open, want) > 5 * rel(seam_wrapped, want), (
        rel(seam_open, want),
        rel(seam_wrapped, want),
    )
    descending = f.isel(lon=slice(None, None, -1))
    np.testing.assert_allclose(
        xt.calc.Laplacian(periodic_x=True)(descending).isel(lon=slice(None, None, -1)),
        wrapped + want,
        rtol=1e-9,
        atol=1e-25,
    )


def test_periodic_x_refuses_grids_that_do_not_close():
    coords, lam, phi = sphere(1.0)
    regional = field(np.cos(phi) * np.cos(lam), coords).isel(lon=slice(0, 90))
    with pytest.raises(xt.calc.CalcValueError, match=r"Laplacian: periodic_x=True needs long"):
        xt.calc.Laplacian(periodic_x=True)(regional)
    f, *_ = cartesian(41)
    with pytest.raises(xt.calc.CalcValueError, match=r"Curl: periodic_x=True wraps.*cartesian"):
        xt.calc.Curl(periodic_x=True)(xr.Dataset({"u": f, "v": f}))
    with pytest.raises(pk.ConfigError, match=r"Gradient\(periodic_x\) expects a bool"):
        xt.calc.Gradient(periodic_x="yes")
