"""Vertical ocean diagnostics on density profiles: Brunt–Väisälä N² and mixed-layer depth.

Both take **potential density** (kg m-3; ``σθ = ρθ − 1000`` works for the mixed layer and
for N² with the default Boussinesq ``rho0``) along a named vertical dimension ``dim``
whose coordinate is depth in metres, positive down (a coordinate with CF attribute
``positive="up"``, i.e. height ``z ≤ 0``, is turned into depth ``−z``). No equation of
state is computed here: the TEOS-10 density (``gsw.sigma0(SA, CT)``, ``gsw.rho``) is the
caller's step, which keeps the kernels small, exact and traceable under ``jax.jit``.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit_array import float_values, values_of

from . import _kernels as K
from ._common import check_name, check_positive, field_of
from ._errors import OcnValueError
from ._horizontal import GRAVITY

__all__ = ["BruntVaisala", "MixedLayerDepth"]

_METRES = {"m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0, "km": 1000.0}


def _depth(owner: str, da: xr.DataArray, dim: str, minimum: int) -> np.ndarray:
    """The depth (m, positive down, strictly increasing) of ``da``'s ``dim`` coordinate."""
    if dim not in da.dims or dim not in da.coords:
        raise OcnValueError(
            f"{owner}: dim must be a vertical dimension of {da.name!r} with a depth "
            f"coordinate, got {dim!r} (dims {list(da.dims)}); pass {owner}(dim='<name>')"
        )
    c = da.coords[dim]
    units = str(c.attrs.get("units", "m"))
    if units not in _METRES:
        raise OcnValueError(
            f"{owner}: the vertical coordinate {dim!r} must be depth in metres, got units "
            f"{units!r}; convert pressure to depth first (e.g. -gsw.z_from_p(p, lat))"
        )
    z = np.asarray(c.values, dtype=np.float64) * _METRES[units]
    if str(c.attrs.get("positive", "down")).lower() == "up":
        z = -z
    if z.size < minimum or not np.all(np.diff(z) > 0):
        raise OcnValueError(
            f"{owner}: depth {dim!r} must be at least {minimum} levels increasing downward "
            f"(positive='down'), got {z[:5]}...; sort it: x.sortby('{dim}')"
        )
    return z


class BruntVaisala(pk.Operator):
    r"""Squared buoyancy frequency ``N² = (g/ρ₀) ∂ρθ/∂z`` (s-2; depth ``z`` positive down).

    Differences between adjacent levels: the result lies on the ``n − 1`` mid-points
    ``(z_k + z_{k+1})/2`` of dim ``dim`` (its coordinate is replaced by those depths), as
    ``gsw.Nsquared`` returns ``p_mid``. ``rho0=None`` divides by the two levels' mean
    density instead of a constant (then ``density`` must be the full ρθ, not σθ), which
    is what ``gsw.Nsquared`` evaluates with density referenced to the mid-point pressure.

    Args:
        density: the potential density variable when the input is a Dataset.
        dim: the vertical dimension (depth coordinate in m, positive down).
        g: gravity in m s-2 (``gsw.Nsquared`` uses 9.7963 when no latitude is given).
        rho0: Boussinesq reference density in kg m-3, or None for the local mean.

    Example:
        >>> import xarray as xr
        >>> rho = xr.DataArray([1025.0, 1025.5], dims="depth", coords={"depth": [0.0, 50.0]})
        >>> n2 = BruntVaisala(g=10.0, rho0=1000.0)(rho)
        >>> float(n2[0]), float(n2.depth[0])
        (0.0001, 25.0)
    """

    density: str = eqx.field(static=True)
    dim: str = eqx.field(static=True)
    g: float = eqx.field(static=True)
    rho0: float | None = eqx.field(static=True)

    def __init__(
        self,
        density: str = "rho",
        dim: str = "depth",
        g: float = GRAVITY,
        rho0: float | None = 1025.0,
    ) -> None:
        self.density = check_name("BruntVaisala", "density", density)
        self.dim = check_name("BruntVaisala", "dim", dim)
        self.g = check_positive("BruntVaisala", "g", g)
        self.rho0 = None if rho0 is None else check_positive("BruntVaisala", "rho0", rho0)

    def _apply(self, x: Any) -> xr.DataArray:
        rho = field_of("BruntVaisala", x, self.density, "density")
        z = _depth("BruntVaisala", rho, self.dim, 2)
        axis = rho.dims.index(self.dim)
        values = float_values(rho, values=values_of(rho))
        n2 = K.brunt_vaisala(values, z, axis, self.g, self.rho0)
        coords = {k: c for k, c in rho.coords.items() if self.dim not in c.dims}
        attrs = dict(rho.coords[self.dim].attrs)
        mid = 0.5 * (z[1:] + z[:-1])
        if str(attrs.get("positive", "down")).lower() == "up":
            attrs["positive"] = "down"
        coords[self.dim] = xr.Variable(self.dim, mid, {**attrs, "units": "m"})
        return xr.DataArray(
            n2,
            dims=rho.dims,
            coords=coords,
            name="N2",
            attrs={
                "units": "s-2",
                "standard_name": "square_of_brunt_vaisala_frequency_in_sea_water",
                "long_name": "squared buoyancy frequency at layer mid-points",
            },
        )


