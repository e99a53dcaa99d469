"""xr_toolz.transforms against xrft 1.0 (power_spectrum, isotropic_power_spectrum),
Parseval, and the NumPy kernels against jax.jit."""

from __future__ import annotations

import functools
import pickle
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import pipekit as pk
import xr_toolz
from xr_toolz.transforms import _kernels

# xrft 1.0 has docstrings with "\\m": a DeprecationWarning at compile time on Python 3.11,
# an error under filterwarnings = error.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "invalid escape sequence")
    import xrft

T = xr_toolz.transforms
RTOL = 1e-10
# xrft 1.0 calls DataArray.drop (deprecated in xarray) and warns when truncate=False.
XRFT_WARNINGS = [
    pytest.mark.filterwarnings("ignore:dropping variables using `drop`:FutureWarning"),
    pytest.mark.filterwarnings("ignore:Isotropic wavenumber larger:FutureWarning"),
]
pytestmark = XRFT_WARNINGS


def field(seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    ny, nx = 16, 20
    values = rng.normal(size=(3, ny, nx)) + np.linspace(0.0, 3.0, nx) + 280.0
    da = xr.DataArray(
        values,
        dims=("time", "y", "x"),
        coords={"time": [0, 1, 2], "y": np.arange(ny) * 2.0, "x": 100.0 + np.arange(nx) * 0.5},
        attrs={"units": "K"},
        name="sst",
    )
    da.x.attrs["units"] = "m"
    da.y.attrs["units"] = "m"
    return da


def assert_close(out: xr.DataArray, ref: xr.DataArray) -> None:
    ref = ref.transpose(*out.dims)
    assert out.dims == ref.dims
    for d in out.dims:
        np.testing.assert_allclose(out[d].values, ref[d].values, rtol=1e-12)
    # atol: bins that are 0 up to round-off (the zero frequency after detrending)
    np.testing.assert_allclose(
        out.values, ref.values, rtol=RTOL, atol=1e-12 * float(np.abs(ref).max())
    )


@pytest.mark.parametrize("dim", [("x",), ("y",), ("y", "x"), ("x", "y")])
@pytest.mark.parametrize("detrend", [None, "constant", "linear"])
@pytest.mark.parametrize("window", [None, "hann"])
def test_power_spectrum_equals_xrft(dim, detrend, window) -> None:
    da = field()
    out = T.PowerSpectrum(dim, detrend=detrend, window=window)(da)
    ref = xrft.power_spectrum(da, dim=list(dim), detrend=detrend, window=window)
    assert_close(out, ref)
    for d in dim:
        assert f"freq_{d}" in out.dims and out[f"freq_{d}"].attrs["units"] == "1/m"
    assert out.attrs["units"] == ("K^2 m" if len(dim) == 1 else "K^2 m^2")


def test_spectrum_scaling_equals_xrft() -> None:
    da = field(1)
    out = T.PowerSpectrum("x", detrend="constant", scaling="spectrum")(da)
    assert_close(out, xrft.power_spectrum(da, dim="x", detrend="constant", scaling="spectrum"))
    assert out.attrs["units"] == "K^2"


@pytest.mark.parametrize("dim", [("x",), ("y", "x")])
def test_parseval(dim) -> None:
    """sum(density) * prod(df) == variance over dim (detrend='constant'), to 1e-12."""
    da = field(2)
    out = T.PowerSpectrum(dim, detrend="constant")(da)
    df = np.prod([float(out[f"freq_{d}"].attrs["spacing"]) for d in dim])
    total = out.sum([f"freq_{d}" for d in dim]) * df
    np.testing.assert_allclose(total.values, da.var(dim).values, rtol=1e-12)


@pytest.mark.parametrize("nfactor", [1, 2, 4])
@pytest.mark.parametrize("detrend", [None, "linear"])
def test_isotropic_equals_xrft(nfactor, detrend) -> None:
    da = field(3)
    out = T.IsotropicSpectrum(("y", "x"), nfactor, detrend=detrend)(da)
    ref = xrft.isotropic_power_spectrum(da, dim=["y", "x"], nfactor=nfactor, detrend=detrend)
    assert out.sizes["freq_r"] == int(16 / nfactor)
    assert_close(out, ref)
    assert out.attrs["units"] == "K^2 m" and out.freq_r.attrs["units"] == "1/m"


def test_isotropic_dims_order_and_window() -> None:
    da = field(4).transpose("x", "time", "y")
    out = T.IsotropicSpectrum(("y", "x"), 2, window="hann")(da)
    ref = xrft.isotropic_power_spectrum(da, dim=["y", "x"], nfactor=2, window="hann")
    assert_close(out, ref)


def test_kernels_numpy_equal_jax_jit() -> None:
    # anomalies (float32 cannot resolve unit-size noise on 280 K after cancellation)
    x = np.asarray(field(5).values - 280.0, dtype=np.float32)
    kw = {"detrend_kind": "linear", "window": "hann"}
    ref = _kernels.power_spectrum(x.astype(np.float64), (1, 2), (2.0, 0.5), **kw)
    fn = jax.jit(functools.partial(_kernels.power_spectrum, axes=(1, 2), spacing=(2.0, 0.5), **kw))
    got = np.asarray(fn(jnp.asarray(x)))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6 * ref.max())
    fa = np.fft.fftshift(np.fft.fftfreq(16, 2.0))
    fb = np.fft.fftshift(np.fft.fftfreq(20, 0.5))
    radius, edges = _kernels.radial_bins(fa, fb, 4)
    iso, kr = _kernels.isotropize(ref, radius, edges, (1, 2))
    iso_fn = jax.jit(lambda p: _kernels.isotropize(p, radius, edges, (1, 2)))
    got_iso, got_kr = iso_fn(jnp.asarray(ref, dtype=jnp.float32))
    np.testing.assert_allclose(np.asarray(got_iso), iso, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(got_kr), kr, rtol=1e-5)


