"""progress=True on the parallel maps: a tqdm bar that reaches N/N, moving as items finish.

Two oracles: the real tqdm's text on stderr (the bar ends at ``N/N``), and a fake tqdm
(tests/pipekit/progress_fakes.py) that records every update, to see *when* a bar moved.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest

import pipekit.parallel as pp
from pipekit.progress import progress_bar
from tests.pipekit import parallel_workers as w
from tests.pipekit.progress_fakes import install_fake_tqdm

pytestmark = [
    # distributed's LocalCluster warns when its ports are picked at random and about a
    # worker's memory limit on small machines; neither concerns these tests.
    pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*Creating scratch directories.*:UserWarning"),
]

TEACHES = r"pip install 'pipekit-geo\[progress\]'"


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the timeout")
        time.sleep(0.005)


async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


# ----------------------------------------------------------------------------- the real bar


@pytest.mark.parametrize(
    "executor",
    [
        pp.ThreadMap(n_workers=2, progress=True),
        pp.AsyncMap(concurrency=2, progress=True),
        pp.BatchedMap(2, progress=True),
        pp.BatchedMap(2, inner=pp.ThreadMap(2), progress=True),
    ],
    ids=["ThreadMap", "AsyncMap", "BatchedMap", "BatchedMap-inner"],
)
def test_bar_reaches_n_of_n_on_stderr(executor, capsys):
    items = list(range(5))
    fn = w.sum_batch if isinstance(executor, pp.BatchedMap) else w.square
    if isinstance(executor, pp.AsyncMap):
        fn = async_double
    out = executor.map(fn, items)
    assert len(out) == 5
    captured = capsys.readouterr()
    assert captured.out == ""  # the bar goes to stderr, never stdout
    assert f"{type(executor).__name__}: 100%" in captured.err
    assert "5/5" in captured.err


def test_process_map_bar_reaches_n_of_n(capsys):
    # keep_pool (the default): in a whole run this reuses test_parallel's warm pool of 2.
    out = pp.ProcessMap(n_workers=2, progress=True).map(w.square, range(4))
    assert out == [0, 1, 4, 9]
    err = capsys.readouterr().err
    assert "ProcessMap: 100%" in err and "4/4" in err


def test_dask_map_bar_reaches_n_of_n(capsys):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        out = pp.DaskMap(client, on_error="collect", progress=True).map(w.fail_on_odd, range(4))
    assert out[0] == 0 and out[2] == 2
    assert [type(v) for v in out[1::2]] == [pp.Failure, pp.Failure]
    err = capsys.readouterr().err
    assert "DaskMap: 100%" in err and "4/4" in err


def test_no_bar_without_progress(capsys):
    assert pp.ThreadMap(2).map(w.square, range(3)) == [0, 1, 4]
    assert pp.BatchedMap(2).map(w.sum_batch, [1, 2, 3]) == [3, 3, 3]
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- when it moves


def test_thread_map_bar_advances_one_item_at_a_time(monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    gates = [threading.Event() for _ in range(4)]

    def wait_for_gate(i: int) -> int:
        assert gates[i].wait(10)
        return i

    box: dict[str, list[int]] = {}
    runner = threading.Thread(
        target=lambda: box.setdefault(
            "out", pp.ThreadMap(n_workers=4, progress=True).map(wait_for_gate, range(4))
        )
    )
    runner.start()
    wait_until(lambda: len(bars) == 1)
    bar = bars[0]
    assert (bar.total, bar.desc, bar.n) == (4, "ThreadMap", 0)
    for done, i in enumerate([2, 0, 3, 1], start=1):
        gates[i].set()
        wait_until(lambda done=done: bar.n == done)
        assert bar.n == done  # the other items are still held at their gates
    runner.join(10)
    assert box["out"] == [0, 1, 2, 3]
    assert bar.updates == [1, 1, 1, 1] and bar.closed


@pytest.mark.parametrize("on_error", ["collect", "log_and_continue"])
def test_failed_items_advance_the_bar(monkeypatch, on_error):
    bars = install_fake_tqdm(monkeypatch)
    out = pp.ThreadMap(2, on_error, progress=True).map(w.fail_on_odd, range(5))
    assert sum(isinstance(v, pp.Failure) for v in out) == 2
    assert [(b.total, b.n, b.closed) for b in bars] == [(5, 5, True)]


def test_raise_closes_the_bar(monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    with pytest.raises(pp.ParallelError, match="fn failed on item 1"):
        pp.ThreadMap(1, progress=True).map(w.fail_on_odd, range(3))
    assert bars[0].closed and bars[0].n < 3


@pytest.mark.parametrize("inner", [None, pp.ThreadMap(1)], ids=["here", "inner"])
def test_batched_map_advances_as_each_batch_returns(monkeypatch, inner):
    bars = install_fake_tqdm(monkeypatch)

    def after_the_earlier_batches(xs: list[int]) -> list[int]:
        # Batch k (items 2k, 2k+1) waits until the bar counts the 2k items before it: a
        # bar that moved only once the map returned would time out here.
        wait_until(lambda: bars[0].n == xs[0], timeout=5)
        return [x + 1 for x in xs]

    out = pp.BatchedMap(2, inner=inner, progress=True).map(after_the_earlier_batches, range(5))
    assert out == [1, 2, 3, 4, 5]
    assert [(b.desc, b.total, b.n) for b in bars] == [("BatchedMap", 5, 5)]


def test_batched_map_bar_replaces_the_inner_maps_bar(monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    inner = pp.ThreadMap(1, on_error="collect", progress=True)
    out = pp.BatchedMap(2, "collect", inner=inner, progress=True).map(w.sum_batch, range(5))
    assert out == [1, 1, 5, 5, 4]
    assert [(b.desc, b.total, b.n) for b in bars] == [("BatchedMap", 5, 5)]


def test_async_map_advances_as_calls_finish(monkeypatch):
    bars = install_fake_tqdm(monkeypatch)

    async def after_the_earlier_calls(x: int) -> int:
        # One call at a time; call x waits (yielding to the loop) until the bar counts the
        # x calls before it: a bar that moved only at the end would time out here.
        deadline = time.monotonic() + 5
        while bars[0].n != x:
            assert time.monotonic() < deadline, f"bar at {bars[0].n}, call {x}"
            await asyncio.sleep(0.001)
        return x

    executor = pp.AsyncMap(concurrency=1, progress=True)
    assert executor.map(after_the_earlier_calls, range(3)) == [0, 1, 2]
    assert bars[0].n == 3 and bars[0].closed


# ----------------------------------------------------------------------------- tqdm missing


@pytest.mark.parametrize(
    "executor",
    [pp.ThreadMap(progress=True), pp.AsyncMap(progress=True), pp.BatchedMap(2, progress=True)],
    ids=["ThreadMap", "AsyncMap", "BatchedMap"],
)
def test_missing_tqdm_teaches_the_extra(monkeypatch, executor):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    name = type(executor).__name__
    with pytest.raises(
        ImportError,
        match=rf"{name}: drawing a progress bar \(progress=True\) needs tqdm.*{TEACHES}",
    ):
        executor.map(w.sum_batch, [1, 2])


def test_missing_tqdm_is_not_needed_without_progress(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert pp.ThreadMap(2).map(w.square, [3]) == [9]
    with progress_bar(3, "demo", enabled=False) as bar:
        bar.update(3)
        bar.set_postfix(loss="1")


def test_progress_must_be_a_bool():
    with pytest.raises(ValueError, match=r"BatchedMap\(progress\) expects a bool, got 'yes'"):
        pp.BatchedMap(2, progress="yes")
    with pytest.raises(ValueError, match=r"DaskMap\(progress\) expects a bool, got 1"):
        pp.DaskMap("tcp://localhost:1", progress=1)
