"""geotoolz.viz against independent oracles: NumPy indexing, np.nanpercentile, matplotlib's
own colormap call, and ESRI's published hillshade algorithm (explicit slope and aspect) plus
hand-computed planes."""

import math
import pickle
import sys

import equinox as eqx
import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene
from geotoolz.viz._colormap import colormap_lut

UTM = (10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)


def jit_values(op, gt):
    out = eqx.filter_jit(lambda o, x: o(x))(op, gt.replace(values=jnp.asarray(gt.values)))
    return np.asarray(out.values)


# ---------------------------------------------------------------- TrueColor / FalseColor


def test_true_color_finds_sentinel2_red_green_blue_by_name():
    scene = synthetic_scene(12, 10, seed=2)
    out = gz.viz.TrueColor()(scene)
    np.testing.assert_array_equal(out.values, np.asarray(scene.values)[[2, 1, 0]])
    assert out.band_names == ("B04", "B03", "B02")
    assert out.transform == scene.transform and out.fill_value == scene.fill_value
    assert out.dtype == np.uint16


def test_true_color_finds_landsat_names_and_takes_indices():
    values = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    names = ("SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5")
    gt = gc.GeoTensor(values, UTM, "EPSG:32630", band_names=names)
    np.testing.assert_array_equal(gz.viz.TrueColor()(gt).values, values[[3, 2, 1]])
    np.testing.assert_array_equal(gz.viz.TrueColor(bands=(3, 2, -4))(values), values[[3, 2, 1]])


def test_true_color_without_names_teaches_bands():
    with pytest.raises(gz.GeotoolzValueError, match=r"TrueColor: bands=None .* no band names"):
        gz.viz.TrueColor()(np.zeros((3, 2, 2)))
    gt = gc.GeoTensor(np.zeros((2, 2, 2)), UTM, "EPSG:32630", band_names=("VV", "VH"))
    with pytest.raises(gz.GeotoolzValueError, match=r"bands named \('VV', 'VH'\).*bands=\(r, g"):
        gz.viz.TrueColor()(gt)


def test_false_color_by_names_and_indices():
    scene = synthetic_scene(8, 9, seed=4)
    out = gz.viz.FalseColor(("B08", "B04", "B03"))(scene)
    np.testing.assert_array_equal(out.values, np.asarray(scene.values)[[3, 2, 1]])
    assert out.band_names == ("B08", "B04", "B03")
    mixed = gz.viz.FalseColor((9, "B8A", 2))(scene)  # B12, B8A, B04: a SWIR composite
    np.testing.assert_array_equal(mixed.values, np.asarray(scene.values)[[9, 7, 2]])
    assert mixed.band_names == ("B12", "B8A", "B04")
    twice = gz.viz.FalseColor((3, 3, 3))(scene)  # one band as grey RGB: names not unique
    assert twice.band_names is None


def test_band_errors_teach():
    scene = synthetic_scene(4, 4)
    with pytest.raises(gz.GeotoolzValueError, match=r"no band is named 'B8'; the input's bands"):
        gz.viz.FalseColor(("B8", "B04", "B03"))(scene)
    with pytest.raises(gz.GeotoolzValueError, match=r"'B08' is a name, but .* no names"):
        gz.viz.FalseColor(("B08", 1, 0))(np.zeros((4, 2, 2)))
    with pytest.raises(gz.BandIndexError, match=r"FalseColor: band 13 is out of range for 13"):
        gz.viz.FalseColor((13, 1, 0))(scene)
    with pytest.raises(gz.GeotoolzValueError, match=r"TrueColor picks three bands .* \(2, 2\)"):
        gz.viz.TrueColor((0, 1, 2))(np.zeros((2, 2)))
    for bad in [(1, 2), (1, 2, True), (1, 2, ""), 3]:
        with pytest.raises(pk.ConfigError, match=r"FalseColor: bands must be three bands"):
            gz.viz.FalseColor(bad)


# ---------------------------------------------------------------- StretchToUint8


def stretch_oracle(values: np.ndarray, p_min: float, p_max: float) -> np.ndarray:
    """np.nanpercentile per band, then 1 + round(254 * clip(t, 0, 1)); NaN -> 0."""
    out = np.zeros(values.shape, np.uint8)
    for b, band in enumerate(values):
        lo, hi = np.nanpercentile(band, (p_min, p_max))
        t = np.clip((band - lo) / (hi - lo), 0, 1)
        out[b] = np.where(np.isnan(band), 0, 1 + np.round(254 * np.nan_to_num(t)))
    return out


