"""save_cog leaves no temporary files: not when killed by SIGTERM mid-write, not after a crash."""

import os
import signal
import subprocess
import sys
import time

import pytest

import geocatalog as gc
from geocatalog._atomic import _HOST
from geocatalog._storage import write_bytes
from geocatalog.testing import synthetic_scene

CHILD = """
import sys
import numpy as np
from affine import Affine
import geocatalog as gc
values = np.random.default_rng(0).random((2, 3072, 3072), dtype=np.float32)
gt = gc.GeoTensor(values, Affine(10, 0, 0, 0, -10, 0), "EPSG:32630")
print("ready", flush=True)
gc.save_cog(gt, sys.argv[1], compress="deflate")
print("done", flush=True)
"""


def _temps(directory, name):
    return sorted(p for p in os.listdir(directory) if p.startswith(f".{name}."))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_mid_write_leaves_no_temp_file_and_still_kills(tmp_path):
    target = tmp_path / "big.tif"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 120
        while not _temps(tmp_path, "big.tif"):  # the write has started: its temp file exists
            assert proc.poll() is None and time.monotonic() < deadline, "write never started"
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGTERM  # still ended by the signal, as without us
    assert _temps(tmp_path, "big.tif") == []
    assert not target.exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("writer", ["save_cog", "write_bytes"])
def test_next_write_removes_stale_temps_of_dead_writers_only(tmp_path, writer):
    dead, live = _dead_pid(), os.getppid()
    names = {
        "dead": f".a.tif.{dead:08x}{_HOST}{'0' * 16}.tmp",
        "dead_side": f".a.tif.{dead:08x}{_HOST}{'0' * 16}.tmp.ovr",
        "live": f".a.tif.{live:08x}{_HOST}{'1' * 16}.tmp",
        "other_host": f".a.tif.{dead:08x}{'f' * 8 if _HOST != 'f' * 8 else 'e' * 8}{'2' * 16}.tmp",
        "other_target": f".b.tif.{dead:08x}{_HOST}{'3' * 16}.tmp",
        "not_ours": ".a.tif.notes.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    if writer == "save_cog":
        gc.save_cog(synthetic_scene(16, 16), tmp_path / "a.tif", overviews=False)
    else:
        write_bytes(str(tmp_path / "a.tif"), b"whole")
    left = set(os.listdir(tmp_path))
    assert names["dead"] not in left and names["dead_side"] not in left
    kept = {names[k] for k in ("live", "other_host", "other_target", "not_ours")}
    assert left == kept | {"a.tif"}


def test_sigterm_handler_is_restored_after_a_write(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    gc.save_cog(synthetic_scene(16, 16), tmp_path / "a.tif", overviews=False)
    assert signal.getsignal(signal.SIGTERM) is before
