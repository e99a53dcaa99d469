"""The methane pipelines the seed's cases load, run as the cases write them.

``examples/pipelines/methane_v3.yaml`` and ``methane_v4_candidate.yaml`` (the seed's diff:
DarkObjectSubtraction percentile 1 -> 2, LeeSpeckle(window 5) before MatchedFilter) on
scenes of ``geocatalog.testing.synthetic_emit_scene`` with CH4 plumes:

- Case 9: freeze v3 with its input, save, load, check the hash, rerun with no loader;
- Case 13: config_diff prints the seed's three lines; AB over ``catalog.sample(n)``;
- the flagship bar: v3 -> PlumeMask -> IMEFlux recovers a known source rate within 15 %.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import gaussian_plume, synthetic_emit_scene

from ._examples import run_example

ROOT = Path(__file__).parents[2]
PIPELINES = ROOT / "examples" / "pipelines"
ABSORPTION = gz.methane.ch4_absorption_spectrum()


def load(name: str) -> pk.Operator:
    return pk.loads_yaml((PIPELINES / name).read_text())


def plume_scene(height, width, *, flux_kg_h=2000.0, wind=3.0, stability="D", seed=0):
    """An EMIT-like radiance cube with a Gaussian plume of known rate (30 m pixels)."""
    truth = gaussian_plume(height, width, flux_kg_h=flux_kg_h, wind_speed=wind,
                           stability=stability, units="ppm_m", res=30.0, oversample=2,
                           source_rowcol=(height / 2, 16.5))  # fmt: skip
    scene = synthetic_emit_scene(height, width, seed=seed, absorption=ABSORPTION,
                                 enhancement=np.asarray(truth.values).reshape(height, width),
                                 transform=truth.transform, crs=truth.crs_string)  # fmt: skip
    return truth, scene


def test_pipeline_files_are_what_the_generator_writes(tmp_path):
    subprocess.run([sys.executable, str(PIPELINES / "make_methane_pipelines.py"),
                    "--out", str(tmp_path)], check=True, timeout=120)  # fmt: skip
    for name in ("methane_v3.yaml", "methane_v4_candidate.yaml"):
        assert (tmp_path / name).read_text() == (PIPELINES / name).read_text()
    centres, fwhm = gc.testing.emit_bands()
    mf = load("methane_v3.yaml").ops[-1]
    np.testing.assert_allclose(mf.wavelengths, centres, atol=5e-5)
    np.testing.assert_allclose(mf.fwhm, fwhm, atol=5e-5)


def test_case9_freeze_save_load_rerun_methane_v3(tmp_path):
    _, scene = plume_scene(40, 48, seed=5)
    uri = str(gc.save_cog(scene.radiance, tmp_path / "EMIT_L1B_RAD_synthetic.tif"))
    sha = hashlib.sha256(Path(uri).read_bytes()).hexdigest()
    (tmp_path / "uv.lock").write_text((ROOT / "uv.lock").read_text())

    # === At publication time === (the seed's code, with our paths)
    pipeline = pk.loads_yaml((PIPELINES / "methane_v3.yaml").read_text())
    artifact = pk.repro.freeze(
        pipeline,
        inputs={"scene_uri": uri, "scene_sha256": sha},
        deps_lock=tmp_path / "uv.lock",
        metadata={"author": "ej", "date": "2024-09-15", "doi": "10.xxxx/mars-2024Q3"},
    )
    artifact.save(tmp_path / "mars_methane_2024Q3.gtar")

    # === Years later ===
    art = pk.repro.load(tmp_path / "mars_methane_2024Q3.gtar")
    assert art.pipeline_hash == pk.config_hash(pipeline)
    assert "geotoolz.methane.MatchedFilter" in art.config_yaml
    result = art.rerun()  # no loader: the pipeline starts with geotoolz.io.ReadRaster

    with rasterio.open(uri) as src:  # independent read of the same file
        radiance = src.read()
    want = pipeline(scene.radiance.replace(values=radiance))
    np.testing.assert_array_equal(np.asarray(result.values), np.asarray(want.values))
    assert result.transform == scene.radiance.transform

    Path(uri).write_bytes(Path(uri).read_bytes()[:-1] + b"\0")  # the input changed
    with pytest.raises(pk.repro.ReproError, match="sha256"):
        art.rerun()


def test_case13_methane_v3_against_v4_candidate(tmp_path):
    old = pk.loads_yaml((PIPELINES / "methane_v3.yaml").read_text())
    new = pk.loads_yaml((PIPELINES / "methane_v4_candidate.yaml").read_text())
    assert str(pk.diff.config_diff(old, new)).splitlines() == [
        "- DarkObjectSubtraction.percentile: 1.0",
        "+ DarkObjectSubtraction.percentile: 2.0",
        "+ LeeSpeckle (added before MatchedFilter): {window: 5}",
    ]
    paths = []
    for i in range(5):
        _, scene = plume_scene(32, 40, flux_kg_h=1500.0 + 300 * i, seed=30 + i)
        paths.append(str(gc.save_cog(scene.radiance, tmp_path / f"emit_{i}.tif")))
    catalog = gc.open_catalog(gc.build_catalog(paths, str(tmp_path / "emit.parquet")))

    reg = pk.diff.AB(old, new, metric=pa.metrics.RMSE())
    report = reg.run(catalog.sample(4))
    summary = report.summary()

    expected = []  # oracle: both pipelines on rasterio reads, RMSE by the NumPy formula
    for item in catalog.sample(4):
        with rasterio.open(item["href"]) as src:
            gt = gc.read_raster(item["href"]).replace(values=src.read())
        a = np.asarray(old(gt).values, np.float64)
        b = np.asarray(new(gt).values, np.float64)
        ok = np.isfinite(a) & np.isfinite(b)
        expected.append(np.sqrt(np.mean((a[ok] - b[ok]) ** 2)))
    np.testing.assert_allclose(report.values, expected, rtol=1e-5)
    assert summary["n"] == 4 and summary["median"] == pytest.approx(np.median(expected))
    report.save_histogram(tmp_path / "rmse.png")
    assert (tmp_path / "rmse.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_methane_v3_recovers_the_injected_enhancement_on_the_full_cube():
    """All 285 bands, sensor SNR 400 (the generator's default), a 4 t/h plume (30 m pixels)."""
    truth, scene = plume_scene(96, 160, flux_kg_h=4000.0, wind=3.0, seed=1)
    injected = np.asarray(truth.values).reshape(96, 160)
    alpha = np.asarray(load("methane_v3.yaml")(scene.radiance).values)[0]
    inside = injected > 0.1 * injected.max()
    assert np.corrcoef(alpha[inside], injected[inside])[0, 1] >= 0.9
    slope = np.polyfit(injected[inside], alpha[inside], 1)[0]
    assert 0.8 < slope < 1.25, slope  # ppm·m out for ppm·m in
    background = alpha[injected < 1.0]
    assert abs(np.median(background)) < 0.25 * background.std()


# (rate kg/h, U10 m/s, stability class, scene seed): the calibration plumes fit U_eff, the
# validation plumes (other rates, winds, surfaces and noise) are then recovered.
CALIBRATION = [
    (1000.0, 2.0, "C", 1), (1000.0, 5.0, "D", 2), (2000.0, 2.0, "D", 3),
    (2000.0, 4.0, "C", 4), (2000.0, 6.0, "D", 5), (3000.0, 3.0, "C", 6),
    (3000.0, 5.0, "D", 7), (1500.0, 6.0, "C", 8),
]  # fmt: skip
VALIDATION = [(1500.0, 3.0, "D", 101), (2500.0, 5.0, "C", 102), (1200.0, 2.5, "C", 103),
              (2800.0, 4.5, "D", 104)]  # fmt: skip


def test_methane_v3_plume_mask_ime_flux_recovers_known_rates_within_15_percent():
    """v3 -> PlumeMask -> IMEFlux on 96 x 160 EMIT-like scenes (30 m) with Gaussian plumes.

    U_eff = a U10 + b is calibrated as Varon et al. (2018) do, on retrievals of simulated
    plumes of known rate through the same chain (this absorbs the retrieval's own bias,
    e.g. the matched filter's ~1.1 slope on these surfaces); it is never fitted to the
    validation plumes.
    """
    v3 = load("methane_v3.yaml")
    mask = gz.methane.PlumeMask(false_alarm_rate=0.01, min_pixels=10)

    def retrieve(flux, wind, stability, seed):
        _, scene = plume_scene(96, 160, flux_kg_h=flux, wind=wind, stability=stability,
                               seed=seed)  # fmt: skip
        return gz.methane.IMEFlux(wind_speed=wind, u_eff=1.0)(mask(v3(scene.radiance)))

    fits = [retrieve(*p) for p in CALIBRATION]
    a, b = gz.methane.calibrate_u_eff(fits, [p[0] for p in CALIBRATION],
                                      [p[1] for p in CALIBRATION])  # fmt: skip
    assert 0.2 < a < 0.5 and abs(b) < 0.6  # same order as Varon et al. 2021 (0.33, 0.45)
    for flux, wind, stability, seed in VALIDATION:
        out = gz.methane.IMEFlux(wind_speed=wind, u_eff=(a, b))(
            mask(v3(plume_scene(96, 160, flux_kg_h=flux, wind=wind, stability=stability,
                                seed=seed)[1].radiance))
        )  # fmt: skip
        assert float(out["flux_kg_h"]) == pytest.approx(flux, rel=0.15), (flux, wind)


def test_case9_example_publish_then_rerun_in_a_new_process(tmp_path):
    published = run_example("case09_archive/archive.py", "publish", "--out", str(tmp_path))
    assert published.returncode == 0, published.stderr
    want_hash = pk.config_hash(load("methane_v3.yaml"))
    assert f"pipeline_hash {want_hash}" in published.stdout
    gtar = tmp_path / "mars_methane_demo.gtar"
    rerun = run_example("case09_archive/archive.py", "rerun", str(gtar), "--expect-hash", want_hash)
    assert rerun.returncode == 0, rerun.stderr
    assert "geotoolz.methane.MatchedFilter" in rerun.stdout  # the pinned YAML is printed
    with rasterio.open(tmp_path / "EMIT_L1B_RAD_demo.tif") as src:  # independent read
        scene = gc.read_raster(tmp_path / "EMIT_L1B_RAD_demo.tif").replace(values=src.read())
    want = load("methane_v3.yaml")(scene)
    with rasterio.open(tmp_path / "rerun.tif") as src:
        np.testing.assert_array_equal(src.read(), np.asarray(want.values))
    wrong = run_example("case09_archive/archive.py", "rerun", str(gtar), "--expect-hash", "x")
    assert wrong.returncode != 0 and "AssertionError" in wrong.stderr


def test_case13_example_runs_as_a_user_runs_it(tmp_path):
    proc = run_example("case13_ab/run_ab.py", "--out", str(tmp_path), "--n", "2")
    assert proc.returncode == 0, proc.stderr
    assert "+ LeeSpeckle (added before MatchedFilter): {window: 5}" in proc.stdout
    record = json.loads((tmp_path / "ab_report.json").read_text())
    old, new = load("methane_v3.yaml"), load("methane_v4_candidate.yaml")
    expected = []  # oracle: both pipelines on rasterio reads, RMSE by the NumPy formula
    for href in record["hrefs"]:
        with rasterio.open(href) as src:
            gt = gc.read_raster(href).replace(values=src.read())
        a, b = np.asarray(old(gt).values, np.float64), np.asarray(new(gt).values, np.float64)
        ok = np.isfinite(a) & np.isfinite(b)
        expected.append(np.sqrt(np.mean((a[ok] - b[ok]) ** 2)))
    np.testing.assert_allclose(record["rmse"], expected, rtol=1e-5)
    assert record["summary"]["median"] == pytest.approx(np.median(expected), rel=1e-5)
    assert (tmp_path / "rmse_histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
