"""fit(..., progress=True): a bar over the steps with the loss, moved at log_every."""

from __future__ import annotations

import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import pytest

import pipekit_array as pa
import pipekit_jax as pj
from tests.pipekit.progress_fakes import install_fake_tqdm

X = jnp.linspace(-1.0, 1.0, 16)
DATA = (X, 3 * X + 1)


def linear() -> pa.ModelOp:
    return pa.ModelOp(eqx.nn.Linear("scalar", "scalar", key=jax.random.key(0)))


def mse(op, batch):
    return jnp.mean((jax.vmap(op.model)(batch[0]) - batch[1]) ** 2)


def test_bar_counts_steps_with_the_loss_every_log_every(monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    _, history = pj.fit(linear(), mse, DATA, optax.adam(0.1), steps=25, log_every=10, progress=True)
    (bar,) = bars
    assert (bar.total, bar.desc, bar.unit, bar.closed) == (25, "fit", "step", True)
    assert bar.updates == [10, 10, 5]  # at log_every, and the rest at the end
    # The loss shown is the loss of that step: the oracle is the model's own MSE there.
    shown = [float(p["loss"]) for p in bar.postfixes]
    assert shown == pytest.approx([history.loss[i] for i in (9, 19, 24)], rel=1e-3)
    assert shown[0] > shown[-1]


def test_bar_stops_where_the_data_runs_out(monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    _, history = pj.fit(linear(), mse, batches=[DATA] * 7, steps=25, log_every=5, progress=True)
    assert history.steps == 7
    assert (bars[0].total, bars[0].updates, bars[0].n) == (25, [5, 2], 7)


def test_real_bar_on_stderr(capsys):
    pj.fit(linear(), mse, DATA, optax.adam(0.1), steps=20, log_every=10, progress=True)
    err = capsys.readouterr().err
    assert "fit: 100%" in err and "20/20" in err and "loss=" in err


def test_no_bar_by_default(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # not even imported
    pj.fit(linear(), mse, DATA, steps=3)
    assert capsys.readouterr().err == ""


def test_missing_tqdm_teaches_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r"fit: drawing a progress bar .*pipekit-geo\[progress\]"):
        pj.fit(linear(), mse, DATA, steps=3, progress=True)


def test_progress_must_be_a_bool():
    with pytest.raises(ValueError, match=r"fit\(progress\) expects a bool, got 'yes'"):
        pj.fit(linear(), mse, DATA, steps=3, progress="yes")
