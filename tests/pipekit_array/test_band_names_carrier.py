"""Band names in the carrier contract: ``band_names_of`` and how ``rewrap`` keeps or drops them.

Oracles: the names set by hand on a GeoTensor and on an xarray band coordinate, and NumPy
indexing of those names for a reordering.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from affine import Affine

import geocatalog as gc
import pipekit_array as pa

NAMES = ("B04", "B08", "QA60")


def scene() -> gc.GeoTensor:
    values = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    return gc.GeoTensor(values, Affine(10, 0, 0, 0, -10, 0), 32630, band_names=NAMES)


def dataarray(names=NAMES) -> xr.DataArray:
    da = xr.DataArray(np.ones((3, 4, 5), np.float32), dims=("band", "y", "x"))
    return da if names is None else da.assign_coords(band=list(names))


def test_band_names_of_each_carrier():
    assert pa.band_names_of(scene()) == NAMES
    assert pa.band_names_of(dataarray()) == NAMES
    assert pa.band_names_of(dataarray(None)) is None  # no coordinate
    assert pa.band_names_of(dataarray().assign_coords(band=[1, 2, 3])) is None  # not strings
    assert pa.band_names_of(dataarray()[0]) is None  # no band axis
    assert pa.band_names_of(np.zeros((3, 4, 5))) is None
    assert pa.band_names_of(jnp.zeros((3, 4, 5))) is None


def test_rewrap_keeps_names_while_the_band_axis_is_kept():
    gt, da = scene(), dataarray()
    assert pa.rewrap(gt, gt.values * 2, fill_value=None).band_names == NAMES
    assert pa.band_names_of(pa.rewrap(da, da.data * 2)) == NAMES


def test_rewrap_drops_names_when_the_band_axis_changes():
    gt, da = scene(), dataarray()
    assert pa.rewrap(gt, gt.values[:2]).band_names is None
    assert pa.rewrap(gt, gt.values[0]).band_names is None
    assert pa.band_names_of(pa.rewrap(da, da.data[:2])) is None
    assert pa.rewrap(da, da.data[:2]).dims == ("band", "y", "x")  # the dim keeps its name
    assert pa.band_names_of(pa.rewrap(da, da.data[0])) is None


def test_rewrap_band_names_override_names_a_selection():
    gt, da = scene(), dataarray()
    order = [2, 0]
    picked = tuple(np.asarray(NAMES, dtype=object)[order])
    assert pa.rewrap(gt, gt.values[order], band_names=picked).band_names == ("QA60", "B04")
    out = pa.rewrap(da, da.data[order], band_names=picked)
    assert pa.band_names_of(out) == ("QA60", "B04")
    # a reordering keeps the count: the override, not the old names, must win
    swapped = (NAMES[1], NAMES[0], NAMES[2])
    assert pa.rewrap(gt, gt.values[[1, 0, 2]], band_names=swapped).band_names == swapped
    assert pa.band_names_of(pa.rewrap(da, da.data[[1, 0, 2]], band_names=swapped)) == swapped
    assert pa.rewrap(gt, gt.values, band_names=None).band_names is None
    assert pa.band_names_of(pa.rewrap(da, da.data, band_names=None)) is None
    bare = np.zeros((3, 4, 5))
    assert pa.rewrap(bare, bare, band_names=NAMES) is bare


def test_rewrap_refuses_bad_names_and_unknown_arguments():
    with pytest.raises(gc.BandNamesError, match="2 names"):
        pa.rewrap(scene(), scene().values, band_names=("a", "b"))
    with pytest.raises(ValueError, match="3 unique names"):
        pa.rewrap(dataarray(), dataarray().data, band_names=("a", "a", "b"))
    with pytest.raises(TypeError, match="only fill_value= and band_names="):
        pa.rewrap(scene(), scene().values, nodata=0)


def test_rewrap_keeps_names_under_jit():
    gt = scene()
    out = jax.jit(lambda g: pa.rewrap(g, jnp.sqrt(pa.values_of(g))))(gt)
    assert out.band_names == NAMES
    np.testing.assert_allclose(out.values, np.sqrt(gt.values), rtol=1e-6)
