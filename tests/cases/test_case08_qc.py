"""Seed Case 8: QC as operators, three tiers, one on_error policy.

pipekit.qc is real. Stand-ins (defined here, built on pipekit.qc.AbstractAssertion) for
what later issues build: ``gz.qa.AssertCRSEquals``, ``gz.qa.AssertResolutionWithin``,
``gz.qa.AssertSchema`` (band names), ``pa.qc.AssertValidFraction``,
``pa.qc.AssertValueRange`` and ``gz.correction.TOAToBOA``.
"""

from types import SimpleNamespace
from typing import Any

import equinox as eqx
import numpy as np
import pytest

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import S2_BANDS, synthetic_scene
from pipekit.qc import AbstractAssertion


class AssertCRSEquals(AbstractAssertion):
    crs: str = eqx.field(static=True)
    on_error: str = eqx.field(static=True)

    def __init__(self, crs: str, on_error: str = "raise") -> None:
        self.crs, self.on_error = crs, on_error

    def _check(self, x: Any):
        want = gc.canonical_crs(self.crs)
        return None if x.crs_string == want else ("crs", want, x.crs_string)


class AssertResolutionWithin(AbstractAssertion):
    bounds: tuple[float, float] = eqx.field(static=True)
    on_error: str = eqx.field(static=True)

    def __init__(self, bounds: tuple[float, float], on_error: str = "raise") -> None:
        self.bounds, self.on_error = tuple(bounds), on_error

    def _check(self, x: Any):
        lo, hi = self.bounds
        ok = all(lo <= r <= hi for r in x.res)
        return None if ok else ("resolution", f"within {self.bounds}", x.res)


class AssertSchema(AbstractAssertion):
    bands: tuple[str, ...] = eqx.field(static=True)
    on_error: str = eqx.field(static=True)

    def __init__(self, bands: list[str], on_error: str = "raise") -> None:
        self.bands, self.on_error = tuple(bands), on_error

    def _check(self, x: Any):
        # Stand-in: GeoTensors carry no band names yet; check the count of the S2 layout.
        n = x.shape[-3]
        ok = n == len(S2_BANDS) and all(b in S2_BANDS for b in self.bands)
        return None if ok else ("schema", f"bands {self.bands}", n)


class AssertValidFraction(AbstractAssertion):
    min_valid: float = eqx.field(static=True)
    on_error: str = eqx.field(static=True)

    def __init__(self, min_valid: float, on_error: str = "raise") -> None:
        self.min_valid, self.on_error = float(min_valid), on_error

    def _check(self, x: Any):
        frac = float(np.mean(np.isfinite(np.asarray(x.values, dtype=np.float64))))
        return None if frac >= self.min_valid else ("valid_fraction", f">= {self.min_valid}", frac)


class AssertValueRange(AbstractAssertion):
    min_val: float = eqx.field(static=True)
    max_val: float = eqx.field(static=True)
    on_error: str = eqx.field(static=True)

    def __init__(self, min_val: float, max_val: float, on_error: str = "raise") -> None:
        self.min_val, self.max_val, self.on_error = float(min_val), float(max_val), on_error

    def _check(self, x: Any):
        v = np.asarray(x.values, dtype=np.float64)
        lo, hi = np.nanmin(v), np.nanmax(v)
        ok = self.min_val <= lo and hi <= self.max_val
        return None if ok else ("value_range", f"[{self.min_val}, {self.max_val}]", (lo, hi))


class TOAToBOA(pk.Operator):
    """Stand-in atmospheric correction: subtract a dark offset (DN), floor at 0."""

    sun_zenith_band: int = eqx.field(static=True)

    def _apply(self, gt):
        v = np.asarray(gt.values, dtype=np.float32)
        return gt.replace(values=np.maximum(v - 100.0, 0.0, where=~np.isnan(v), out=v.copy()))


gz_qa = SimpleNamespace(
    AssertCRSEquals=AssertCRSEquals,
    AssertResolutionWithin=AssertResolutionWithin,
    AssertSchema=AssertSchema,
)
pa_qc = SimpleNamespace(AssertValidFraction=AssertValidFraction, AssertValueRange=AssertValueRange)
gz_correction = SimpleNamespace(TOAToBOA=TOAToBOA)


def build_case8():
    qc = pk.Sequential(
        [
            # pipekit: carrier-agnostic
            pk.qc.AssertShape((-1, -1, -1)),  # 3-D check
            pk.qc.AssertHasAttribute("crs"),
            # geotoolz: GeoTensor-specific
            gz_qa.AssertCRSEquals("EPSG:32630"),
            gz_qa.AssertResolutionWithin((9.5, 10.5)),
            gz_qa.AssertSchema(bands=["B02", "B03", "B04", "B08", "QA60"]),
            # pipekit-array: array reductions
            pa_qc.AssertValidFraction(min_valid=0.5),
            pa_qc.AssertValueRange(min_val=0, max_val=10_000, on_error="warn"),
        ]
    )
    etl = pk.Sequential(
        [
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            qc,  # halts on first hard failure
            gz_correction.TOAToBOA(sun_zenith_band=-2),
            qc,  # post-correction sweep
            gz.indices.NDVI(red_idx=2, nir_idx=3),
        ]
    )
    return qc, etl


def test_case8_passes_a_good_scene_and_equals_the_pipeline_without_qc():
    qc, etl = build_case8()
    scene = synthetic_scene(64, 64, seed=1)
    out = etl(scene)
    bare = pk.Sequential([op for op in etl if op is not qc])
    np.testing.assert_array_equal(out.values, bare(scene).values)
    assert qc(scene) is scene  # checks pass the carrier through unchanged


def test_case8_halts_on_the_first_hard_failure():
    _, etl = build_case8()
    wrong_crs = synthetic_scene(32, 32, crs="EPSG:32631")
    with pytest.raises(pk.qc.QCError) as info:
        etl(wrong_crs)
    assert info.value.check == "crs" and info.value.observed == "EPSG:32631"
    cloudy = synthetic_scene(32, 32, cloud_fraction=0.8, seed=3)
    with pytest.raises(pk.qc.QCError, match=r"expected >= 0.5"):
        etl(cloudy)


def test_case8_soft_failure_warns_and_continues():
    _, etl = build_case8()
    scene = synthetic_scene(32, 32, seed=2)
    hot = scene.replace(values=np.asarray(scene.values).astype(np.float32) * 3)
    with pytest.warns(pk.qc.QCWarning, match=r"expected \[0.0, 10000.0\]"):
        out = etl(hot)
    assert out.shape == (32, 32)
