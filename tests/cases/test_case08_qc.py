"""Seed Case 8: QC as operators, three tiers from three packages, one failure policy.

The code of ``build_case8`` is the seed's, with one spelling changed: the seed's
``on_fail="warn"`` is ``on_error="warn"``, the one failure-policy argument the whole
library shares (``on_fail=`` raises a TypeError that names it; tested below). The scene is
the layout the seed's indices imply: ``[B02, B03, B04, B08, SZA, QA60]`` (L1C digital
numbers, a sun zenith band in degrees, QA60 bits), 10 m UTM 30N, with band names.
"""

import logging

import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_scene

CASE8_BANDS = ("B02", "B03", "B04", "B08", "SZA", "QA60")


def case8_scene(height=64, width=64, *, seed=1, crs="EPSG:32630", cloud_fraction=0.1, sza=35.0):
    gt = synthetic_scene(height, width, seed=seed, crs=crs, cloud_fraction=cloud_fraction)
    values = np.asarray(gt.values)
    zenith = np.full((1, height, width), sza, np.float32)
    stack = np.concatenate([values[:4].astype(np.float32), zenith, values[-1:].astype(np.float32)])
    return gt.replace(values=stack, band_names=CASE8_BANDS)


def build_case8():
    qc = pk.Sequential([
        # pipekit: carrier-agnostic
        pk.qc.AssertShape((-1, -1, -1)),  # 3-D check
        pk.qc.AssertHasAttribute("crs"),
        # geotoolz: GeoTensor-specific (need .crs, .transform, sensor metadata)
        gz.qa.AssertCRSEquals("EPSG:32630"),
        gz.qa.AssertResolutionWithin((9.5, 10.5)),
        gz.qa.AssertSchema(bands=["B02", "B03", "B04", "B08", "QA60"]),
        # pipekit-array: array reductions (works on numpy / JAX / etc.)
        pa.qc.AssertValidFraction(min_valid=0.5),
        pa.qc.AssertValueRange(min_val=0, max_val=10_000, on_error="warn"),
    ])  # fmt: skip
    etl = pk.Sequential([
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
        qc,  # halts on first hard failure
        gz.correction.TOAToBOA(sun_zenith_band=-2),
        qc,  # post-correction sweep
        gz.indices.NDVI(red_idx=2, nir_idx=3),
    ])  # fmt: skip
    return qc, etl


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
