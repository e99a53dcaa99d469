"""Tests of pipekit.parallel: order, on_error modes, worker deaths, pipelines, dask, asyncio."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import re
import threading

import numpy as np
import pytest

import pipekit as pk
import pipekit.parallel as pp
from tests.pipekit import parallel_workers as w

pytestmark = [
    # distributed's LocalCluster warns when its nanny/worker ports are picked at random
    # and about a worker's memory limit on small machines; neither concerns these tests.
    pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*Creating scratch directories.*:UserWarning"),
]

MODES = ("raise", "log_and_continue", "collect")


def _check_modes(executor_for, fn, items, expected_bad: set[int], caplog, oracle=None) -> None:
    """Run fn over items under each on_error mode and check the outcome of each."""
    oracle = oracle or fn
    for mode in MODES:
        executor = executor_for(mode)
        if mode == "raise":
            with pytest.raises(pp.ParallelError, match=r"fn failed on item \d+ \(") as info:
                executor.map(fn, items)
            assert info.value.index in expected_bad
            assert isinstance(info.value.__cause__, ValueError)
            continue
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipekit.parallel"):
            out = executor.map(fn, items)
        assert len(out) == len(items)
        bad = {f.index for f in out if isinstance(f, pp.Failure)}
        assert bad == expected_bad
        assert all(out[i] == oracle(items[i]) for i in range(len(items)) if i not in bad)
        assert all(out[i].item == items[i] and out[i].exc_type == "ValueError" for i in bad)
        assert all("ValueError" in out[i].traceback for i in bad)
        warned = [r for r in caplog.records if r.name == "pipekit.parallel"]
        assert len(warned) == (len(bad) if mode == "log_and_continue" else 0)


# ----------------------------------------------------------------------------- in-process maps


def test_thread_map_order_and_modes(caplog):
    items = list(range(20))
    assert pp.ThreadMap(4).map(w.square, items) == [x * x for x in items]
    _check_modes(lambda m: pp.ThreadMap(3, m), w.fail_on_odd, list(range(8)), {1, 3, 5, 7}, caplog)


def test_async_map_sync_and_async_fn(caplog):
    async def slow_square(x: int) -> int:
        await asyncio.sleep(0.001 * (10 - x))  # finish out of order
        return x * x

    assert pp.AsyncMap(4).map(slow_square, range(10)) == [x * x for x in range(10)]
    assert pp.AsyncMap(4).map(w.square, range(10)) == [x * x for x in range(10)]

    async def fail_on_odd(x: int) -> int:
        return w.fail_on_odd(x)

    _check_modes(
        lambda m: pp.AsyncMap(2, m),
        fail_on_odd,
        list(range(8)),
        {1, 3, 5, 7},
        caplog,
        oracle=w.fail_on_odd,
    )


def test_async_map_bounds_concurrency():
    running, peak = 0, 0

    async def track(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.002)
        running -= 1
        return x

    assert pp.AsyncMap(concurrency=3).map(track, range(12)) == list(range(12))
    assert peak == 3


def test_async_map_inside_running_loop():
    async def inner(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    async def main() -> tuple[list[int], list[int]]:
        blocking = pp.AsyncMap(2).map(inner, range(5))  # a loop is running here
        awaited = await pp.AsyncMap(2).amap(inner, range(5))
        return blocking, awaited

    assert asyncio.run(main()) == ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])


def test_batched_map_order_modes_and_inner(caplog):
    seen: list[int] = []

    def record_sizes(xs: list[int]) -> list[int]:
        seen.append(len(xs))
        return [x * x for x in xs]

    assert pp.BatchedMap(4).map(record_sizes, range(10)) == [x * x for x in range(10)]
    assert seen == [4, 4, 2]
    inner = pp.ThreadMap(2, "collect")
    assert pp.BatchedMap(3, inner=inner).map(w.sum_batch, [1, 2, 3, 4]) == [6, 6, 6, 4]

    def fail_batches_with_odd_first(xs: list[int]) -> list[int]:
        if xs[0] % 2:
            raise ValueError(f"batch starting at {xs[0]}")
        return list(xs)

    # batches [0,1] [2,3] [4,5] [6,7]; a whole batch fails together.
    items = [0, 1, 2, 3, 4, 5, 6, 7]
    for mode in ("log_and_continue", "collect"):
        out = pp.BatchedMap(2, mode).map(fail_batches_with_odd_first, [1, *items[1:]])
        assert [isinstance(o, pp.Failure) for o in out] == [True, True] + [False] * 6
    _check_modes(
        lambda m: pp.BatchedMap(1, m),
        lambda xs: [w.fail_on_odd(x) for x in xs],
        [0, 2, 1, 4, 3],
        {2, 4},
        caplog,
        oracle=w.fail_on_odd,
    )
    with pytest.raises(pp.ParallelError, match="one result per item"):
        pp.BatchedMap(2).map(lambda xs: xs[:1], [1, 2])


# ----------------------------------------------------------------------------- processes


def test_process_map_survives_raises_and_a_dying_worker(caplog):
    """50 items, 5 raise and one kills its worker: 44 results in order, 6 Failures."""
    with caplog.at_level(logging.WARNING, logger="pipekit.parallel"):
        out = pp.ProcessMap(n_workers=2, on_error="log_and_continue").map(
            w.square_or_fail, range(50)
        )
    assert len(out) == 50
    failures = {f.index: f for f in out if isinstance(f, pp.Failure)}
    assert set(failures) == {*w.RAISERS, w.KILLER}
    assert failures[w.KILLER].exc_type == "WorkerDied"
    assert all(failures[i].exc_type == "ValueError" for i in w.RAISERS)
    assert all("bad item" in failures[i].message for i in w.RAISERS)
    assert [o for o in out if not isinstance(o, pp.Failure)] == [
        x * x for x in range(50) if x not in failures
    ]
    warned = [r.getMessage() for r in caplog.records if r.name == "pipekit.parallel"]
    assert len(warned) == 6
    for index in failures:
        assert sum(f"item {index} (" in m for m in warned) == 1


def test_process_map_raise_and_collect():
    with pytest.raises(
        pp.ParallelError, match=r"item 1 \(25\): WorkerDied: .* exit code 1"
    ) as info:
        pp.ProcessMap(1).map(w.square_or_fail, [24, 25])
    assert info.value.index == 1 and info.value.failure.item == 25
    # A worker's own exceptions chain under "raise" through the same RemoteFailure path
    # that DaskMap's test checks; one pool per test keeps this file under a minute.
    out = pp.ProcessMap(1, "collect", chunksize=3).map(w.fail_on_odd, range(10))
    assert [isinstance(o, pp.Failure) for o in out] == [bool(i % 2) for i in range(10)]
    assert out[3].message == "odd 3" and "in fail_on_odd" in out[3].traceback


def test_process_map_pipeline_equals_sequential():
    pipe = pk.loads_yaml(w.PIPELINE_YAML)
    arrays = [np.random.default_rng(i).random((8, 8)) for i in range(6)]
    expected = [pipe(a) for a in arrays]
    got = pp.ProcessMap(2, progress=True).map(pipe, arrays)
    assert len(got) == len(expected)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_array_equal(g, e)


def test_process_map_rejects_unpickleable_fn():
    bad = pk.Sequential([pk.Identity(), pk.Lambda(lambda x: x)])
    with pytest.raises(
        pp.PickleError, match=r"Sequential\.ops\[1\]\.fn: \S*<lambda> is not pickleable"
    ):
        pp.ProcessMap(2).map(bad, [1])


# ----------------------------------------------------------------------------- dask


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_dask_map_matches_process_map(dask_client, caplog):
    items = list(range(12))
    assert pp.DaskMap(dask_client).map(w.square, items) == [x * x for x in items]
    address = dask_client.scheduler.address
    assert pp.DaskMap(address).map(w.square, items) == [x * x for x in items]
    _check_modes(lambda m: pp.DaskMap(dask_client, m), w.fail_on_odd, [0, 1, 2, 3], {1, 3}, caplog)
    # The same operator through both: ProcessMap reuses the warm pool of earlier tests.
    op = w.Scaled(2.0)
    by_dask = pp.DaskMap(dask_client).map(op, range(4))
    by_process = pp.ProcessMap(n_workers=2).map(op, range(4))
    for d, p, ref in zip(by_dask, by_process, map(op, range(4)), strict=True):
        np.testing.assert_array_equal(d, p)
        np.testing.assert_array_equal(d, ref)


def test_dask_map_timeout_fails_the_late_item_and_the_others_complete(dask_client):
    out = pp.DaskMap(dask_client, "collect", timeout=0.5).map(w.hang_or_square, [1, "hang", 2, 3])
    assert [out[0], out[2], out[3]] == [1, 4, 9]
    assert isinstance(out[1], pp.Failure) and out[1].exc_type == "TimeoutError"
    assert "timeout=0.5 s" in out[1].message
    with pytest.raises(pk.ConfigError, match=r"DaskMap\(timeout\) expects None or a number"):
        pp.DaskMap(dask_client, timeout=-1)


# ----------------------------------------------------------------------------- helpers


def test_check_pickleable_names_the_path():
    pp.check_pickleable(pk.Sequential([pk.Identity()]))
    lock = threading.Lock()
    with pytest.raises(pp.PickleError, match=r"^dict\['a'\]\[2\]\['lock'\]: <lock object>") as info:
        pp.check_pickleable({"a": [1, w.Scaled(1.0), {"lock": lock}]})
    assert info.value.path == "dict['a'][2]['lock']"
    assert isinstance(info.value, TypeError) and isinstance(info.value, pk.PipekitError)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: pp.ThreadMap(0), r"ThreadMap: n_workers must be None or an int >= 1, got 0"),
        (lambda: pp.ProcessMap(2, "ignore"), r"ProcessMap\(on_error\) expects one of 'raise'"),
        (lambda: pp.ProcessMap(chunksize=0), r"ProcessMap: chunksize must be an int >= 1"),
        (lambda: pp.ProcessMap(start_method="fork"), r"'fork' is unsafe"),
        (lambda: pp.AsyncMap(True), r"AsyncMap: concurrency must be an int >= 1, got True"),
        (lambda: pp.BatchedMap(2, inner=map), r"BatchedMap\(inner\) expects None or a map"),
        (lambda: pp.DaskMap(3), r"DaskMap\(client_or_address\) expects a distributed.Client"),
    ],
)
def test_constructor_validation(make, match):
    with pytest.raises(pk.ConfigError, match=match):
        make()


def test_progress_logs_every_tenth(caplog):
    with caplog.at_level(logging.INFO, logger="pipekit.parallel"):
        pp.ThreadMap(2, progress=True).map(w.square, range(100))
    done = [r.getMessage() for r in caplog.records if "done" in r.getMessage()]
    assert done == [f"ThreadMap: {n}/100 done" for n in range(10, 101, 10)]


def _worker_pids() -> set[int]:
    """Pids of this process's live ProcessMap workers."""
    return {p.pid for p in multiprocessing.active_children() if p.name == "pipekit-processmap"}