def test_stretch_matches_nanpercentile_and_keeps_nodata_zero():
    scene = synthetic_scene(30, 34, seed=5)
    values = np.array(scene.values)
    values[:, 2:5, 3:9] = 0  # nodata: every band at the fill value
    gt = scene.replace(values=values)
    out = gz.viz.StretchToUint8()(gt)
    floats = np.where((values == 0).all(0), np.nan, values.astype(np.float32))
    expected = stretch_oracle(floats, 2, 98)
    assert out.dtype == np.uint8 and out.fill_value == 0 and out.band_names == scene.band_names
    np.testing.assert_array_equal(out.values, expected)
    assert (out.values[:, 2:5, 3:9] == 0).all() and (out.values[:, 10:, :] >= 1).all()
    np.testing.assert_array_equal(jit_values(gz.viz.StretchToUint8(), gt), expected)


def test_stretch_float_nan_constant_and_empty_bands():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6, 7))
    x[0, 1, 1] = np.nan
    x[1] = 4.0  # constant: 1
    x[2] = np.nan  # no valid pixel: 0
    out = gz.viz.StretchToUint8(p_min=10, p_max=90)(x)
    np.testing.assert_array_equal(out[0], stretch_oracle(x[:1], 10, 90)[0])
    assert (out[1] == 1).all() and (out[2] == 0).all()
    assert out[0, 1, 1] == 0 and out[0].max() == 255 and out[0][~np.isnan(x[0])].min() == 1


def test_stretch_config_errors():
    for p_min, p_max in [(50, 50), (-1, 98), (2, 101), (True, 98), (2, math.nan)]:
        with pytest.raises(pk.ConfigError, match=r"StretchToUint8: need numbers 0 <= p_min"):
            gz.viz.StretchToUint8(p_min, p_max)


# ---------------------------------------------------------------- ApplyColormap


@pytest.mark.parametrize("name", ["viridis", "RdYlGn", "gray", "tab10"])
def test_colormap_equals_matplotlib(name):
    rng = np.random.default_rng(7)
    band = rng.normal(size=(9, 11))
    band[2, 3] = np.nan
    out = gz.viz.ApplyColormap(name)(band)
    lo, hi = np.nanmin(band), np.nanmax(band)
    want = matplotlib.colormaps[name]((band - lo) / (hi - lo), bytes=True)  # (y, x, 4)
    want[2, 3] = 0  # NaN: matplotlib's "bad" colour (0, 0, 0, 0)
    assert out.shape == (4, 9, 11) and out.dtype == np.uint8
    np.testing.assert_array_equal(np.moveaxis(out, 0, -1), want)


def test_colormap_fixed_range_clips_like_matplotlib_and_reads_nodata():
    scene = synthetic_scene(16, 18, seed=1)
    ndvi = gz.indices.NDVI(red_idx=2, nir_idx=3)(scene)  # (y, x) float32, NaN nodata
    values = np.array(ndvi.values)
    values[0, :5] = np.nan
    ndvi = ndvi.replace(values=values)
    op = gz.viz.ApplyColormap("RdYlGn", vmin=0.0, vmax=0.5)  # NDVI up to ~0.8: clipped
    out = op(ndvi)
    t = (values.astype(np.float64) - 0.0) / 0.5
    want = np.moveaxis(matplotlib.colormaps["RdYlGn"](t, bytes=True), -1, 0)
    want[:, np.isnan(values)] = 0
    np.testing.assert_array_equal(out.values, want)
    assert out.band_names == ("R", "G", "B", "A") and out.fill_value == 0
    assert out.transform == ndvi.transform
    np.testing.assert_array_equal(jit_values(op, ndvi), want)
    assert (out.values[3] == np.where(np.isnan(values), 0, 255)).all()
    # a one-band GeoTensor with a band axis and an integer fill value
    band = scene[3:4]
    rgba = gz.viz.ApplyColormap("magma")(band.replace(values=np.where(
        np.arange(18) < 2, 0, np.asarray(band.values)).astype(np.uint16)))  # fmt: skip
    assert rgba.shape == (4, 16, 18) and (rgba.values[:, :, :2] == 0).all()
    assert (rgba.values[3, :, 2:] == 255).all()


def test_colormap_table_is_not_config():
    op = gz.viz.ApplyColormap("magma", vmin=-1, vmax=1)
    assert op.state == {"_target_": "geotoolz.viz.ApplyColormap", "name": "magma",
                        "vmin": -1.0, "vmax": 1.0}  # fmt: skip
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again.lut == op.lut and pk.config_hash(again) == pk.config_hash(op)
    assert "lut" not in pk.dumps_yaml(op)
    assert pickle.loads(pickle.dumps(op)).lut == op.lut
    want = matplotlib.colormaps["magma"](np.arange(256), bytes=True)
    np.testing.assert_array_equal(np.asarray(op.lut), want)


