"""Seed Case 8: QC as operators, three tiers from three packages, one failure policy.

``build_case8`` and ``case8_scene`` come from the example,
``examples/case08_qc/run_qc.py`` (the seed's code with ``on_fail="warn"`` spelled
``on_error="warn"``; ``on_fail=`` raises a TypeError that names it, tested below), which
is also run as a user runs it.
"""

import logging

import numpy as np
import pytest
import rasterio

import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog import GeoTensor

from ._examples import load_example, run_example

run_qc = load_example("case08_qc/run_qc.py")
CASE8_BANDS, build_case8, case8_scene = run_qc.CASE8_BANDS, run_qc.build_case8, run_qc.case8_scene


def ndvi_oracle(scene: GeoTensor) -> np.ndarray:
    """The chain in plain NumPy: QA mask, COST (Chavez 1996) on DN/10000, NDVI."""
    v = np.asarray(scene.values, np.float64)
    qa = v[5].astype(np.uint32)
    bad = ((qa & (1 << 10 | 1 << 11)) != 0) | np.all(v == 0, axis=0)
    rho = np.where(bad, np.nan, v[:4] / 10_000)
    tau = np.cos(np.radians(v[4]))
    dark = np.nanpercentile(rho, 1.0, axis=(-2, -1))[:, None, None]
    boa = (rho - np.maximum(dark - 0.01 * tau, 0)) / tau
    return (boa[3] - boa[2]) / (boa[3] + boa[2])


def test_case8_passes_a_good_scene_and_computes_the_chain():
    qc, etl = build_case8()
    scene = case8_scene()
    assert qc(gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(scene)).band_names == CASE8_BANDS
    out = etl(scene)
    np.testing.assert_allclose(np.asarray(out.values), ndvi_oracle(scene), rtol=1e-4, atol=1e-5)
    bare = pk.Sequential([op for op in etl if op is not qc])
    np.testing.assert_array_equal(np.asarray(out.values), np.asarray(bare(scene).values))
    # after TOAToBOA the sun zenith band is gone and the others keep their names
    boa = pk.Sequential(list(etl)[:3])(scene)
    assert boa.band_names == ("B02", "B03", "B04", "B08", "QA60")


def test_case8_runs_under_jit_with_the_same_numbers():
    import equinox as eqx
    import jax.numpy as jnp

    _, etl = build_case8()
    scene = case8_scene()
    jitted = eqx.filter_jit(etl)(scene.replace(values=jnp.asarray(scene.values)))
    np.testing.assert_allclose(np.asarray(jitted.values), ndvi_oracle(scene), rtol=1e-4,
                               atol=1e-4)  # fmt: skip


@pytest.mark.parametrize(
    ("scene", "check", "observed"),
    [
        (lambda: case8_scene(32, 32, crs="EPSG:32631"), "crs", "EPSG:32631"),
        (lambda: case8_scene(32, 32).replace(band_names=("B2", "B3", "B4", "B8", "SZA", "QA")),
         "schema", None),
        (lambda: case8_scene(32, 32, cloud_fraction=0.8, seed=3), "valid fraction", None),
    ],
)  # fmt: skip
def test_case8_halts_with_the_check_name_on_a_bad_scene(scene, check, observed):
    _, etl = build_case8()
    with pytest.raises(pk.qc.QCError) as info:
        etl(scene())
    assert info.value.check == check
    if observed is not None:
        assert info.value.observed == observed


def test_case8_halts_on_a_coarse_scene():
    _, etl = build_case8()
    scene = case8_scene(32, 32)
    t = scene.transform
    coarse = GeoTensor(np.asarray(scene.values), t @ t.scale(2), scene.crs,
                       fill_value=scene.fill_value, band_names=CASE8_BANDS)  # fmt: skip
    with pytest.raises(pk.qc.QCError, match=r"AssertResolutionWithin") as info:
        etl(coarse)
    assert info.value.check == "resolution"


def test_case8_soft_failure_warns_and_continues():
    _, etl = build_case8()
    scene = case8_scene(32, 32, seed=2)
    values = np.asarray(scene.values).copy()
    values[:4] *= 3  # saturated-looking DN above 10 000
    with pytest.warns(pk.qc.QCWarning, match=r"AssertValueRange") as record:
        out = etl(scene.replace(values=values))
    assert out.shape == (32, 32)
    assert {w.message.check for w in record} == {"value range"}


def test_case8_log_and_continue_logs_on_the_qc_logger(caplog):
    check = pa.qc.AssertValueRange(min_val=0, max_val=10_000, on_error="log_and_continue")
    scene = case8_scene(16, 16)
    values = np.asarray(scene.values).copy()
    values[0, 0, 0] = 20_000
    with caplog.at_level(logging.WARNING, logger="pipekit.qc"):
        assert check(scene.replace(values=values)) is not None
    assert any("AssertValueRange" in r.getMessage() for r in caplog.records)


def test_case8_seed_spelling_on_fail_teaches_on_error():
    with pytest.raises(TypeError, match=r"on_error"):
        pa.qc.AssertValueRange(min_val=0, max_val=10_000, on_fail="warn")


@pytest.mark.parametrize(
    ("bad", "check"), [(None, None), ("crs", "crs"), ("clouds", "valid fraction")]
)
def test_case8_example_runs_as_a_user_runs_it(tmp_path, bad, check):
    args = ["--out", str(tmp_path)] + (["--bad", bad] if bad else [])
    proc = run_example("case08_qc/run_qc.py", *args)
    if bad is None:
        assert proc.returncode == 0, proc.stderr
        with rasterio.open(tmp_path / "ndvi.tif") as src:
            written = src.read(1)
        want = ndvi_oracle(case8_scene())
        np.testing.assert_allclose(written, want, rtol=1e-4, atol=1e-5)
    else:
        assert proc.returncode == 1, proc.stderr
        assert f"check {check!r} failed" in proc.stdout
        assert not (tmp_path / "ndvi.tif").exists()