def test_process_map_keeps_a_warm_pool_and_replaces_only_a_dead_worker():
    pp.shutdown_pools()
    assert _worker_pids() == set()
    first = set(pp.ProcessMap(n_workers=2).map(w.worker_pid, range(8)))
    warm = _worker_pids()
    assert len(warm) == 2 and first <= warm
    second = set(pp.ProcessMap(n_workers=2).map(w.worker_pid, range(8)))
    assert second <= warm and _worker_pids() == warm  # no new processes were started
    fresh = set(pp.ProcessMap(n_workers=2, keep_pool=False).map(w.worker_pid, range(8)))
    assert not fresh & warm and _worker_pids() == warm  # its own pool, stopped after
    # A death replaces the dead worker only: the pool stays warm, without that process.
    out = pp.ProcessMap(n_workers=2, on_error="collect").map(w.square_or_fail, [1, w.KILLER, 2])
    assert out[0] == 1 and out[2] == 4
    assert isinstance(out[1], pp.Failure) and out[1].exc_type == "WorkerDied"
    dead = int(re.search(r"worker process \(pid (\d+)\)", out[1].message).group(1))
    assert dead in warm
    now = _worker_pids()
    assert len(now) == 2 and dead not in now and warm - {dead} <= now
    pp.shutdown_pools()
    assert _worker_pids() == set()


def test_process_map_starts_a_new_pool_after_the_environment_changed(monkeypatch):
    pp.shutdown_pools()
    monkeypatch.setenv("PIPEKIT_TEST_ENDPOINT", "http://one")
    first = pp.ProcessMap(n_workers=2).map(w.worker_env, ["PIPEKIT_TEST_ENDPOINT"] * 4)
    assert {value for _, value in first} == {"http://one"}
    same = pp.ProcessMap(n_workers=2).map(w.worker_env, ["PIPEKIT_TEST_ENDPOINT"] * 4)
    assert {pid for pid, _ in same} <= {pid for pid, _ in first}  # still warm
    monkeypatch.setenv("PIPEKIT_TEST_ENDPOINT", "http://two")
    second = pp.ProcessMap(n_workers=2).map(w.worker_env, ["PIPEKIT_TEST_ENDPOINT"] * 4)
    assert {value for _, value in second} == {"http://two"}
    assert not {pid for pid, _ in second} & {pid for pid, _ in first}
    pp.shutdown_pools()