def test_keeps_other_dims_and_drops_coords_on_dim() -> None:
    da = field().assign_coords(lon=("x", np.arange(20.0)), label=("time", ["a", "b", "c"]))
    out = T.PowerSpectrum("x")(da)
    assert out.dims == ("time", "y", "freq_x")
    assert "lon" not in out.coords and list(out.label.values) == ["a", "b", "c"]
    np.testing.assert_array_equal(out.y.values, da.y.values)


def test_config_round_trip() -> None:
    op = T.PowerSpectrum(("y", "x"), detrend="linear", window="hann")
    assert pickle.loads(pickle.dumps(op)) == op
    iso = T.IsotropicSpectrum(("y", "x"), 2)
    again = pk.loads_yaml(pk.dumps_yaml(iso))
    assert again == iso and again.dims == ("y", "x") and again.nfactor == 2


def test_config_errors_teach() -> None:
    with pytest.raises(pk.ConfigError, match=r"PowerSpectrum: detrend must be one of"):
        T.PowerSpectrum("x", detrend="quadratic")
    with pytest.raises(pk.ConfigError, match=r"PowerSpectrum: window must be one of"):
        T.PowerSpectrum("x", window="kaiser")
    with pytest.raises(pk.ConfigError, match=r"IsotropicSpectrum: dims must be a tuple of 2"):
        T.IsotropicSpectrum(("x",))
    with pytest.raises(pk.ConfigError, match=r"PowerSpectrum: dim must be"):
        T.PowerSpectrum(("x", "x"))


def test_input_errors_teach() -> None:
    da = field()
    with pytest.raises(T.SpectrumInputError, match=r"PowerSpectrum: dim \['z'\] not in"):
        T.PowerSpectrum("z")(da)
    uneven = da.assign_coords(x=np.r_[0.0, np.cumsum(np.linspace(1, 2, 19))])
    with pytest.raises(T.SpectrumInputError, match=r"coordinate 'x' is not evenly spaced"):
        T.PowerSpectrum("x")(uneven)
    with pytest.raises(T.SpectrumInputError, match=r"takes an xarray.DataArray"):
        T.PowerSpectrum("x")(da.to_dataset())
    with pytest.raises(T.SpectrumInputError, match=r"nfactor=40 leaves no radial bin"):
        T.IsotropicSpectrum(("y", "x"), 40)(da)


def pair(seed: int = 6) -> xr.Dataset:
    """u and v = 0.6 u + noise: partly coherent, 6 realisations along time."""
    rng = np.random.default_rng(seed)
    u = field(seed).isel(y=slice(0, 4))
    u = xr.concat([u, u + rng.normal(size=u.shape)], "time").assign_coords(time=np.arange(6))
    v = 0.6 * u + rng.normal(size=u.shape)
    return xr.Dataset({"u": u, "v": v})


def xrft_coherence(ds: xr.Dataset, dim, over, **kw) -> xr.DataArray:
    """|<S_uv>|^2 / (<S_uu> <S_vv>) from xrft's spectra, mean over ``over``."""
    suv = xrft.cross_spectrum(ds.u, ds.v, dim=list(dim), true_phase=True, **kw).mean(over)
    suu = xrft.power_spectrum(ds.u, dim=list(dim), **kw).mean(over)
    svv = xrft.power_spectrum(ds.v, dim=list(dim), **kw).mean(over)
    return np.abs(suv) ** 2 / (suu * svv)


@pytest.mark.parametrize("dim", [("x",), ("y", "x")])
@pytest.mark.parametrize(("detrend", "window"), [(None, None), ("linear", "hann")])
def test_coherence_equals_xrft_spectra(dim, detrend, window) -> None:
    ds = pair()
    out = T.Coherence(("u", "v"), dim, "time", detrend=detrend, window=window)(ds)
    ref = xrft_coherence(ds, dim, "time", detrend=detrend, window=window)
    assert "time" not in out.dims and out.attrs["units"] == "1"
    assert_close(out, ref)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0 + 1e-12


