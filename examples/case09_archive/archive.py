"""Seed Case 9 — a pinned, hashed regulatory artifact: publish it, and years later rerun it.

``publish`` is the seed's "at publication time" code with our paths: it writes a small
EMIT-like radiance scene with a CH4 plume (generated, as a COG), loads
``examples/pipelines/methane_v3.yaml`` and freezes it with the scene's URI and SHA-256, the
project's ``uv.lock`` and the publication metadata into one ``.gtar`` file. ``rerun`` is
"years later": it loads the artifact, checks the pipeline hash (``--expect-hash``, e.g. the
one printed in the paper), prints the pinned YAML and reruns it (the pipeline's own
``ReadRaster`` reads the input, whose SHA-256 is checked first), writing ``rerun.tif``.

    uv run python examples/case09_archive/archive.py publish --out /tmp/case09 && \
    uv run python examples/case09_archive/archive.py rerun /tmp/case09/mars_methane_demo.gtar
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import geocatalog as gc
import pipekit as pk
from geocatalog.testing import synthetic_emit_scene

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "examples" / "pipelines" / "methane_v3.yaml"
ARTIFACT = "mars_methane_demo.gtar"


def publish(out: Path) -> Path:
    """Write the demo scene and the artifact into ``out``; return the artifact's path."""
    out.mkdir(parents=True, exist_ok=True)
    scene = synthetic_emit_scene(40, 48, seed=5)
    uri = str(gc.save_cog(scene.radiance, out / "EMIT_L1B_RAD_demo.tif"))
    sha = hashlib.sha256(Path(uri).read_bytes()).hexdigest()
    lock = shutil.copy(ROOT / "uv.lock", out / "uv.lock")

    # === At publication time ===
    pipeline = pk.loads_yaml(PIPELINE.read_text())
    artifact = pk.repro.freeze(
        pipeline,
        inputs={"scene_uri": uri, "scene_sha256": sha},
        deps_lock=lock,
        metadata={"author": "ej", "date": "2024-09-15", "doi": "10.xxxx/mars-demo"},
    )
    path = out / ARTIFACT
    artifact.save(path)
    print(f"published {path}\npipeline_hash {artifact.pipeline_hash}")
    return path


def rerun(path: Path, expect_hash: str | None) -> Path:
    """Load the artifact, check its hash, rerun it; write ``rerun.tif`` beside it."""
    # === Years later ===
    art = pk.repro.load(path)
    if expect_hash is not None:
        assert art.pipeline_hash == expect_hash, (art.pipeline_hash, expect_hash)
    print(art.config_yaml)
    result = art.rerun()
    written = gc.save_cog(result, Path(path).parent / "rerun.tif")
    print(f"reran {art.pipeline_hash}: {result.shape} -> {written}\n{result.summary_stats()}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="write the demo scene and freeze methane_v3")
    pub.add_argument("--out", default="case09_out", type=Path)
    again = sub.add_parser("rerun", help="load an artifact, check its hash, rerun it")
    again.add_argument("artifact", type=Path)
    again.add_argument("--expect-hash", help="fail unless the pipeline hash is this one")
    args = parser.parse_args(argv)
    if args.command == "publish":
        publish(args.out)
    else:
        rerun(args.artifact, args.expect_hash)
    return 0


if __name__ == "__main__":
    sys.exit(main())