def test_colormap_without_matplotlib_names_the_extra(monkeypatch):
    colormap_lut.cache_clear()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    try:
        with pytest.raises(ImportError, match=r"pip install 'pipekit-geo\[viz\]'"):
            gz.viz.ApplyColormap("viridis")
    finally:
        colormap_lut.cache_clear()


def test_colormap_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"matplotlib colormap .* got 'virdis'.*'viridis'"):
        gz.viz.ApplyColormap("virdis")
    with pytest.raises(pk.ConfigError, match=r"ApplyColormap: need vmin < vmax"):
        gz.viz.ApplyColormap(vmin=1, vmax=1)
    with pytest.raises(pk.ConfigError, match=r"vmax must be None or a finite number"):
        gz.viz.ApplyColormap(vmax=math.inf)
    with pytest.raises(gz.GeotoolzValueError, match=r"ApplyColormap takes one band.*13, 4, 4"):
        gz.viz.ApplyColormap()(synthetic_scene(4, 4))


# ---------------------------------------------------------------- Hillshade


def esri_hillshade(dem, cell_x, cell_y, azimuth, altitude, z_factor):
    """ESRI's "How Hillshade works": explicit slope, aspect, zenith and math azimuth."""
    pad = np.pad(dem, 1, constant_values=np.nan)
    h, w = dem.shape
    a, b, c, d, _, f, g, hh, i = [pad[r : r + h, s : s + w] for r in range(3) for s in range(3)]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * cell_x)
    dzdy = ((g + 2 * hh + i) - (a + 2 * b + c)) / (8 * cell_y)
    slope = np.arctan(z_factor * np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    aspect = np.where(aspect < 0, aspect + 2 * np.pi, aspect)
    zenith = np.radians(90 - altitude)
    azimuth_math = np.radians((360 - azimuth + 90) % 360)
    shade = np.cos(zenith) * np.cos(slope)
    shade = shade + np.sin(zenith) * np.sin(slope) * np.cos(azimuth_math - aspect)
    return np.maximum(255 * shade, 0)


def dem_tensor(values, transform=(10.0, 0.0, 500000.0, 0.0, -20.0, 4000000.0), fill=None):
    return gc.GeoTensor(values, transform, "EPSG:32630", fill_value=fill)


@pytest.mark.parametrize(("azimuth", "altitude", "z_factor"), [(315, 45, 1), (90, 30, 2),
                                                               (200, 60, 0.5)])  # fmt: skip
def test_hillshade_equals_esri_formula_with_rectangular_pixels(azimuth, altitude, z_factor):
    rng = np.random.default_rng(0)
    dem = np.cumsum(np.cumsum(rng.normal(size=(20, 30)), 0), 1) * 3.0
    op = gz.viz.Hillshade(azimuth, altitude, z_factor)
    out = op(dem_tensor(dem))
    want = esri_hillshade(dem, 10.0, 20.0, azimuth, altitude, z_factor)
    assert out.dtype == np.float64 and np.isnan(out.fill_value)
    np.testing.assert_allclose(out.values, want, rtol=0, atol=1e-9, equal_nan=True)
    border = np.ones(dem.shape, bool)
    border[1:-1, 1:-1] = False
    assert np.isnan(out.values[border]).all() and not np.isnan(out.values[~border]).any()
    f32 = dem_tensor(dem.astype(np.float32))
    np.testing.assert_allclose(jit_values(op, f32), want, atol=2e-3, equal_nan=True)


def plane(gx, gy, shape=(7, 9), res=10.0):
    """z = gx * E + gy * N on a north-up grid of ``res`` pixels (E east, N north)."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return gx * cols * res + gy * (-rows * res)


def test_flat_dem_at_altitude_90_is_255():
    op = gz.viz.Hillshade(altitude=90, compute_edges=True)
    out = op(dem_tensor(np.full((5, 6), 123.0), (10, 0, 0, 0, -10, 0)))
    np.testing.assert_array_equal(out.values, 255.0)
    flat45 = gz.viz.Hillshade()(dem_tensor(np.zeros((5, 6)), (10, 0, 0, 0, -10, 0)))
    np.testing.assert_allclose(flat45.values[1:-1, 1:-1], 255 * math.sin(math.radians(45)))


def test_slope_at_altitude_90_is_255_cos_slope():
    grid = (10, 0, 0, 0, -10, 0)
    for gx, gy in [(1.0, 0.0), (0.0, -0.5), (0.3, 0.4)]:
        out = gz.viz.Hillshade(azimuth=123, altitude=90, compute_edges=True)(
            dem_tensor(plane(gx, gy), grid)
        )
        slope = math.atan(math.hypot(gx, gy))
        np.testing.assert_allclose(out.values, 255 * math.cos(slope), atol=1e-9)


def test_plane_facing_the_sun_and_away_from_it():
    grid = (10, 0, 0, 0, -10, 0)
    slope, alt = math.radians(30), 45
    g = math.tan(slope)
    # rises towards the south-east, so it faces north-west: the default sun (315)
    facing_nw = dem_tensor(plane(g / math.sqrt(2), -g / math.sqrt(2)), grid)
    lit = gz.viz.Hillshade(azimuth=315, altitude=alt, compute_edges=True)(facing_nw)
    np.testing.assert_allclose(lit.values, 255 * math.sin(math.radians(alt) + slope), atol=1e-9)
    away = gz.viz.Hillshade(azimuth=135, altitude=alt, compute_edges=True)(facing_nw)
    np.testing.assert_allclose(away.values, 255 * math.sin(math.radians(alt) - slope), atol=1e-9)
    # rises towards the west, faces east: lit from the east, side-lit from the north
    facing_e = dem_tensor(plane(-g, 0.0), grid)
    east = gz.viz.Hillshade(azimuth=90, altitude=alt, compute_edges=True)(facing_e)
    np.testing.assert_allclose(east.values, 255 * math.sin(math.radians(alt) + slope), atol=1e-9)
    north = gz.viz.Hillshade(azimuth=0, altitude=alt, compute_edges=True)(facing_e)
    side = 255 * math.sin(math.radians(alt)) * math.cos(slope)
    np.testing.assert_allclose(north.values, side, atol=1e-9)
    # steeper than the sun is high, facing away: in shadow, clipped to 0
    steep = dem_tensor(plane(-math.tan(math.radians(60)), 0.0), grid)
    dark = gz.viz.Hillshade(azimuth=270, altitude=20, compute_edges=True)(steep)
    np.testing.assert_array_equal(dark.values, 0.0)


def test_hillshade_nodata_as_gdal():
    dem = plane(0.2, 0.1, shape=(8, 8))
    dem[4, 4] = -9999.0
    gt = dem_tensor(dem, (10, 0, 0, 0, -10, 0), fill=-9999.0)
    default = np.asarray(gz.viz.Hillshade()(gt).values)
    window = np.zeros((8, 8), bool)
    window[3:6, 3:6] = True
    window[[0, -1], :] = window[:, [0, -1]] = True
    np.testing.assert_array_equal(np.isnan(default), window)
    edges = np.asarray(gz.viz.Hillshade(compute_edges=True)(gt).values)
    assert np.isnan(edges[4, 4]) and np.isnan(edges).sum() == 1
    # a neighbour of the hole sees the centre's value there (GDAL): in the ESRI oracle
    dem_filled = dem.copy()
    dem_filled[4, 4] = dem[3, 3]
    np.testing.assert_allclose(edges[3, 3], esri_hillshade(dem_filled, 10, 10, 315, 45, 1)[3, 3])


def test_hillshade_errors_teach():
    with pytest.raises(gz.GeotoolzTypeError, match=r"Hillshade needs the pixel size .* ndarray"):
        gz.viz.Hillshade()(np.zeros((4, 4)))
    with pytest.raises(gz.GeotoolzValueError, match=r"Hillshade takes one band"):
        gz.viz.Hillshade()(synthetic_scene(4, 4))
    rotated = gc.GeoTensor(np.zeros((4, 4)), (10, 1, 0, 1, -10, 0), "EPSG:32630")
    with pytest.raises(gz.GeotoolzValueError, match=r"Hillshade: the DEM's grid is rotated"):
        gz.viz.Hillshade()(rotated)
    with pytest.raises(gz.GeotoolzValueError, match=r"extrapolates from 2 rows .* 1x4 DEM"):
        gz.viz.Hillshade(compute_edges=True)(dem_tensor(np.zeros((1, 4))))
    with pytest.raises(pk.ConfigError, match=r"Hillshade: altitude must be a number in \[0"):
        gz.viz.Hillshade(altitude=95)
    with pytest.raises(pk.ConfigError, match=r"Hillshade: z_factor must be a number in \(0"):
        gz.viz.Hillshade(z_factor=0)
