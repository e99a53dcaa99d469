"""Source rate from a plume mask: column to mass, integrated mass enhancement (IME), flux."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, get_args

import equinox as eqx
import numpy as np

import pipekit as pk

from .._carrier import float_values, namespace, rewrap
from .._errors import GeotoolzValueError
from ._area import pixel_areas

__all__ = [
    "CH4_MOLAR_MASS",
    "GAS_CONSTANT",
    "VARON2021_S2_U_EFF",
    "ColumnToMass",
    "ColumnUnits",
    "IMEFlux",
    "calibrate_u_eff",
]

#: Molar mass of CH4 in kg/mol (16.04 g/mol).
CH4_MOLAR_MASS = 0.01604
#: Molar gas constant in J/(mol K).
GAS_CONSTANT = 8.314462618
#: ``U_eff = a U10 + b`` (m/s) of Varon et al. (2021, AMT 14, 2771) for Sentinel-2 at 20 m.
VARON2021_S2_U_EFF: tuple[float, float] = (0.33, 0.45)

#: Units of an enhancement map read by :class:`IMEFlux`.
ColumnUnits: TypeAlias = Literal["ppm_m", "kg_m2"]
_COLUMN_UNITS: tuple[str, ...] = get_args(ColumnUnits)


def _positive(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise pk.ConfigError(f"{owner}: {name} must be a positive number, got {value!r}")
    if not math.isfinite(value):
        raise pk.ConfigError(f"{owner}: {name} must be finite, got {value!r}")
    return float(value)


class ColumnToMass(pk.Operator):
    r"""CH4 column enhancement in ppm·m to a mass column in kg/m².

    .. math:: \Delta\Omega\,[\mathrm{kg\,m^{-2}}] = \Delta X\,[\mathrm{ppm\,m}] \cdot
              10^{-6}\,\frac{p\,M_{CH_4}}{R\,T}

    1 ppm·m is 1 m of air at pressure ``p`` and temperature ``T`` holding 1 ppm (by volume)
    of CH4 (ideal gas; ``M = 16.04 g/mol``, ``R = 8.314462618 J/(mol K)``). The defaults are
    STP (101325 Pa, 273.15 K), the usual reference of ppm·m retrievals: 1 ppm·m = 7.156e-7
    kg/m². Every band is converted; nodata stays NaN.

    Example:
        >>> import numpy as np
        >>> from geotoolz.methane import ColumnToMass
        >>> ColumnToMass()(np.array([1.0e6]))  # 1e6 ppm·m
        array([0.71562514])
    """

    pressure_pa: float = eqx.field(static=True)
    temperature_k: float = eqx.field(static=True)

    def __init__(self, pressure_pa: float = 101_325.0, temperature_k: float = 273.15) -> None:
        self.pressure_pa = _positive("ColumnToMass", "pressure_pa", pressure_pa)
        self.temperature_k = _positive("ColumnToMass", "temperature_k", temperature_k)

    @property
    def factor(self) -> float:
        """kg/m² per ppm·m."""
        return 1e-6 * self.pressure_pa * CH4_MOLAR_MASS / (GAS_CONSTANT * self.temperature_k)

    def _apply(self, x: Any) -> Any:
        return rewrap(x, float_values(x) * self.factor, fill_value=float("nan"))


class IMEFlux(pk.Operator):
    r"""Point-source rate from a masked plume by the integrated mass enhancement (IME).

    Varon et al. (2018, AMT 11, 5673), with the plume length :math:`L = \sqrt{A}`:

    .. math:: \mathrm{IME} = \sum_{i \in \mathrm{plume}} \Delta\Omega_i A_i, \quad
              A = \sum_{i \in \mathrm{plume}} A_i, \quad L = \sqrt{A}, \quad
              Q = \frac{U_\mathrm{eff}\,\mathrm{IME}}{L}

    The input is a plume map whose non-plume pixels are NaN (:class:`PlumeMask`'s default
    output), in ppm·m (converted with ``to_mass``, a :class:`ColumnToMass`) or in kg/m².
    :math:`A_i` come from the CRS (:func:`pixel_areas`): ``|det(transform)|`` in metres for
    a projected CRS, ellipsoidal cell areas for a geographic one.

    ``u_eff`` is the effective wind speed, a number (m/s) or a calibration ``(a, b)``:
    :math:`U_\mathrm{eff} = a\,U_{10} + b` with ``wind_speed`` as :math:`U_{10}`. It is
    specific to the sensor, the pixel size, the retrieval noise and the masking, because it
    absorbs the ratio of the plume's true length to :math:`\sqrt{A}`; calibrate it for your
    setup with :func:`calibrate_u_eff`. Published values: Varon et al. (2021) for
    Sentinel-2 (20 m), :data:`VARON2021_S2_U_EFF` ``= (0.33, 0.45)``; Varon et al. (2018)
    fit :math:`U_\mathrm{eff} = 1.1 \ln U_{10} + 0.6` for GHGSat-D (50 m).

    Returns a dict of arrays (one per stacked scene, 0-d otherwise), a pytree that pickles
    and leaves a jitted pipeline: ``ime_kg``, ``area_m2``, ``length_m``, ``u_eff_m_s``,
    ``flux_kg_s``, ``flux_kg_h`` and ``n_pixels``. An empty plume gives flux 0.

    Example:
        >>> import numpy as np
        >>> from affine import Affine
        >>> from geocatalog import GeoTensor
        >>> from geotoolz.methane import IMEFlux
        >>> v = np.full((4, 4), np.nan); v[1:3, 1:3] = 2e-3  # kg/m² on 4 pixels of 20 m
        >>> gt = GeoTensor(v, Affine(20, 0, 0, 0, -20, 0), "EPSG:32633")
        >>> out = IMEFlux(wind_speed=4.0, u_eff=2.0, input_units="kg_m2")(gt)
        >>> float(out["ime_kg"]), float(out["length_m"]), float(out["flux_kg_s"])
        (3.2, 40.0, 0.16)
    """

    wind_speed: float = eqx.field(static=True)
    u_eff: float | tuple[float, float] = eqx.field(static=True)
    input_units: ColumnUnits = eqx.field(static=True)
    to_mass: ColumnToMass

    def __init__(
        self,
        wind_speed: float,
        u_eff: float | Sequence[float],
        input_units: ColumnUnits = "ppm_m",
        to_mass: ColumnToMass | None = None,
    ) -> None:
        self.wind_speed = _positive("IMEFlux", "wind_speed", wind_speed)
        if isinstance(u_eff, Sequence) and not isinstance(u_eff, str):
            if len(u_eff) != 2 or not all(
                isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
                for c in u_eff
            ):
                raise pk.ConfigError(
                    f"IMEFlux: u_eff as a calibration must be two finite numbers (a, b) for "
                    f"U_eff = a * wind_speed + b, got {u_eff!r}"
                )
            self.u_eff = (float(u_eff[0]), float(u_eff[1]))
        else:
            self.u_eff = _positive("IMEFlux", "u_eff", u_eff)
        if input_units not in _COLUMN_UNITS:
            raise pk.ConfigError(
                f"IMEFlux: input_units must be one of {_COLUMN_UNITS}, got {input_units!r}"
            )
        self.input_units = input_units
        self.to_mass = ColumnToMass() if to_mass is None else to_mass
        if self.effective_wind_speed <= 0:
            raise pk.ConfigError(
                f"IMEFlux: U_eff = {self.u_eff[0]} * {self.wind_speed} + {self.u_eff[1]} = "
                f"{self.effective_wind_speed} m/s is not positive; check the calibration (a, b)"
            )

    @property
    def effective_wind_speed(self) -> float:
        """U_eff in m/s: ``u_eff``, or ``a * wind_speed + b``."""
        if isinstance(self.u_eff, tuple):
            return self.u_eff[0] * self.wind_speed + self.u_eff[1]
        return self.u_eff

    def _apply(self, x: Any) -> dict[str, Any]:
        v = float_values(x)
        xp = namespace(v)
        areas = pixel_areas(x, v.dtype, op="IMEFlux")
        if self.input_units == "ppm_m":
            v = v * self.to_mass.factor
        plume = ~xp.isnan(v)
        zero = xp.zeros_like(v)
        axes = tuple(range(len(getattr(x, "batch_shape", ())), v.ndim))
        ime = xp.asarray(xp.sum(xp.where(plume, v * areas, zero), axis=axes))
        area = xp.asarray(xp.sum(xp.where(plume, zero + areas, zero), axis=axes))
        n_pixels = xp.asarray(xp.sum(xp.astype(plume, xp.int32), axis=axes, dtype=xp.int32))
        length = xp.sqrt(area)
        u_eff = self.effective_wind_speed
        empty = area == 0
        flux = xp.where(
            empty, xp.zeros_like(ime), u_eff * ime / xp.where(empty, xp.ones_like(length), length)
        )
        return {
            "ime_kg": ime,
            "area_m2": area,
            "length_m": length,
            "u_eff_m_s": xp.full(ime.shape, u_eff, dtype=ime.dtype),
            "flux_kg_s": flux,
            "flux_kg_h": xp.asarray(flux * 3600.0),
            "n_pixels": n_pixels,
        }


def calibrate_u_eff(
    results: Sequence[Mapping[str, Any]],
    flux_kg_h: Sequence[float],
    wind_speed: Sequence[float],
) -> tuple[float, float]:
    r"""Fit ``U_eff = a U10 + b`` (least squares) on plumes of known rate: returns ``(a, b)``.

    For each calibration plume ``i`` (an :class:`IMEFlux` output; its ``u_eff`` does not
    matter, only ``ime_kg`` and ``length_m`` are read), the effective wind speed that
    reproduces the true rate is :math:`U_{\mathrm{eff},i} = Q_i L_i / \mathrm{IME}_i`; ``a``
    and ``b`` minimise :math:`\sum_i (a U_i + b - U_{\mathrm{eff},i})^2` (Varon et al. 2018,
    Sect. 3, fit to LES plumes). Use plumes that span the rates, winds and stabilities of
    the application, and validate on others: the fit absorbs the sensor, the noise and the
    masking, so it transfers to neither another sensor nor another mask.

    Example:
        >>> calibrate_u_eff([{"ime_kg": 10.0, "length_m": 100.0}] * 2, [360.0, 720.0], [1.0, 3.0])
        (0.5, 0.5)
    """
    if not len(results) == len(flux_kg_h) == len(wind_speed) or len(results) < 2:
        raise GeotoolzValueError(
            f"calibrate_u_eff needs at least two plumes and one rate and wind speed per plume; "
            f"got {len(results)} results, {len(flux_kg_h)} rates, {len(wind_speed)} wind speeds"
        )
    ime = np.array([float(r["ime_kg"]) for r in results])
    length = np.array([float(r["length_m"]) for r in results])
    if not (np.all(ime > 0) and np.all(length > 0)):
        raise GeotoolzValueError(
            "calibrate_u_eff: every calibration plume needs a non-empty mask (ime_kg > 0, "
            f"length_m > 0); got ime_kg {ime.tolist()}, length_m {length.tolist()}"
        )
    u_eff = np.asarray(flux_kg_h, dtype=np.float64) / 3600.0 * length / ime
    design = np.stack([np.asarray(wind_speed, dtype=np.float64), np.ones(len(results))], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, u_eff, rcond=None)
    return round(float(a), 12), round(float(b), 12)
