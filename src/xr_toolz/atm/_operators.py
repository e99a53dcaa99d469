"""Thermodynamic Operators on a Dataset: read named inputs (CF units), add one output."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import xarray as xr

import pipekit as pk

from . import _kernels as K
from ._units import HUMIDITY, PRESSURE, TEMPERATURE, AtmInputError, si_values, variable

__all__ = [
    "Dewpoint",
    "EquivalentPotentialTemperature",
    "PotentialTemperature",
    "RelativeHumidity",
]


def _check_name(owner: str, arg: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise pk.ConfigError(
            f"{owner}: {arg} must be the name of a Dataset variable or coordinate (a "
            f"non-empty str, e.g. 't'), got {value!r}"
        )
    return value


def _check_formula(owner: str, formula: Any) -> str:
    if formula not in K.SVP_FORMULAS:
        raise pk.ConfigError(
            f"{owner}: formula must be one of {list(K.SVP_FORMULAS)} (saturation vapour "
            f"pressure: 'ambaum' as MetPy >= 1.7, 'bolton' as Bolton 1980), got {formula!r}"
        )
    return str(formula)


def _check_p0(owner: str, p0: Any) -> float:
    if isinstance(p0, bool) or not isinstance(p0, int | float) or not p0 > 0:
        raise pk.ConfigError(f"{owner}: p0 must be a positive number in Pa, got {p0!r}")
    return float(p0)


class AbstractAtmOperator(pk.Operator):
    """``Dataset -> Dataset`` with one variable ``output`` added, the inputs untouched.

    The inputs are named variables or coordinates of the Dataset (a pressure *level*
    coordinate works as the pressure: it is broadcast against the temperature). Each is
    converted to SI by its CF ``units`` attr (see :mod:`._units`), the pure kernel of
    :mod:`._kernels` runs on the broadcast data (NumPy or JAX), and the result is rewrapped
    with the broadcast dims and coords and CF ``units``/``standard_name`` attrs. Returning
    the Dataset (not a bare DataArray) lets steps chain: Dewpoint -> RelativeHumidity.
    """

    output: str = eqx.field(static=True)

    _standard_name: ClassVar[str]
    _units: ClassVar[str]
    _long_name: ClassVar[str]

    @abc.abstractmethod
    def _inputs(self) -> list[tuple[str, str, dict[str, tuple[float, float]]]]:
        """``(argument, variable name, unit table)`` of each input, kernel order."""

    @abc.abstractmethod
    def _compute(self, *values: Any) -> Any:
        """The kernel on the SI arrays of :meth:`_inputs`."""

    def _apply(self, ds: Any) -> xr.Dataset:
        owner = type(self).__name__
        das = [variable(owner, ds, name, arg) for arg, name, _ in self._inputs()]
        try:
            bcast = xr.broadcast(*das)
        except ValueError as err:
            raise AtmInputError(
                f"{owner}: the inputs {[d.name for d in das]} do not broadcast ({err}); "
                f"give them matching dims/coords"
            ) from err
        dims = bcast[0].dims
        bcast = [b.transpose(*dims) for b in bcast]
        values = [
            si_values(owner, b.assign_attrs(d.attrs), arg, table)
            for b, d, (arg, _, table) in zip(bcast, das, self._inputs(), strict=True)
        ]
        out = self._compute(*values)
        attrs = {
            "units": self._units,
            "standard_name": self._standard_name,
            "long_name": self._long_name,
        }
        result = xr.DataArray(out, dims=dims, coords=bcast[0].coords, attrs=attrs)
        return ds.assign({self.output: result})


class PotentialTemperature(AbstractAtmOperator):
    r"""Potential temperature :math:`\theta = T (p_0/p)^{R_d/c_{pd}}` (K).

    Equals ``metpy.calc.potential_temperature(p, T)`` (:math:`\kappa = 2/7`, MetPy's
    constants). ``pressure`` may be a data variable or a vertical level coordinate
    (e.g. ``pressure="level"`` with ``units="hPa"``); hPa/mbar/kPa become Pa.

    Args:
        temperature: name of the temperature variable (units K or degC).
        pressure: name of the pressure variable or coordinate (Pa, hPa, mbar, kPa).
        p0: reference pressure in Pa.
        output: name of the added variable.

    Example:
        >>> import xarray as xr
        >>> from xr_toolz.atm import PotentialTemperature
        >>> ds = xr.Dataset({"t": ((), 273.15, {"units": "K"}),
        ...                  "p": ((), 850.0, {"units": "hPa"})})
        >>> round(float(PotentialTemperature()(ds)["theta"]), 2)
        286.13
    """

    temperature: str = eqx.field(static=True)
    pressure: str = eqx.field(static=True)
    p0: float = eqx.field(static=True)

    _standard_name = "air_potential_temperature"
    _units = "K"
    _long_name = "potential temperature"

    def __init__(
        self,
        temperature: str = "t",
        pressure: str = "p",
        *,
        p0: float = 100000.0,
        output: str = "theta",
    ) -> None:
        owner = type(self).__name__
        self.temperature = _check_name(owner, "temperature", temperature)
        self.pressure = _check_name(owner, "pressure", pressure)
        self.p0 = _check_p0(owner, p0)
        self.output = _check_name(owner, "output", output)

    def _inputs(self) -> list[tuple[str, str, dict[str, tuple[float, float]]]]:
        return [
            ("temperature", self.temperature, TEMPERATURE),
            ("pressure", self.pressure, PRESSURE),
        ]

    def _compute(self, t: Any, p: Any) -> Any:
        return K.potential_temperature(t, p, self.p0)


class Dewpoint(AbstractAtmOperator):
    r"""Dew point (K) from vapour pressure, or from specific humidity and pressure.

    Give exactly one source: ``vapor_pressure="e"`` (Pa/hPa), or
    ``specific_humidity="q"`` (kg/kg or g/kg) together with ``pressure="p"``, where
    :math:`e = p\,w/(\varepsilon + w)`, :math:`w = q/(1-q)`. The dew point inverts Bolton
    (1980): :math:`T_d = 273.15 + 243.5\,\ell/(17.67 - \ell)`, :math:`\ell = \ln(e/611.2)`.
    Equals ``metpy.calc.dewpoint(e)`` and ``metpy.calc.dewpoint_from_specific_humidity(p, q)``.
    """

    vapor_pressure: str | None = eqx.field(static=True)
    specific_humidity: str | None = eqx.field(static=True)
    pressure: str | None = eqx.field(static=True)

    _standard_name = "dew_point_temperature"
    _units = "K"
    _long_name = "dew point temperature"

    def __init__(
        self,
        vapor_pressure: str | None = None,
        *,
        specific_humidity: str | None = None,
        pressure: str | None = None,
        output: str = "td",
    ) -> None:
        owner = type(self).__name__
        self.vapor_pressure = _check_name(owner, "vapor_pressure", vapor_pressure, optional=True)
        self.specific_humidity = _check_name(
            owner, "specific_humidity", specific_humidity, optional=True
        )
        self.pressure = _check_name(owner, "pressure", pressure, optional=True)
        self.output = _check_name(owner, "output", output)
        from_e, from_q = self.vapor_pressure is not None, self.specific_humidity is not None
        if from_e == from_q:
            raise pk.ConfigError(
                f"{owner}: give exactly one of vapor_pressure= or specific_humidity= (with "
                f"pressure=), got vapor_pressure={vapor_pressure!r}, "
                f"specific_humidity={specific_humidity!r}"
            )
        if from_q != (self.pressure is not None):
            raise pk.ConfigError(
                f"{owner}: pressure= goes with specific_humidity= (and only with it), got "
                f"specific_humidity={specific_humidity!r}, pressure={pressure!r}"
            )

    def _inputs(self) -> list[tuple[str, str, dict[str, tuple[float, float]]]]:
        if self.vapor_pressure is not None:
            return [("vapor_pressure", self.vapor_pressure, PRESSURE)]
        assert self.specific_humidity is not None and self.pressure is not None
        return [
            ("specific_humidity", self.specific_humidity, HUMIDITY),
            ("pressure", self.pressure, PRESSURE),
        ]

    def _compute(self, *values: Any) -> Any:
        e = values[0] if len(values) == 1 else K.vapor_pressure_from_specific_humidity(*values)
        return K.dewpoint_from_vapor_pressure(e)


class RelativeHumidity(AbstractAtmOperator):
    r"""Relative humidity :math:`e_s(T_d)/e_s(T)` as a fraction (CF units ``"1"``).

    A fraction, not percent: CF's canonical unit of ``relative_humidity`` is 1 and MetPy
    returns a dimensionless fraction. Equals
    ``metpy.calc.relative_humidity_from_dewpoint(T, Td)`` with ``formula="ambaum"``
    (MetPy 1.7's saturation vapour pressure); ``formula="bolton"`` uses Bolton (1980).
    """

    temperature: str = eqx.field(static=True)
    dewpoint: str = eqx.field(static=True)
    formula: str = eqx.field(static=True)

    _standard_name = "relative_humidity"
    _units = "1"
    _long_name = "relative humidity"

    def __init__(
        self,
        temperature: str = "t",
        dewpoint: str = "td",
        *,
        formula: str = "ambaum",
        output: str = "rh",
    ) -> None:
        owner = type(self).__name__
        self.temperature = _check_name(owner, "temperature", temperature)
        self.dewpoint = _check_name(owner, "dewpoint", dewpoint)
        self.formula = _check_formula(owner, formula)
        self.output = _check_name(owner, "output", output)

    def _inputs(self) -> list[tuple[str, str, dict[str, tuple[float, float]]]]:
        return [
            ("temperature", self.temperature, TEMPERATURE),
            ("dewpoint", self.dewpoint, TEMPERATURE),
        ]

    def _compute(self, t: Any, td: Any) -> Any:
        return K.relative_humidity(t, td, self.formula)  # type: ignore[arg-type]


class EquivalentPotentialTemperature(AbstractAtmOperator):
    r"""Equivalent potential temperature (K), Bolton (1980) eq. 39.

    Equals ``metpy.calc.equivalent_potential_temperature(p, T, Td)`` with
    ``formula="ambaum"`` (the saturation vapour pressure MetPy 1.7 puts into
    :math:`e = e_s(T_d)`); see :func:`._kernels.equivalent_potential_temperature`.
    NaN where :math:`e_s(T_d) \ge p` (no mixing ratio).
    """

    temperature: str = eqx.field(static=True)
    pressure: str = eqx.field(static=True)
    dewpoint: str = eqx.field(static=True)
    formula: str = eqx.field(static=True)
    p0: float = eqx.field(static=True)

    _standard_name = "air_equivalent_potential_temperature"
    _units = "K"
    _long_name = "equivalent potential temperature"

    def __init__(
        self,
        temperature: str = "t",
        pressure: str = "p",
        dewpoint: str = "td",
        *,
        formula: str = "ambaum",
        p0: float = 100000.0,
        output: str = "theta_e",
    ) -> None:
        owner = type(self).__name__
        self.temperature = _check_name(owner, "temperature", temperature)
        self.pressure = _check_name(owner, "pressure", pressure)
        self.dewpoint = _check_name(owner, "dewpoint", dewpoint)
        self.formula = _check_formula(owner, formula)
        self.p0 = _check_p0(owner, p0)
        self.output = _check_name(owner, "output", output)

    def _inputs(self) -> list[tuple[str, str, dict[str, tuple[float, float]]]]:
        return [
            ("temperature", self.temperature, TEMPERATURE),
            ("pressure", self.pressure, PRESSURE),
            ("dewpoint", self.dewpoint, TEMPERATURE),
        ]

    def _compute(self, t: Any, p: Any, td: Any) -> Any:
        return K.equivalent_potential_temperature(t, p, td, self.formula, self.p0)  # type: ignore[arg-type]
