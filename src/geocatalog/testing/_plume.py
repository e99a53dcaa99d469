"""A steady Gaussian plume of methane from a point source, as a column-enhancement raster.

``gaussian_plume()`` gives the vertically integrated enhancement ΔΩ(x, y) of a continuous
point release (flux Q, wind speed U, wind direction, a Pasquill–Gifford stability class) on
a metre grid, in kg/m² or in ppm·m. It is the ground truth of the methane tests: its mass
budget is known in closed form (every crosswind line carries Q/U kg per metre downwind).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from affine import Affine

from .._errors import GeoValueError
from .._geotensor import GeoTensor

__all__ = [
    "CH4_MOLAR_MASS",
    "GAS_CONSTANT",
    "STABILITY_CLASSES",
    "STANDARD_PRESSURE",
    "STANDARD_TEMPERATURE",
    "gaussian_plume",
    "kg_m2_per_ppm_m",
    "pasquill_gifford_sigmas",
]

#: Molar mass of CH4 in kg/mol (16.04 g/mol).
CH4_MOLAR_MASS = 0.01604
#: Molar gas constant in J/(mol K) (CODATA 2018, exact).
GAS_CONSTANT = 8.314462618
#: Standard pressure in Pa (1 atm) and temperature in K (0 °C): the ppm·m convention (STP).
STANDARD_PRESSURE = 101_325.0
STANDARD_TEMPERATURE = 273.15

#: Briggs (1973) open-country coefficients, x in metres: (ay, az, bz, pz) with
#: σ_y = ay x (1 + 1e-4 x)^-1/2 and σ_z = az x (1 + bz x)^pz.
_BRIGGS_RURAL: dict[str, tuple[float, float, float, float]] = {
    "A": (0.22, 0.20, 0.0, 1.0),
    "B": (0.16, 0.12, 0.0, 1.0),
    "C": (0.11, 0.08, 0.0002, -0.5),
    "D": (0.08, 0.06, 0.0015, -0.5),
    "E": (0.06, 0.03, 0.0003, -1.0),
    "F": (0.04, 0.016, 0.0003, -1.0),
}
#: Pasquill stability classes, A (very unstable) to F (stable).
STABILITY_CLASSES: tuple[str, ...] = tuple(_BRIGGS_RURAL)


def kg_m2_per_ppm_m(
    pressure_pa: float = STANDARD_PRESSURE, temperature_k: float = STANDARD_TEMPERATURE
) -> float:
    """Mass column (kg/m²) of 1 ppm·m of CH4: ``1e-6 · p · M_CH4 / (R · T)``.

    1 ppm·m is a layer 1 m thick of 1 ppm CH4 (by volume) in air at ``p`` and ``T``: the CH4
    density there is ``1e-6 · p · M / (R T)`` (ideal gas). At STP (101325 Pa, 273.15 K) it is
    7.156e-7 kg/m², i.e. 1 kg/m² ≈ 1.397e6 ppm·m.

    Example:
        >>> round(kg_m2_per_ppm_m() * 1e7, 3)
        7.156
    """
    return 1e-6 * pressure_pa * CH4_MOLAR_MASS / (GAS_CONSTANT * temperature_k)


def pasquill_gifford_sigmas(
    x: np.ndarray | float, stability: str = "D"
) -> tuple[np.ndarray, np.ndarray]:
    """Plume spreads ``(σ_y, σ_z)`` in metres at downwind distance ``x`` (m), Briggs rural.

    Briggs (1973) fits to the Pasquill–Gifford curves for open country (Hanna, Briggs &
    Hosker 1982, Table 4.5), e.g. class D: σ_y = 0.08 x (1 + 1e-4 x)^-1/2,
    σ_z = 0.06 x (1 + 1.5e-3 x)^-1/2. Zero for ``x <= 0``.

    Example:
        >>> sy, sz = pasquill_gifford_sigmas(1000.0, "D")
        >>> round(float(sy), 3), round(float(sz), 3)
        (76.277, 37.947)
    """
    if stability not in _BRIGGS_RURAL:
        raise GeoValueError(
            f"pasquill_gifford_sigmas: stability must be one of {STABILITY_CLASSES}, got "
            f"{stability!r}"
        )
    ay, az, bz, pz = _BRIGGS_RURAL[stability]
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    sigma_y = ay * x / np.sqrt(1.0 + 1e-4 * x)
    sigma_z = az * x * (1.0 + bz * x) ** pz
    return sigma_y, sigma_z


def gaussian_plume(
    height: int = 128,
    width: int = 128,
    *,
    flux_kg_h: float = 1000.0,
    wind_speed: float = 5.0,
    wind_towards_deg: float = 90.0,
    stability: str = "D",
    source_rowcol: tuple[float, float] | None = None,
    res: float = 20.0,
    transform: Affine | None = None,
    crs: str = "EPSG:32633",
    initial_sigma_m: float = 5.0,
    oversample: int = 4,
    units: Literal["kg_m2", "ppm_m"] = "kg_m2",
    pressure_pa: float = STANDARD_PRESSURE,
    temperature_k: float = STANDARD_TEMPERATURE,
) -> GeoTensor:
    r"""Column enhancement of a steady Gaussian plume, ``(1, height, width)`` float64 GeoTensor.

    A continuous point release of ``Q = flux_kg_h / 3600`` kg/s in a uniform wind ``U``. In
    plume coordinates (``x`` downwind of the source, ``y`` crosswind) the concentration is the
    Gaussian plume with ground reflection; integrated over height (0 to ∞) the vertical
    Gaussian and its image integrate to exactly 1, so σ_z cancels and the column is

    .. math:: \Delta\Omega(x, y) = \frac{Q}{U \sqrt{2\pi}\,\sigma_y(x)}
              \exp\!\left(-\frac{y^2}{2\sigma_y(x)^2}\right)\ \mathrm{kg\,m^{-2}}, \quad x > 0,

    with :math:`\sigma_y(x)^2 = \sigma_{y,PG}(x)^2 + \sigma_0^2` (Briggs rural curves of
    :func:`pasquill_gifford_sigmas`, plus ``initial_sigma_m`` for the source's own size, so
    the field stays finite at the source), and 0 upwind. Continuity: every crosswind line
    carries :math:`\int \Delta\Omega\,dy = Q/U` kg per metre downwind. Each pixel is the
    mean of ``oversample²`` sub-pixel samples, so pixel sums approximate the integrals.

    ``units="ppm_m"`` divides by :func:`kg_m2_per_ppm_m` (``pressure_pa``, ``temperature_k``;
    STP by default).

    Arguments:
        height, width: grid size in pixels.
        flux_kg_h: emission rate Q in kg/h (> 0).
        wind_speed: U in m/s (> 0).
        wind_towards_deg: the direction the wind blows **towards**, degrees clockwise from
            grid north (90: towards +x, east).
        stability: Pasquill class ``"A"`` ... ``"F"``.
        source_rowcol: the source as fractional (row, col) pixel coordinates (corner
            anchored: ``(0.5, 0.5)`` is the centre of pixel (0, 0)); default the centre of
            pixel ``(height // 2, width // 4)``.
        res: pixel size in metres (used when ``transform`` is None).
        transform: a north-up metre transform; default ``Affine(res, 0, 500000, 0, -res,
            4_000_000)``.
        crs: a projected CRS in metres (default UTM 33N).
        initial_sigma_m: σ_0 in metres (> 0).
        oversample: sub-pixel samples per axis (>= 1).
        units: ``"kg_m2"`` or ``"ppm_m"``.

    Example:
        >>> field = gaussian_plume(64, 64, flux_kg_h=3600.0, wind_speed=2.0, res=10.0)
        >>> column = field.values[0, :, 40].sum() * 10.0  # kg per metre downwind
        >>> round(float(column), 3)  # Q / U = 1 kg/s / 2 m/s
        0.5
    """
    positive = {"flux_kg_h": flux_kg_h, "wind_speed": wind_speed,
                "initial_sigma_m": initial_sigma_m, "res": res}  # fmt: skip
    for name, value in positive.items():
        if not value > 0:
            raise GeoValueError(f"gaussian_plume: {name} must be > 0, got {value!r}")
    if int(oversample) != oversample or oversample < 1:
        raise GeoValueError(f"gaussian_plume: oversample must be an int >= 1, got {oversample}")
    if units not in ("kg_m2", "ppm_m"):
        raise GeoValueError(f"gaussian_plume: units must be 'kg_m2' or 'ppm_m', got {units!r}")
    if transform is None:
        transform = Affine(res, 0.0, 500_000.0, 0.0, -res, 4_000_000.0)
    if transform.b != 0 or transform.d != 0 or transform.e >= 0:
        raise GeoValueError(
            f"gaussian_plume: transform must be north-up (b = d = 0, e < 0); got {transform!r}"
        )
    row0, col0 = (
        source_rowcol if source_rowcol is not None else (height // 2 + 0.5, width // 4 + 0.5)
    )
    n = int(oversample)
    sub = (np.arange(n) + 0.5) / n  # sub-pixel positions within a pixel
    rows = (np.arange(height)[:, None] + sub[None, :]).reshape(-1)
    cols = (np.arange(width)[:, None] + sub[None, :]).reshape(-1)
    east = (cols - col0) * transform.a  # metres east of the source
    north = (rows - row0) * transform.e  # metres north of the source (e < 0)
    theta = math.radians(wind_towards_deg)
    ux, uy = math.sin(theta), math.cos(theta)  # unit wind vector (east, north)
    x = east[None, :] * ux + north[:, None] * uy  # downwind
    y = -east[None, :] * uy + north[:, None] * ux  # crosswind (left of the wind)
    sigma_pg, _ = pasquill_gifford_sigmas(x, stability)
    sigma = np.sqrt(sigma_pg**2 + initial_sigma_m**2)
    q = flux_kg_h / 3600.0
    column = np.where(
        x > 0,
        q / (wind_speed * math.sqrt(2.0 * math.pi) * sigma) * np.exp(-0.5 * (y / sigma) ** 2),
        0.0,
    )
    field = column.reshape(height, n, width, n).mean(axis=(1, 3))
    if units == "ppm_m":
        field = field / kg_m2_per_ppm_m(pressure_pa, temperature_k)
    return GeoTensor(field[None], transform, crs, fill_value=float("nan"))
