r"""Pure array kernels of xr_toolz.atm: elementwise thermodynamics in SI units.

Every kernel takes arrays in SI units (K, Pa, kg/kg), gets its namespace from the input
(``pipekit_array.namespace``) and so runs on NumPy and under ``jax.jit`` on JAX arrays
with the same numbers. The constants are MetPy's (``metpy.constants``, 1.7), so the
kernels equal ``metpy.calc`` on shared inputs:

- :math:`R_d = 287.047\,\mathrm{J\,kg^{-1}K^{-1}}`, :math:`c_{pd} = 3.5 R_d`, so
  :math:`\kappa = R_d / c_{pd} = 2/7`; :math:`\varepsilon = M_w / M_d = 0.62196`.
- Saturation vapour pressure over liquid water: ``"ambaum"`` (Ambaum 2020, eq. 13,
  MetPy >= 1.7's formula) or ``"bolton"`` (Bolton 1980, eq. 10,
  :math:`611.2\,\mathrm{Pa}\cdot\exp(17.67\,T_c / (T_c + 243.5))`, MetPy < 1.7's).
- Dew point inverts Bolton's formula (as MetPy does, for either choice above).
"""

from __future__ import annotations

from typing import Any, Literal

from pipekit_array import namespace

__all__ = [
    "CP_D",
    "EPSILON",
    "KAPPA",
    "RD",
    "dewpoint_from_vapor_pressure",
    "equivalent_potential_temperature",
    "potential_temperature",
    "relative_humidity",
    "saturation_vapor_pressure",
    "vapor_pressure_from_specific_humidity",
]

SvpFormula = Literal["ambaum", "bolton"]
SVP_FORMULAS: tuple[str, ...] = ("ambaum", "bolton")

#: Gas constant of dry air, J kg-1 K-1 (MetPy: R / M_d).
RD = 287.04749097718457
#: Specific heat of dry air at constant pressure, J kg-1 K-1 (MetPy: 3.5 Rd).
CP_D = 1004.6662184201462
#: Poisson exponent Rd / cp_d (= 2/7).
KAPPA = RD / CP_D
#: Ratio of the molecular weights of water and dry air.
EPSILON = 0.6219569100577033
#: Gas constant of water vapour, J kg-1 K-1.
RV = 461.52311572606084
#: Specific heats of liquid water and of water vapour, J kg-1 K-1.
CP_L = 4219.400000000001
CP_V = 1860.078011865639
#: Latent heat of vaporization at T0, J kg-1.
LV = 2500840.0
#: Triple point of water (K) and the saturation vapour pressure there (Pa).
T0 = 273.16
ES0 = 611.2
#: 0 degC in K.
ZERO_DEGC = 273.15


def potential_temperature(temperature: Any, pressure: Any, p0: float = 100000.0) -> Any:
    r""":math:`\theta = T (p_0 / p)^{\kappa}` (K), ``temperature`` in K, ``pressure`` in Pa."""
    xp = namespace(temperature)
    return temperature * xp.pow(p0 / pressure, KAPPA)


def saturation_vapor_pressure(temperature: Any, formula: SvpFormula = "ambaum") -> Any:
    """Saturation vapour pressure over liquid water (Pa) at ``temperature`` (K)."""
    xp = namespace(temperature)
    if formula == "bolton":
        tc = temperature - ZERO_DEGC
        return ES0 * xp.exp(17.67 * tc / (tc + 243.5))
    if formula == "ambaum":
        latent = LV - (CP_L - CP_V) * (temperature - T0)
        power = (CP_L - CP_V) / RV
        return ES0 * xp.pow(T0 / temperature, power) * xp.exp((LV / T0 - latent / temperature) / RV)
    raise ValueError(
        f"saturation_vapor_pressure: formula must be one of {SVP_FORMULAS}, got {formula!r}"
    )


def dewpoint_from_vapor_pressure(vapor_pressure: Any) -> Any:
    """Dew point (K) of water vapour at partial pressure ``vapor_pressure`` (Pa), Bolton."""
    xp = namespace(vapor_pressure)
    val = xp.log(vapor_pressure / ES0)
    return ZERO_DEGC + 243.5 * val / (17.67 - val)


def vapor_pressure_from_specific_humidity(specific_humidity: Any, pressure: Any) -> Any:
    r"""Vapour pressure (Pa): :math:`e = p\,w / (\varepsilon + w)`, :math:`w = q / (1 - q)`."""
    w = specific_humidity / (1.0 - specific_humidity)
    return pressure * w / (EPSILON + w)


def relative_humidity(temperature: Any, dewpoint: Any, formula: SvpFormula = "ambaum") -> Any:
    """Relative humidity (fraction, 1) :math:`e_s(T_d) / e_s(T)`, both in K."""
    return saturation_vapor_pressure(dewpoint, formula) / saturation_vapor_pressure(
        temperature, formula
    )


def equivalent_potential_temperature(
    temperature: Any,
    pressure: Any,
    dewpoint: Any,
    formula: SvpFormula = "ambaum",
    p0: float = 100000.0,
) -> Any:
    r"""Equivalent potential temperature (K), Bolton 1980 eq. 39, as MetPy computes it.

    .. math::
        T_L = 56 + \left(\frac{1}{T_d - 56} + \frac{\ln(T/T_d)}{800}\right)^{-1},\quad
        \theta_L = T \left(\frac{p_0}{p - e}\right)^{\kappa}
                   \left(\frac{T}{T_L}\right)^{0.28 r},\quad
        \theta_e = \theta_L \exp\left[r (1 + 0.448 r)\left(\frac{3036}{T_L} - 1.78\right)\right]

    with :math:`e = e_s(T_d)` and :math:`r = \varepsilon e / (p - e)` (kg/kg). Where
    :math:`e \ge p` the mixing ratio is undefined and the result is NaN (MetPy warns and
    gives NaN there too).
    """
    xp = namespace(temperature)
    e = saturation_vapor_pressure(dewpoint, formula)
    p_dry = xp.where(e >= pressure, xp.nan, pressure - e)  # NaN, not a warning, past e >= p
    r = EPSILON * e / p_dry
    t_l = 56.0 + 1.0 / (1.0 / (dewpoint - 56.0) + xp.log(temperature / dewpoint) / 800.0)
    th_l = potential_temperature(temperature, p_dry, p0) * xp.pow(temperature / t_l, 0.28 * r)
    return th_l * xp.exp(r * (1.0 + 0.448 * r) * (3036.0 / t_l - 1.78))
