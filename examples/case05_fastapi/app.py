"""Seed Case 5: a FastAPI backend serving several pinned pipelines by name.

The seed's code as written, with ``geocatalog`` in georeader's role: ``PIPELINE_REGISTRY``
names three YAML pipelines, all loaded once at import (``PIPELINES``);

- ``POST /process/{name}`` with ``{"url": ..., "bbox": [left, bottom, right, top]}`` reads
  the bounds of the raster at ``url`` (``gc.read_from_url``), runs the pipeline, writes the
  result as a COG under the output prefix (``gc.save_cog``) and returns
  ``{"cog_url", "config_hash"}``;
- ``GET /pipelines/{name}`` returns the pipeline's ``get_config()`` (strict JSON: a NaN
  fill value is spelled ``"nan"``), so the API documents itself;
- ``GET /pipelines`` maps each name to its ``pk.config_hash``.

The output prefix is ``$CASE05_OUTPUT_PREFIX`` (default ``s3://outputs``; a local
directory works too); S3 credentials and endpoint come from the usual ``AWS_*`` variables.
``ndvi_etl`` also writes its haze-corrected stack to ``boa/`` under the working directory
(the YAML's ``WriteCOG``). Errors are JSON: an unknown pipeline name is a 404 that lists
the names, a missing input a 404, bounds that miss the raster a 400, an input the
pipeline's QC refuses a 422.

Run it::

    uv run python examples/case05_fastapi/app.py --port 8000
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any
from uuid import uuid4

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

import geocatalog as gc
import geotoolz as gz  # noqa: F401  (registers the operators the YAMLs name)
import pipekit as pk
from pipekit.qc import QCError

PIPELINE_DIR = Path(__file__).resolve().parents[1] / "pipelines"
PIPELINE_REGISTRY = {
    "methane_v3": PIPELINE_DIR / "methane_v3.yaml",
    "methane_v4": PIPELINE_DIR / "methane_v4_candidate.yaml",
    "ndvi_etl": PIPELINE_DIR / "ndvi_etl.yaml",
}


def _load(path: Path) -> pk.Operator:
    with open(path) as f:  # the seed's open(path).read(), closed
        return pk.loads_yaml(f.read())


PIPELINES = {name: _load(path) for name, path in PIPELINE_REGISTRY.items()}

logger = logging.getLogger("case05_fastapi")
app = FastAPI(title="pipekit Case 5: pipelines by name")


class ProcessRequest(BaseModel):
    """A raster URL (``file://``, ``https://``, ``s3://``) and bounds in its CRS."""

    url: str
    bbox: tuple[float, float, float, float]


def output_prefix() -> str:
    """Where results go: ``$CASE05_OUTPUT_PREFIX`` without a trailing slash."""
    return os.environ.get("CASE05_OUTPUT_PREFIX", "s3://outputs").rstrip("/")


def _pipeline(name: str) -> pk.Operator:
    """``PIPELINES[name]``, or a 404 that lists the names (not a KeyError's bare 500)."""
    try:
        return PIPELINES[name]
    except KeyError:
        raise HTTPException(
            404, f"unknown pipeline {name!r}; the pipelines are {sorted(PIPELINES)}"
        ) from None


def _read(req: ProcessRequest) -> gc.GeoTensor:
    try:
        return gc.read_from_url(req.url, bounds=req.bbox)
    except FileNotFoundError as err:
        raise HTTPException(404, str(err)) from err
    except (gc.GeoError, ValueError) as err:
        raise HTTPException(400, str(err)) from err


@app.post("/process/{name}")
def process(name: str, req: ProcessRequest) -> dict[str, str]:
    pipe = _pipeline(name)
    gt = _read(req)
    try:
        out_gt = pipe(gt)
    except QCError as err:  # the input is not what this pipeline accepts
        raise HTTPException(422, f"pipeline {name!r}: {err}") from err
    prefix = output_prefix()
    if "://" not in prefix:  # a local directory: save_cog wants it to exist
        Path(prefix).mkdir(parents=True, exist_ok=True)
    cog_url = gc.save_cog(out_gt, f"{prefix}/{uuid4()}.tif")
    logger.info("%s -> %s", name, cog_url)
    return {"cog_url": str(cog_url), "config_hash": pk.config_hash(pipe)}


@app.get("/pipelines/{name}")
def describe(name: str) -> dict[str, Any]:
    return _pipeline(name).get_config()


@app.get("/pipelines")
def list_pipelines() -> dict[str, str]:
    return {name: pk.config_hash(pipe) for name, pipe in PIPELINES.items()}


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
