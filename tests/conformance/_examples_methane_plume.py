"""Conformance examples: methane plume masking and quantification (merged into EXAMPLES).

The input is a methane enhancement map (ppm·m, float32, one band): a Gaussian plume from
:func:`geocatalog.testing.gaussian_plume` plus seeded noise, with a fill value so that the
nodata tests apply. IMEFlux also runs on a masked plume (NaN off the plume) and on the same
map placed on a geographic grid, where its pixel areas follow the (traced) row offset.

The multi-band retrievals read S2-like passes of :func:`synthetic_s2_methane_pair`; the
multi-pass one takes two scenes, passed as :class:`PassPair`, a pytree that slices both
passes alike (the suite slices its input into chips), or as the target twice (a plume-free
difference: all zeros but the nodata).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np
from affine import Affine

import geotoolz as gz
from geocatalog import GeoTensor
from geocatalog.testing import gaussian_plume, synthetic_s2_methane_pair

from ._case import SCENE_SHAPE, Case

#: The enhancement map's fill value (not NaN: the suite swaps it for another spelling).
FILL = -1.0e4


def enhancement_map() -> GeoTensor:
    field = gaussian_plume(*SCENE_SHAPE, flux_kg_h=800.0, wind_speed=3.0, units="ppm_m",
                           source_rowcol=(20.5, 4.5), oversample=2)  # fmt: skip
    noise = np.random.default_rng(7).normal(0.0, 150.0, field.shape)
    return field.replace(values=(field.values + noise).astype(np.float32), fill_value=FILL)


def masked_plume() -> GeoTensor:
    return gz.methane.PlumeMask(threshold=300.0, min_pixels=3)(enhancement_map())


def geographic_map() -> GeoTensor:
    gt = enhancement_map()
    return GeoTensor(gt.values, Affine(0.0002, 0, 10.0, 0, -0.0002, 45.0), "EPSG:4326", FILL)


_K = (-6.15e-7, -3.69e-6)  # S2 B11, B12 unit absorption per ppm·m (ch4_unit_absorption)


def _pair() -> Any:
    return synthetic_s2_methane_pair(*SCENE_SHAPE, k_b11=_K[0], k_b12=_K[1], seed=7,
                                     flux_kg_h=8000.0)  # fmt: skip


def s2_target() -> GeoTensor:
    """The target pass with fill value 0 (reflectance is never exactly 0 here)."""
    return _pair().target.replace(fill_value=0.0)


class PassPair(eqx.Module):
    """Target and reference passes on one grid that slice together."""

    target: GeoTensor
    reference: GeoTensor

    @property
    def height(self) -> int:
        return self.target.height

    @property
    def width(self) -> int:
        return self.target.width

    @property
    def transform(self) -> Any:
        return self.target.transform

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.target.batch_shape

    def __getitem__(self, key: Any) -> PassPair:
        return PassPair(self.target[key], self.reference[key])


def pass_pair() -> PassPair:
    pair = _pair()
    return PassPair(pair.target, pair.reference)


def call_pair(op: Any, x: PassPair) -> Any:
    return op(x.target, x.reference)


def call_twice(op: Any, x: GeoTensor) -> Any:
    return op(x, x)


EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.methane.PlumeMask": [
        Case(gz.methane.PlumeMask(threshold=300.0, min_pixels=3), make_input=enhancement_map),
        Case(
            gz.methane.PlumeMask(false_alarm_rate=0.01, min_pixels=4, connectivity=4),
            make_input=enhancement_map,
        ),
        Case(gz.methane.PlumeMask(threshold=250.0, output="mask"), make_input=enhancement_map),
    ],
    "geotoolz.methane.IMEFlux": [
        Case(gz.methane.IMEFlux(wind_speed=3.0, u_eff=(0.39, 0.0)), make_input=masked_plume),
        Case(gz.methane.IMEFlux(wind_speed=4.0, u_eff=1.5), make_input=enhancement_map),
        Case(
            gz.methane.IMEFlux(
                wind_speed=2.0,
                u_eff=1.0,
                input_units="kg_m2",
                to_mass=gz.methane.ColumnToMass(90_000.0, 290.0),
            ),
            make_input=geographic_map,
        ),
    ],
    "geotoolz.methane.MultiBandSinglePass": [
        Case(gz.methane.MultiBandSinglePass(b11=2, b12=3), make_input=s2_target),
        Case(
            gz.methane.MultiBandSinglePass(b11=-2, b12=-1, output="delta_r", amf=2.5),
            make_input=s2_target,
        ),
    ],
    "geotoolz.methane.MultiBandMultiPass": [
        Case(
            gz.methane.MultiBandMultiPass(b11=2, b12=3),
            make_input=pass_pair,
            call=call_pair,
            vmap=False,  # gc.stack stacks GeoTensors, not pairs; the call_twice case vmaps
        ),
        Case(
            gz.methane.MultiBandMultiPass(b11=2, b12=3, output="delta_r"),
            make_input=s2_target,
            call=call_twice,
        ),
    ],
    "geotoolz.methane.ColumnToMass": [
        Case(gz.methane.ColumnToMass(), make_input=enhancement_map),
        Case(
            gz.methane.ColumnToMass(pressure_pa=85_000.0, temperature_k=300.0),
            make_input=enhancement_map,
        ),
    ],
}
