"""Nodata is never data: the carrier contract's rule, checked on every registered Operator.

For every example whose input is a GeoTensor with a fill value, a nodata edge (column 0)
and a block of pixels are set to the fill value in every band. Then, eager and jit:

- **nodata in, nodata out**: every output GeoTensor on the input's grid is nodata there
  (NaN, or a pixel at the output's own fill value), in every band;
- **nodata is not data**: the same scene with another fill value (DN 0 -> 65535, 0.0 ->
  -9999.0) written at those pixels gives the same outputs: equal values wherever the output
  is valid, and nodata at the same places. An operator that read the fill value as a
  number (clipping to it, averaging it, normalising it) fails this.

An example opts out only with a reason (``Case.extra["nodata"]``), shown in the skip.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geocatalog as gc
import pipekit_array as pa

from .examples import EXAMPLES, Case

CASES = [
    pytest.param(target, case, id=f"{target}-{i}")
    for target, cases in EXAMPLES.items()
    for i, case in enumerate(cases)
]


def nodata_pixels(height: int, width: int) -> np.ndarray:
    """Column 0 (a scene edge) and a 3x4 block inside: the pixels made nodata."""
    mask = np.zeros((height, width), bool)
    mask[:, 0] = True
    mask[5:8, 9:13] = True
    return mask


def with_nodata(gt: gc.GeoTensor, fill: float | int) -> gc.GeoTensor:
    values = np.array(gt.values)
    values[..., nodata_pixels(*values.shape[-2:])] = fill
    return gt.replace(values=values, fill_value=fill)


def other_fill(gt: gc.GeoTensor) -> float | int:
    return 65535 if np.issubdtype(gt.values.dtype, np.integer) else -9999.0


def geotensors(out) -> dict[str, gc.GeoTensor]:
    if isinstance(out, gc.GeoTensor):
        return {"": out}
    if isinstance(out, dict):
        return {k: v for k, v in out.items() if isinstance(v, gc.GeoTensor)}
    return {}


def applicable(case: Case) -> gc.GeoTensor:
    reason = case.extra.get("nodata")
    if reason:
        pytest.skip(reason)
    x = case.make_input()
    if not isinstance(x, gc.GeoTensor) or x.fill_value is None:
        pytest.skip("input is not a GeoTensor with a fill value (nodata is NaN only)")
    return x


def run_both(case: Case, x: gc.GeoTensor):
    eager = case.call(case.op, x)
    jitted = eqx.filter_jit(case.call)(case.op, jax.tree.map(jnp.asarray, x))
    jax.effects_barrier()
    return {"eager": eager, "jit": jitted}


@pytest.mark.parametrize(("target", "case"), CASES)
def test_nodata_in_gives_nodata_out(target, case: Case):
    x = applicable(case)
    x_nd = with_nodata(x, x.fill_value)
    pixels = nodata_pixels(x.height, x.width)
    checked = 0
    for path, out in run_both(case, x_nd).items():
        for name, gt in geotensors(out).items():
            same_grid = gt.lattice == x_nd.lattice and np.array_equal(
                np.asarray(gt.offset), np.asarray(x_nd.offset)
            )
            if gt.shape[-2:] != x.shape[-2:] or not same_grid:
                continue  # another grid (a chip, a resampled target): no pixel to pixel map
            values = np.asarray(gt.values)
            if values.dtype == bool:
                continue  # a mask has no nodata value; the invariance test covers it
            nodata = np.asarray(pa.nodata_mask(gt, values))
            bands = nodata.reshape(-1, *nodata.shape[-2:])
            for b, band in enumerate(bands):
                assert band[pixels].all(), (
                    f"{path} output {name!r} band {b}: input nodata became data at "
                    f"{int((~band[pixels]).sum())} pixels (fill {gt.fill_value!r})"
                )
            checked += 1
    if not checked:
        pytest.skip("no output on the input's grid")


def same_up_to_nodata(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            same_up_to_nodata(a[k], b[k], f"{where}[{k!r}]")
        return
    if isinstance(a, gc.GeoTensor):
        va, vb = np.asarray(a.values), np.asarray(b.values)
        na, nb = np.asarray(pa.nodata_mask(a, va)), np.asarray(pa.nodata_mask(b, vb))
        np.testing.assert_array_equal(na, nb, err_msg=f"{where}: nodata differs")
        np.testing.assert_allclose(
            np.where(na, 0, va), np.where(nb, 0, vb), rtol=1e-5, atol=1e-5, err_msg=where
        )
        return
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for la, lb in zip(leaves_a, leaves_b, strict=True):
        np.testing.assert_allclose(np.asarray(la), np.asarray(lb), rtol=1e-5, atol=1e-5,
                                   equal_nan=True, err_msg=where)  # fmt: skip


@pytest.mark.parametrize(("target", "case"), CASES)
def test_the_fill_value_is_not_read_as_data(target, case: Case):
    x = applicable(case)
    if np.isnan(x.fill_value):
        pytest.skip("nodata is NaN: it has no other spelling to swap in")
    first = run_both(case, with_nodata(x, x.fill_value))
    second = run_both(case, with_nodata(x, other_fill(x)))
    for path in first:
        same_up_to_nodata(first[path], second[path], path)
