"""Conformance examples: pipekit_jax transforms that are Operators (merged into EXAMPLES)."""

from __future__ import annotations

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_jax as pj

from ._case import Case, scene


def stacked_scenes() -> gc.GeoTensor:
    """Three chips of one scene at different locations, stacked (batch shape (3,))."""
    x = scene()
    return gc.stack([x[..., 0:20, 0:24], x[..., 20:40, 24:48], x[..., 3:23, 5:29]])


def _masked_ndvi() -> pk.Sequential:
    return pk.Sequential(
        [gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]), gz.indices.NDVI(red_idx=2, nir_idx=3)]
    )


EXAMPLES: dict[str, list[Case]] = {
    "pipekit_jax.Vmap": [
        Case(pj.vmap(gz.indices.NDVI(red_idx=2, nir_idx=3)), make_input=stacked_scenes),
        Case(pj.vmap(_masked_ndvi()), make_input=stacked_scenes),
    ],
}
