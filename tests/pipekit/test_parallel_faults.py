"""pipekit.parallel faults fail alone: dying items, hung items (timeout=), interrupts.

Oracles: the squares of the items computed here; the exit code the item function chose;
the operating system's view of which processes are alive (psutil, else /proc).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import pipekit as pk
import pipekit.parallel as pp
from tests.pipekit import parallel_workers as w

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        import psutil
    except ImportError:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ----------------------------------------------------------------------------- dying items


def test_items_that_kill_their_worker_fail_alone_and_the_rest_run():
    """Issue 13 item 6: three deaths of items are not a start-up failure."""
    items = ["exit"] * 3 + [1, 2, 3]
    out = pp.ProcessMap(n_workers=1, on_error="collect").map(w.exit_or_square, items)
    assert out[3:] == [1 * 1, 2 * 2, 3 * 3]
    for index, failure in enumerate(out[:3]):
        assert isinstance(failure, pp.Failure)
        assert (failure.index, failure.item, failure.exc_type) == (index, "exit", "WorkerDied")
        assert "exit code 3" in failure.message  # the code exit_or_square chose
        pid = int(re.search(r"worker process \(pid (\d+)\)", failure.message).group(1))
        assert not _alive(pid)
    # An item that does not pickle fails in the parent, alone, even inside a chunk.
    items = [1, threading.Lock(), 3]
    out = pp.ProcessMap(n_workers=1, on_error="collect", chunksize=3).map(w.square, items)
    assert out[0] == 1 and out[2] == 9
    assert out[1].exc_type == "TypeError" and "pickle" in out[1].message
    pp.shutdown_pools()


def test_workers_that_cannot_start_stop_the_map(tmp_path):
    """Workers dying before they start (here: importing __main__) stop the map at once."""
    script = tmp_path / "cannot_start.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys
            if __name__ == "__mp_main__":  # what a spawned worker runs first
                os._exit(7)
            import pipekit as pk
            if __name__ == "__main__":
                try:
                    pk.parallel.ProcessMap(n_workers=1, keep_pool=False).map(abs, [1, 2])
                except pk.PipekitError as exc:
                    print(exc)
                    sys.exit(5)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 5, done.stderr
    assert "3 worker processes in a row died before starting" in done.stdout
    assert "exit code 7" in done.stdout and "workers cannot start" in done.stdout


# ----------------------------------------------------------------------------- timeouts


def test_process_map_timeout_kills_and_replaces_the_worker():
    t0 = time.monotonic()
    out = pp.ProcessMap(n_workers=2, on_error="collect", timeout=1.0).map(
        w.hang_or_square, [1, "hang", 2, 3]
    )
    assert time.monotonic() - t0 < 30  # hang_or_square("hang") sleeps 60 s
    assert [out[0], out[2], out[3]] == [1, 4, 9]
    assert isinstance(out[1], pp.Failure) and out[1].exc_type == "TimeoutError"
    assert "timeout=1 s" in out[1].message
    pid = int(re.search(r"worker process \(pid (\d+)\) was killed", out[1].message).group(1))
    assert not _alive(pid)
    pp.shutdown_pools()


def test_thread_map_timeout_abandons_the_thread_and_the_others_complete():
    t0 = time.monotonic()
    with pytest.raises(pp.ParallelError, match=r"item 1 \('hang'\): TimeoutError: .*0.3 s"):
        pp.ThreadMap(2, timeout=0.3).map(w.hang_or_square, [1, "hang", 2, 3])
    out = pp.ThreadMap(2, "collect", timeout=0.3).map(w.hang_or_square, [1, "hang", 2, 3])
    assert time.monotonic() - t0 < 5
    assert [out[0], out[2], out[3]] == [1, 4, 9]
    assert out[1].exc_type == "TimeoutError" and "abandoned" in out[1].message
    # A fast fn is untouched by a timeout, exceptions included.
    assert pp.ThreadMap(2, timeout=5).map(w.square, range(5)) == [x * x for x in range(5)]
    out = pp.ThreadMap(2, "collect", timeout=5).map(w.fail_on_odd, [0, 1])
    assert out[0] == 0 and out[1].exc_type == "ValueError" and out[1].message == "odd 1"


def test_async_map_timeout_for_async_and_plain_fn():
    async def hang_or_square(x):
        if x == "hang":
            await asyncio.sleep(60)
        return x * x

    t0 = time.monotonic()
    for fn in (hang_or_square, w.hang_or_square):
        out = pp.AsyncMap(2, "collect", timeout=0.3).map(fn, [1, "hang", 2, 3])
        assert [out[0], out[2], out[3]] == [1, 4, 9]
        assert out[1].exc_type == "TimeoutError" and "timeout=0.3 s" in out[1].message
    assert time.monotonic() - t0 < 5


def test_batched_map_timeout_fails_the_late_batch():
    def squares(xs):
        return [w.hang_or_square(x) for x in xs]

    items = [1, 2, "hang", 3, 4]  # batches [1, 2] ["hang", 3] [4]
    t0 = time.monotonic()
    for inner in (None, pp.ThreadMap(2, "collect")):
        out = pp.BatchedMap(2, "collect", inner=inner, timeout=0.3).map(squares, items)
        assert [out[0], out[1], out[4]] == [1, 4, 16]
        assert [out[2].exc_type, out[3].exc_type] == ["TimeoutError", "TimeoutError"]
        assert [out[2].item, out[3].item] == ["hang", 3]
    assert time.monotonic() - t0 < 5
    with pytest.raises(pk.ConfigError, match=r"both set a timeout .* set it on one"):
        pp.BatchedMap(2, inner=pp.ThreadMap(timeout=1), timeout=2)


@pytest.mark.parametrize("cls", [pp.ThreadMap, pp.ProcessMap, pp.AsyncMap])
@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "5"])
def test_timeout_validation(cls, bad):
    with pytest.raises(pk.ConfigError, match=rf"{cls.__name__}\(timeout\) expects None or a"):
        cls(timeout=bad)


def test_old_on_error_value_names_the_new_one():
    with pytest.raises(pk.ConfigError, match=r"'log' was renamed 'log_and_continue'"):
        pp.ThreadMap(on_error="log")
    with pytest.raises(pk.ConfigError, match=r"expects one of 'raise', 'log_and_continue', 'c"):
        pp.ThreadMap(on_error="warn")


# ----------------------------------------------------------------------------- interrupts

_PARENT = """
import signal
import sys
# A runner started in the background (``cmd &`` without job control) ignores SIGINT and its
# children inherit that; a notebook kernel has Python's own handler, so install it.
signal.signal(signal.SIGINT, signal.default_int_handler)
import pipekit.parallel as pp
from tests.pipekit import parallel_workers as w
if __name__ == "__main__":
    try:
        pp.ProcessMap(n_workers=2).map(w.mark_and_sleep, [sys.argv[1]] * 4)
    except KeyboardInterrupt:
        sys.exit(42)
"""


def test_sigint_to_the_parent_alone_stops_the_map_and_leaves_no_workers(tmp_path):
    """Jupyter's interrupt: SIGINT to the parent's pid only, while workers sleep in fn."""
    marks = tmp_path / "marks"
    marks.mkdir()
    # stderr to a file, not a pipe: workers left behind would hold a pipe open.
    with open(tmp_path / "stderr.txt", "w") as stderr:
        parent = subprocess.Popen(
            [sys.executable, "-c", _PARENT, str(marks)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        assert _wait_until(lambda: any(marks.iterdir()), 60), "no worker started an item"
        os.kill(parent.pid, signal.SIGINT)
        t0 = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):
            parent.wait(timeout=10)
        assert time.monotonic() - t0 < 5, "the parent did not stop within 5 s"  # items: 30 s
        assert parent.returncode == 42, (tmp_path / "stderr.txt").read_text()
        workers = {int(p.name) for p in marks.iterdir()}
        assert _wait_until(lambda: not any(map(_alive, workers)), 3)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in {int(p.name) for p in marks.iterdir()}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