def test_coherence_of_a_scaled_copy_is_one() -> None:
    ds = pair()
    ds["v"] = 3.0 * ds.u
    np.testing.assert_allclose(T.Coherence(("u", "v"), "x")(ds).values, 1.0, rtol=1e-12)


def test_coherence_kernel_numpy_equal_jax_jit() -> None:
    ds = pair()
    u = np.asarray(ds.u.values - 280.0, dtype=np.float32)
    v = np.asarray(ds.v.values - 168.0, dtype=np.float32)
    kw = {"detrend_kind": "constant", "window": "hann"}
    ref = _kernels.coherence(u.astype(np.float64), v.astype(np.float64), (2,), 0, **kw)
    fn = jax.jit(lambda a, b: _kernels.coherence(a, b, (2,), 0, **kw))
    np.testing.assert_allclose(np.asarray(fn(jnp.asarray(u), jnp.asarray(v))), ref, atol=1e-4)


def test_coherence_errors_teach() -> None:
    with pytest.raises(pk.ConfigError, match=r"Coherence: over must be the name"):
        T.Coherence(("u", "v"), "x", over="x")
    with pytest.raises(pk.ConfigError, match=r"Coherence: variables must be a tuple of 2"):
        T.Coherence(("u",), "x")
    with pytest.raises(T.SpectrumInputError, match=r"Coherence: input must be an xarray"):
        T.Coherence(("u", "w"), "x")(pair())


def test_isotropic_operator_traces_under_jit() -> None:
    """The radial bins are host NumPy (from the frequency coords): the Operator traces."""
    da = field(7) - 280.0
    op = T.IsotropicSpectrum(("y", "x"), 2, detrend="linear")
    eager = op(da)
    jitted = eqx.filter_jit(op)(da.copy(data=jnp.asarray(da.values, dtype=jnp.float32)))
    np.testing.assert_array_equal(jitted.freq_r.values, eager.freq_r.values)
    np.testing.assert_allclose(np.asarray(jitted.data), eager.values, rtol=1e-4)
    ref = xrft.isotropic_power_spectrum(da, dim=["y", "x"], nfactor=2, detrend="linear")
    assert_close(eager, ref)


def test_coherence_nan_where_detrended_auto_spectrum_vanishes() -> None:
    """After a linear detrend the zero-frequency power is round-off: coherence is NaN there
    (xrft's spectra give round-off / round-off, an arbitrary number), on NumPy and jit alike,
    and equal to xrft's ratio at every other frequency."""
    ds = pair()
    op = T.Coherence(("u", "v"), "x", "time", detrend="linear")
    out = op(ds)
    ref = xrft_coherence(ds, ("x",), "time", detrend="linear")
    assert np.isnan(out.sel(freq_x=0.0)).all()
    assert not np.isnan(out.where(out.freq_x != 0.0, 0.5)).any()
    assert_close(out.where(out.freq_x != 0.0, 0.5), ref.where(ref.freq_x != 0.0, 0.5))
    ds32 = (ds - ds.mean()).astype(np.float32)
    eager = op(ds32)
    jitted = eqx.filter_jit(op)(ds32.map(lambda v: v.copy(data=jnp.asarray(v.values))))
    np.testing.assert_array_equal(np.isnan(np.asarray(jitted.data)), np.isnan(eager.values))
    np.testing.assert_allclose(np.asarray(jitted.data), eager.values, atol=1e-4)


def test_coherence_of_a_constant_is_nan() -> None:
    ds = pair()
    ds["v"] = ds.u * 0.0 + 4.0
    assert np.isnan(T.Coherence(("u", "v"), "x", detrend="constant")(ds)).all()


@pytest.mark.parametrize(
    ("shape", "axes"),
    [((3, 7, 10), (1, 2)), ((3, 8, 9), (1, 2)), ((11,), (0,)), ((4, 5, 6), (0, 1, 2)),
     ((6, 5, 4), (0, 2))],
)  # fmt: skip
def test_power_from_the_real_half_equals_the_full_fft(shape, axes):
    """rfftn + Hermitian mirror == |fftn|^2 on even and odd sizes, any axes, NumPy and jit."""
    from xr_toolz.transforms import _kernels as TK

    x = np.random.default_rng(11).standard_normal(shape)
    f = np.fft.fftn(x, axes=axes)
    want = np.fft.fftshift(np.abs(f) ** 2, axes=axes) / np.prod([shape[a] for a in axes]) ** 2
    got = TK.power_spectrum(x, axes, [1.0] * len(axes), scaling="spectrum")
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    jitted = jax.jit(lambda v: TK.power_spectrum(v, axes, [1.0] * len(axes), scaling="spectrum"))
    np.testing.assert_allclose(np.asarray(jitted(jnp.asarray(x))), want, rtol=2e-4, atol=1e-6)
