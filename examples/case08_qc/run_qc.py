"""Seed Case 8 — QC as operators: three tiers from three packages, one failure policy.

``build_case8`` is the seed's code with one spelling changed: the seed's
``on_fail="warn"`` is ``on_error="warn"``, the failure-policy argument the whole library
shares (``on_fail=`` raises a TypeError naming it). The scene is the layout the seed's
indices imply, ``[B02, B03, B04, B08, SZA, QA60]`` (L1C digital numbers, a sun-zenith band
in degrees, QA60 cloud bits), 10 m pixels in UTM 30N, with band names.

    uv run python examples/case08_qc/run_qc.py --out /tmp/case08 [--bad crs|schema|clouds]

A good scene passes both QC sweeps and its NDVI is written to ``{out}/ndvi.tif``; with
``--bad`` the scene is broken on purpose, the chain halts at the first hard failure, the
check's name is printed and the exit status is 1 (nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene

CASE8_BANDS = ("B02", "B03", "B04", "B08", "SZA", "QA60")


def case8_scene(
    height: int = 64,
    width: int = 64,
    *,
    seed: int = 1,
    crs: str = "EPSG:32630",
    cloud_fraction: float = 0.1,
    sza: float = 35.0,
) -> gc.GeoTensor:
    """A generated L1C-like scene in Case 8's band layout (module docstring)."""
    gt = synthetic_scene(height, width, seed=seed, crs=crs, cloud_fraction=cloud_fraction)
    values = np.asarray(gt.values)
    zenith = np.full((1, height, width), sza, np.float32)
    stack = np.concatenate([values[:4].astype(np.float32), zenith, values[-1:].astype(np.float32)])
    return gt.replace(values=stack, band_names=CASE8_BANDS)


def build_case8() -> tuple[pk.Sequential, pk.Sequential]:
    """``(qc, etl)`` as the seed writes them."""
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


BAD_SCENES = {
    "crs": lambda: case8_scene(crs="EPSG:32631"),
    "schema": lambda: case8_scene().replace(band_names=("B2", "B3", "B4", "B8", "SZA", "QA")),
    "clouds": lambda: case8_scene(cloud_fraction=0.8, seed=3),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="case08_out", help="folder for ndvi.tif")
    parser.add_argument("--bad", choices=sorted(BAD_SCENES), help="break the scene this way")
    args = parser.parse_args(argv)
    _, etl = build_case8()
    scene = BAD_SCENES[args.bad]() if args.bad else case8_scene()
    try:
        ndvi = etl(scene)
    except pk.qc.QCError as err:
        print(f"QC halted the chain: check {err.check!r} failed\n  {err}")
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = gc.save_cog(ndvi, out / "ndvi.tif")
    print(f"QC passed twice; NDVI {ndvi.shape} -> {path}\n{ndvi.summary_stats()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
