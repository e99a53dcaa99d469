"""A training step through ``pipekit_jax.fit`` against the same step hand-written.

Run: ``uv run python benchmarks/train.py [--repeats 5] [--steps 200]``.

The pipeline is ``Sequential([Gain(13), ModelOp(CNN)])``: a learnable per-band gain (a
fusion-style parameter) before a small equinox CNN, trained with ``optax.adam(1e-3)`` on
a batch of 16 chips ``(13, 32, 32)`` to regress a per-pixel target. Rows:

- hand-written equinox + optax: ``eqx.filter_jit`` of ``filter_value_and_grad`` + update,
  called in a Python loop (the loss is read once, at the end);
- ``pipekit_jax.fit`` (``check_every=10``: the losses are read every 10 steps);
- ``pipekit_jax.fit`` with ``check_every=1`` (a NaN check, hence a device sync, per step).

Each is the steady-state time per step (the first, compiling step excluded), median of
``--repeats`` runs, and the ratio to the hand-written step measured in the same run.

A second table: compile time (lower + XLA compile, median of ``--repeats``) of a block
``Sequential([Gain, ModelOp(conv 13 -> 13, tanh)])`` repeated N times with
``pipekit_jax.Scan(block, N)`` against the same N blocks unrolled in a ``Sequential``,
for N = 1, 10, 100, as ratios to N = 1. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj


class Gain(pk.Operator):
    """Learnable per-band gain on ``(band, y, x)`` values."""

    gain: jax.Array

    def __init__(self, bands: int = 13) -> None:
        self.gain = jnp.ones((bands, 1, 1), jnp.float32)

    def _apply(self, x: jax.Array) -> jax.Array:
        return x * self.gain


class CNN(eqx.Module):
    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d

    def __init__(self, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.conv1 = eqx.nn.Conv2d(13, 16, 3, padding=1, key=k1)
        self.conv2 = eqx.nn.Conv2d(16, 1, 3, padding=1, key=k2)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.conv2(jax.nn.relu(self.conv1(x)))[0]


def pipeline() -> pk.Sequential:
    return pk.Sequential([Gain(13), pa.ModelOp(CNN(jax.random.key(0)))])


def batch() -> tuple[jax.Array, jax.Array]:
    rng = np.random.default_rng(0)
    x = rng.random((16, 13, 32, 32), dtype=np.float32)
    y = (x[:, 3] - x[:, 2]) / (x[:, 3] + x[:, 2] + 1e-3)
    return jnp.asarray(x), jnp.asarray(y)


def loss_fn(op: pk.Sequential, data: tuple[jax.Array, jax.Array]) -> jax.Array:
    x, y = data
    return jnp.mean((jax.vmap(op)(x) - y) ** 2)


def hand_written(steps: int, data: tuple[jax.Array, jax.Array]) -> float:
    optimizer = optax.adam(1e-3)
    op = pipeline()
    opt_state = optimizer.init(eqx.filter(op, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(op, opt_state):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(op, data)
        updates, opt_state = optimizer.update(grads, opt_state, op)
        return eqx.apply_updates(op, updates), opt_state, loss

    op, opt_state, loss = step(op, opt_state)  # compile
    jax.block_until_ready(loss)
    start = time.perf_counter()
    for _ in range(steps - 1):
        op, opt_state, loss = step(op, opt_state)
    jax.block_until_ready(loss)
    return (time.perf_counter() - start) / (steps - 1)


def with_fit(steps: int, data: tuple[jax.Array, jax.Array], check_every: int) -> float:
    _, history = pj.fit(pipeline(), loss_fn, data, optax.adam(1e-3), steps=steps,
                        check_every=check_every, log_every=steps)  # fmt: skip
    return (history.seconds - history.first_step_seconds) / (steps - 1)


def first_steps(repeats: int, data: tuple[jax.Array, jax.Array]) -> tuple[float, float]:
    """First-step seconds of a fit that compiles, and of the next one that reuses it."""
    optimizer, fresh, reused = optax.adam(1e-3), [], []
    for _ in range(repeats):

        def loss(op: pk.Sequential, d: tuple[jax.Array, jax.Array]) -> jax.Array:
            return loss_fn(op, d)  # a new function object each round: a fresh compile

        for times in (fresh, reused):
            _, history = pj.fit(pipeline(), loss, data, optimizer, steps=2, log_every=2)
            times.append(history.first_step_seconds)
    return statistics.median(fresh), statistics.median(reused)


class Block(eqx.Module):
    conv: eqx.nn.Conv2d

    def __init__(self, key: jax.Array) -> None:
        self.conv = eqx.nn.Conv2d(13, 13, 3, padding=1, key=key)

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.tanh(self.conv(x))


def compile_seconds(op: pk.Operator, x: jax.Array, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        fn = jax.jit(lambda v, op=op: op(v))  # a fresh function: nothing cached
        start = time.perf_counter()
        fn.lower(x).compile()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scan_rows(repeats: int) -> list[tuple[str, float]]:
    block = pk.Sequential([Gain(13), pa.ModelOp(Block(jax.random.key(1)))])
    x = batch()[0][0]
    rows = []
    for n in (1, 10, 100):
        rows.append((f"Scan(block, {n})", compile_seconds(pj.Scan(block, n), x, repeats)))
    for n in (1, 10, 100):
        rows.append((f"Sequential of {n} blocks", compile_seconds(
            pk.Sequential([block] * n), x, repeats)))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"JAX {jax.__version__} on {jax.devices()[0].platform}")  # fmt: skip
    data = batch()
    rows: dict[str, list[float]] = {"hand-written equinox + optax": [],
                                    "pipekit_jax.fit (check_every=10)": [],
                                    "pipekit_jax.fit (check_every=1)": []}  # fmt: skip
    for _ in range(args.repeats):  # round-robin, so load changes hit every row alike
        rows["hand-written equinox + optax"].append(hand_written(args.steps, data))
        rows["pipekit_jax.fit (check_every=10)"].append(with_fit(args.steps, data, 10))
        rows["pipekit_jax.fit (check_every=1)"].append(with_fit(args.steps, data, 1))
    medians = {name: statistics.median(times) for name, times in rows.items()}
    base = medians["hand-written equinox + optax"]
    print(f"\nTraining step, Sequential([Gain, ModelOp(CNN)]), batch 16 x (13, 32, 32), "
          f"{args.steps} steps, median of {args.repeats}")  # fmt: skip
    print(f"  {'row':36s} {'ms/step':>9s} {'x hand-written':>15s}")
    for name, seconds in medians.items():
        print(f"  {name:36s} {seconds * 1e3:9.3f} {seconds / base:15.3f}")
    fresh, reused = first_steps(args.repeats, data)
    print(f"\nFirst step of a fit (trace + compile + run), median of {args.repeats}")
    print(f"  {'row':36s} {'s':>9s} {'x fresh':>15s}")
    print(f"  {'fresh loss_fn: compiles':36s} {fresh:9.3f} {1.0:15.3f}")
    print(f"  {'same loss_fn, optimizer: reused':36s} {reused:9.3f} {reused / fresh:15.3f}")
    rows = scan_rows(args.repeats)
    print(f"\nCompile time, block repeated N times (median of {args.repeats})")
    print(f"  {'row':36s} {'compile s':>9s} {'x N = 1':>15s}")
    for name, seconds in rows:
        one = rows[0][1] if name.startswith("Scan") else rows[3][1]
        print(f"  {name:36s} {seconds:9.3f} {seconds / one:15.2f}")


if __name__ == "__main__":
    main()
