"""Seed Case 4: a LitServe inference API around a pinned methane pipeline.

The seed's code as written, with ``geocatalog`` in georeader's role: ``setup`` loads
``examples/pipelines/methane_v3.yaml`` once per worker (heavy state never per request),
``decode_request`` reads the requested bounds of a radiance COG by URL
(``gc.read_from_url``: ``file://``, ``https://``, ``s3://``), ``predict`` runs the pipeline
and ``encode_response`` returns the CH4 enhancement map as a base64 COG, its summary
statistics and the pipeline's ``config_hash`` (which version produced this answer).

Run it (``--demo`` first writes a small EMIT-like radiance COG to try it on, offline)::

    uv run python examples/case04_litserve/server.py --demo /tmp/emit_demo.tif

then POST ``{"url": "file:///tmp/emit_demo.tif", "bbox": [left, bottom, right, top]}`` to
``http://127.0.0.1:8000/predict`` (the script prints a ready ``curl`` line).

Bad requests get JSON errors instead of a stack trace: a missing file is a 404, bounds
that miss the scene or an unknown URL scheme a 400, an input the pipeline's QC refuses
(not 285 bands, mostly nodata) a 422.
"""

import argparse
import json
import logging
from pathlib import Path

import litserve as ls
from fastapi import HTTPException

import geocatalog as gc
import geotoolz as gz  # noqa: F401  (registers the operators the YAML names)
import pipekit as pk
from pipekit.qc import QCError

PIPELINE_YAML = Path(__file__).resolve().parents[1] / "pipelines" / "methane_v3.yaml"
ACCELERATORS = ["cpu", "gpu", "cuda", "mps", "auto"]
DEMO_SHAPE = (48, 64)  # rows, columns: small enough to answer in seconds on a laptop CPU

logger = logging.getLogger("case04_litserve")


def read_request(req: dict) -> gc.GeoTensor:
    """``gc.read_from_url(req["url"], bounds=tuple(req["bbox"]))``, errors as HTTP errors.

    A request is a JSON object ``{"url": str, "bbox": [left, bottom, right, top]}`` with the
    bounds in the raster's CRS.
    """
    if "url" not in req or "bbox" not in req:
        raise HTTPException(400, 'expected a JSON object {"url": ..., "bbox": [l, b, r, t]}')
    bbox = req["bbox"]
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise HTTPException(400, f"bbox must be [left, bottom, right, top], got {bbox!r}")
    try:
        return gc.read_from_url(req["url"], bounds=tuple(float(v) for v in bbox))
    except FileNotFoundError as err:
        raise HTTPException(404, str(err)) from err
    except (gc.GeoError, ValueError, TypeError) as err:
        raise HTTPException(400, str(err)) from err


class MethanePipelineAPI(ls.LitAPI):
    """radiance COG URL + bounds -> CH4 enhancement (ppm·m) as a base64 COG, stats, hash."""

    def setup(self, device: str) -> None:
        with open(PIPELINE_YAML) as f:  # the seed's open(...).read(), closed
            self.pipeline = pk.loads_yaml(f.read())
        self.config_hash = pk.config_hash(self.pipeline)
        logger.info("methane_v3 loaded on %s: %s", device, self.config_hash)

    # LitServe reads this signature: the argument must be named ``request`` (the seed's
    # ``req`` fails at start-up) and its annotation is the body type FastAPI parses.
    def decode_request(self, request: dict) -> gc.GeoTensor:
        return read_request(request)

    def predict(self, gt: gc.GeoTensor) -> gc.GeoTensor:
        try:
            return self.pipeline(gt)
        except QCError as err:  # the input is not what the pipeline accepts
            raise HTTPException(422, str(err)) from err

    def encode_response(self, gt_out: gc.GeoTensor) -> dict:
        return {
            "cog_b64": gt_out.to_cog_bytes_b64(),
            "stats": gt_out.summary_stats(),
            "config_hash": self.config_hash,
        }


def write_demo_scene(path: str | Path, seed: int = 0) -> Path:
    """Write a small EMIT-like radiance COG (285 bands, 60 m, UTM 11N) for the demo."""
    from geocatalog.testing import synthetic_emit_scene  # demo data only

    scene = synthetic_emit_scene(*DEMO_SHAPE, seed=seed)
    return Path(gc.save_cog(scene.radiance, Path(path)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accelerator", default="cpu", choices=ACCELERATORS,
                        help="LitServe accelerator (the seed's deployment says gpu)")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "0.0.0.0", "::"])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request seconds")
    parser.add_argument("--demo", metavar="PATH", help="first write a demo radiance COG here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    if args.demo:
        path = write_demo_scene(args.demo).resolve()
        bbox = list(gc.read_raster(path).bounds)
        body = json.dumps({"url": path.as_uri(), "bbox": bbox})
        print(f"demo scene: {path}\ntry:\n  curl -s -X POST http://127.0.0.1:{args.port}/predict"
              f" -H 'Content-Type: application/json' -d '{body}'", flush=True)  # fmt: skip

    api = MethanePipelineAPI(max_batch_size=1)  # one scene per request: no batching
    server = ls.LitServer(api, accelerator=args.accelerator, workers_per_device=1,
                          timeout=args.timeout)  # fmt: skip
    server.run(host=args.host, port=args.port, generate_client_file=False)


if __name__ == "__main__":
    main()
