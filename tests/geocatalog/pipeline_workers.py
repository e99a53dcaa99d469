"""Module-level helpers for CatalogPipeline tests: importable by spawned workers.

Run as a script (``python -m tests.geocatalog.pipeline_workers CATALOG OUT_DIR GATE READY``)
it is the run the kill test interrupts: Case 1's pipeline over the catalog, in two worker
processes, with a loader gated by two FIFOs so the test decides, without any clock, how
far the run gets before the kill.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import geocatalog as gc
import pipekit as pk
from geocatalog.integrations._catalog_pipeline import CatalogPipeline

ROOT = Path(__file__).parents[2]
CASE1_YAML = ROOT / "examples" / "case1_ndvi.yaml"


def case1_op() -> pk.Operator:
    return pk.loads_yaml(CASE1_YAML.read_text())


def gated_load(gate: str, ready: str, sl: gc.GeoSlice) -> gc.GeoTensor:
    """``gc.load_raster`` once the test lets it: announce on ``ready``, wait for a byte on ``gate``.

    Both are FIFOs the test holds open read-write, so these opens never block; the read
    blocks until the test writes a byte (one byte lets one load through).
    """
    fd = os.open(ready, os.O_WRONLY)
    try:
        os.write(fd, b"r")
    finally:
        os.close(fd)
    fd = os.open(gate, os.O_RDONLY)
    try:
        os.read(fd, 1)
    finally:
        os.close(fd)
    return gc.load_raster(sl)


def refuse_load(sl: gc.GeoSlice) -> gc.GeoTensor:
    """A loader for runs that must load nothing (every output already exists)."""
    raise AssertionError(f"refuse_load: the run loaded slice {sl.item_id}")


def main(catalog_path: str, out_dir: str, gate: str, ready: str) -> None:
    executor = pk.parallel.ProcessMap(n_workers=2, on_error="log_and_continue")
    loader = functools.partial(gated_load, gate, ready)
    pipeline = CatalogPipeline(
        gc.open_catalog(catalog_path), case1_op(), executor, loader, out_dir, batch_size=4
    )
    pipeline.run()


def _read_signals(fd: int, n: int, timeout: float = 60.0) -> None:
    """Block until ``n`` bytes arrived on ``fd`` (select, not sleep; a timeout as a guard)."""
    got = 0
    while got < n:
        readable, _, _ = select.select([fd], [], [], timeout)
        assert readable, f"the run announced {got} of {n} loads within {timeout} s"
        got += len(os.read(fd, n - got))


def run_until_killed(catalog: str | os.PathLike, out_dir: str | os.PathLike, tmp: Path) -> None:
    """Run :func:`main` in a subprocess and SIGKILL it, workers too, after exactly 6 outputs.

    The gate lets 6 loads through (batch 1, then 2 slices of batch 2). A worker asks for its
    next load only after saving its previous output, so once 8 loads have been announced
    both workers are parked on the gate with all 6 outputs written. The subprocess inherits
    this process's environment (``AWS_*`` for an ``s3://`` catalog or out_dir).
    """
    gate, ready = tmp / "gate", tmp / "ready"
    os.mkfifo(gate)
    os.mkfifo(ready)
    # Held open read-write here: opens in the workers never block (Linux FIFOs).
    gate_fd, ready_fd = os.open(gate, os.O_RDWR), os.open(ready, os.O_RDWR)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.geocatalog.pipeline_workers", os.fspath(catalog),
         os.fspath(out_dir), str(gate), str(ready)],
        cwd=ROOT,
        start_new_session=True,  # its own process group: the kill takes the workers too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        os.write(gate_fd, b"g" * 6)
        _read_signals(ready_fd, 8)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
        os.close(gate_fd)
        os.close(ready_fd)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]


if __name__ == "__main__":
    main(*sys.argv[1:])