class MixedLayerDepth(pk.Operator):
    """Mixed-layer depth by a density threshold (de Boyer Montégut et al. 2004), in m.

    The depth where potential density first reaches ``ρθ(ref_depth) + threshold`` below
    ``ref_depth`` (defaults 0.03 kg m-3 relative to 10 m). ``ρθ(ref_depth)`` is
    interpolated linearly between the levels around it (the shallowest level if it lies
    deeper than ``ref_depth``), and the crossing depth linearly between the last level
    (or the reference point) under the threshold and the first at or over it. NaN where
    the profile never reaches the threshold, or where the reference density is NaN. The
    vertical dim is removed.

    Args:
        density: the potential density variable when the input is a Dataset (kg m-3; σθ
            works, only differences enter).
        dim: the vertical dimension (depth coordinate in m, positive down).
        threshold: the density step in kg m-3.
        ref_depth: the reference depth in m.

    Example:
        >>> import xarray as xr
        >>> rho = xr.DataArray([25.0, 25.0, 25.0, 25.1], dims="depth",
        ...                    coords={"depth": [0.0, 10.0, 20.0, 30.0]})
        >>> round(float(MixedLayerDepth()(rho)), 6)
        23.0
    """

    density: str = eqx.field(static=True)
    dim: str = eqx.field(static=True)
    threshold: float = eqx.field(static=True)
    ref_depth: float = eqx.field(static=True)

    def __init__(
        self,
        density: str = "rho",
        dim: str = "depth",
        threshold: float = 0.03,
        ref_depth: float = 10.0,
    ) -> None:
        self.density = check_name("MixedLayerDepth", "density", density)
        self.dim = check_name("MixedLayerDepth", "dim", dim)
        self.threshold = check_positive("MixedLayerDepth", "threshold", threshold)
        self.ref_depth = check_positive("MixedLayerDepth", "ref_depth", ref_depth, zero=True)

    def _apply(self, x: Any) -> xr.DataArray:
        rho = field_of("MixedLayerDepth", x, self.density, "density")
        z = _depth("MixedLayerDepth", rho, self.dim, 2)
        if self.ref_depth >= z[-1]:
            raise OcnValueError(
                f"MixedLayerDepth: ref_depth must lie above the deepest level ({z[-1]} m) "
                f"of {self.dim!r}, got {self.ref_depth}"
            )
        values = float_values(rho, values=values_of(rho))
        mld = K.mixed_layer_depth(
            values, z, rho.dims.index(self.dim), self.threshold, self.ref_depth
        )
        coords = {k: c for k, c in rho.coords.items() if self.dim not in c.dims}
        return xr.DataArray(
            mld,
            dims=tuple(d for d in rho.dims if d != self.dim),
            coords=coords,
            name="mld",
            attrs={
                "units": "m",
                "standard_name": "ocean_mixed_layer_thickness_defined_by_sigma_theta",
                "long_name": f"mixed layer depth (density threshold {self.threshold} kg m-3 "
                f"relative to {self.ref_depth} m)",
            },
        )
