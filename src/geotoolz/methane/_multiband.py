"""Sentinel-2 multi-band methane retrievals (Varon et al. 2021): single pass and multi-pass.

Varon, D. J., et al. (2021), High-frequency monitoring of anomalous methane point sources
with multispectral Sentinel-2 satellite observations, AMT 14, 2771-2785,
doi:10.5194/amt-14-2771-2021. Methane absorbs far more in B12 (2190 nm) than in B11
(1610 nm); both bands see nearly the same surface, so the B12/B11 ratio isolates methane.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias, get_args

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_index

from .._carrier import band_axis_size, float_values, namespace, nan_of, rewrap, values_of
from .._errors import GeotoolzValueError
from ._absorption import ch4_unit_absorption

__all__ = [
    "AbstractMultiBand",
    "S2_SWIR_CENTERS_NM",
    "S2_SWIR_FWHM_NM",
    "MultiBandMultiPass",
    "MultiBandSinglePass",
    "delta_r_to_ppm_m",
    "mbsp_delta_r",
]

#: Sentinel-2 MSI B11 and B12 centre wavelengths (nm), ESA MSI specification.
S2_SWIR_CENTERS_NM: tuple[float, float] = (1610.0, 2190.0)
#: Sentinel-2 MSI B11 and B12 bandwidths (nm), used as Gaussian FWHMs.
S2_SWIR_FWHM_NM: tuple[float, float] = (90.0, 180.0)

MultiBandOutput: TypeAlias = Literal["ppm_m", "delta_r"]
_OUTPUTS: tuple[str, ...] = get_args(MultiBandOutput)


@functools.cache
def _unit_absorption(centers: tuple[float, float], fwhm: tuple[float, float], amf: float):
    k11, k12 = ch4_unit_absorption(centers, fwhm, amf)
    return float(k11), float(k12)


def mbsp_delta_r(x: Any, b11: int, b12: int, op: str = "mbsp_delta_r") -> Any:
    r"""Multi-band single-pass fractional signal :math:`\Delta R = (c R_{12} - R_{11}) / R_{11}`.

    ``c`` scales B12 to B11 over each image (last two axes): the least-squares
    :math:`c = \sum R_{11} R_{12} / \sum R_{12}^2` over the pixels valid in both bands
    (nodata left out). Returns ``(..., y, x)``: the band axis is consumed.
    """
    values = values_of(x)
    band_axis_size(op, values, "b11", b11)
    band_axis_size(op, values, "b12", b12)
    r11 = float_values(x, values=values[..., b11, :, :])
    r12 = float_values(x, values=values[..., b12, :, :])
    xp = namespace(r11)
    both = ~(xp.isnan(r11) | xp.isnan(r12))
    zero = xp.zeros_like(r11)
    c = _tree_sum(xp.where(both, r11 * r12, zero)) / _tree_sum(xp.where(both, r12 * r12, zero))
    positive = r11 > 0
    safe = xp.where(positive, r11, xp.ones_like(r11))
    # (c R12) / R11 - 1: no multiply feeds an add directly, so XLA cannot fuse one into an
    # FMA that NumPy does not do (a last-bit difference near ΔR = 0 is ~0.02 ppm·m).
    return xp.where(positive, (c * r12) / safe - 1.0, nan_of(r11.dtype))


def _tree_sum(v: Any) -> Any:
    """Sum over the last two axes by pairwise halving, keepdims: the same adds in NumPy and XLA.

    A library ``sum`` orders its additions its own way (NumPy pairwise in blocks of 8, XLA
    vectorised), and ``c`` feeds a difference of nearly equal numbers that the retrieval
    then scales by ~3e5 ppm·m, so a last-bit difference in ``c`` would show as ~0.1 ppm·m
    between the eager and the jitted path. Elementwise halving is one fixed sequence of
    IEEE additions on both.
    """
    xp = namespace(v)
    flat = xp.reshape(v, (*v.shape[:-2], v.shape[-2] * v.shape[-1]))
    n = flat.shape[-1]
    size = 1 << max(n - 1, 0).bit_length()
    if size != n:
        pad = xp.zeros((*flat.shape[:-1], size - n), dtype=flat.dtype)
        flat = xp.concat([flat, pad], axis=-1)
    while flat.shape[-1] > 1:
        half = flat.shape[-1] // 2
        flat = flat[..., :half] + flat[..., half:]
    return xp.reshape(flat, (*v.shape[:-2], 1, 1))


def delta_r_to_ppm_m(delta_r: Any, k11: float, k12: float) -> Any:
    r"""Invert :math:`\Delta R = T_{12}/T_{11} - 1` for the column enhancement (ppm·m).

    Beer–Lambert per band with the band-averaged unit absorptions ``k`` (per ppm·m, < 0,
    :func:`ch4_unit_absorption`): :math:`T_b = \exp(k_b \Delta X)`, so

    .. math:: \Delta X = \frac{\ln(1 + \Delta R)}{k_{12} - k_{11}},

    the exact inverse of that model (monotone, no iteration needed; it jits). NaN where
    ``1 + ΔR <= 0`` (no transmittance ratio gives it).
    """
    xp = namespace(delta_r)
    ratio = 1.0 + delta_r
    ok = ratio > 0
    safe = xp.where(ok, ratio, xp.ones_like(ratio))
    return xp.where(ok, xp.log(safe) / (k12 - k11), nan_of(delta_r.dtype))


class AbstractMultiBand(pk.Operator):
    """Configuration shared by the multi-band retrievals: band indices, band shapes, AMF."""

    b11: int = eqx.field(static=True)
    b12: int = eqx.field(static=True)
    centers_nm: tuple[float, float] = eqx.field(static=True)
    fwhm_nm: tuple[float, float] = eqx.field(static=True)
    amf: float = eqx.field(static=True)
    output: MultiBandOutput = eqx.field(static=True)

    def _configure(
        self,
        b11: int,
        b12: int,
        centers_nm: Sequence[float],
        fwhm_nm: Sequence[float],
        amf: float,
        output: str,
    ) -> None:
        name = type(self).__name__
        self.b11 = check_index(name, "b11", b11)
        self.b12 = check_index(name, "b12", b12)
        pairs = {"centers_nm": centers_nm, "fwhm_nm": fwhm_nm}
        for arg, value in pairs.items():
            if not (
                isinstance(value, Sequence)
                and len(value) == 2
                and all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in value)
            ):
                raise pk.ConfigError(
                    f"{name}: {arg} must be two positive numbers (B11, B12) in nm, got {value!r}"
                )
        if not (isinstance(amf, int | float) and math.isfinite(amf) and amf > 0):
            raise pk.ConfigError(
                f"{name}: amf must be a positive number (1/cos θ_sun + 1/cos θ_view), got {amf!r}"
            )
        if output not in _OUTPUTS:
            raise pk.ConfigError(f"{name}: output must be one of {_OUTPUTS}, got {output!r}")
        self.centers_nm = (float(centers_nm[0]), float(centers_nm[1]))
        self.fwhm_nm = (float(fwhm_nm[0]), float(fwhm_nm[1]))
        self.amf = float(amf)
        self.output = output

    @property
    def unit_absorption(self) -> tuple[float, float]:
        """``(k11, k12)``: band-averaged CH4 unit absorption per ppm·m (Gaussian SRFs)."""
        return _unit_absorption(self.centers_nm, self.fwhm_nm, self.amf)

    def _finish(self, x: Any, delta_r: Any) -> Any:
        if self.output == "ppm_m":
            k11, k12 = self.unit_absorption
            delta_r = delta_r_to_ppm_m(delta_r, k11, k12)
        return rewrap(x, delta_r, fill_value=float("nan"))


class MultiBandSinglePass(AbstractMultiBand):
    r"""Sentinel-2 multi-band single-pass (MBSP) methane retrieval, Varon et al. (2021).

    .. math:: \Delta R_{MBSP} = \frac{c R_{12} - R_{11}}{R_{11}}, \quad
              c = \arg\min_c \sum (c R_{12} - R_{11})^2

    over the scene's valid pixels (:func:`mbsp_delta_r`). With ``output="ppm_m"`` (default)
    ΔR is read as :math:`T_{12}/T_{11} - 1` and inverted for the column enhancement
    (:func:`delta_r_to_ppm_m`) with the unit absorptions of Gaussian bands at
    ``centers_nm`` / ``fwhm_nm`` (default S2 B11 1610/90 nm, B12 2190/180 nm) and air-mass
    factor ``amf``; ``output="delta_r"`` returns ΔR itself. Input ``(..., band, y, x)``
    reflectance; output ``(..., y, x)``, NaN at nodata (fill NaN).

    Note:
        A single pass assumes ``c R12 / R11`` is flat over the scene: any surface whose
        B12/B11 ratio differs from the scene's (vegetation next to soil) reads as methane.
        :class:`MultiBandMultiPass` removes that with a plume-free pass.
    """

    def __init__(
        self,
        b11: int,
        b12: int,
        centers_nm: Sequence[float] = S2_SWIR_CENTERS_NM,
        fwhm_nm: Sequence[float] = S2_SWIR_FWHM_NM,
        amf: float = 2.0,
        output: MultiBandOutput = "ppm_m",
    ) -> None:
        self._configure(b11, b12, centers_nm, fwhm_nm, amf, output)

    def _apply(self, x: Any) -> Any:
        return self._finish(x, mbsp_delta_r(x, self.b11, self.b12, "MultiBandSinglePass"))


class MultiBandMultiPass(AbstractMultiBand):
    r"""Sentinel-2 multi-band multi-pass (MBMP) methane retrieval, Varon et al. (2021).

    .. math:: \Delta R_{MBMP} = \Delta R_{MBSP}(\mathrm{target})
              - \Delta R_{MBSP}(\mathrm{reference})

    called as ``op(target, reference)``: two scenes of the same grid, the reference a
    plume-free pass over the same ground (another date). Each pass gets its own least-squares
    ``c``; the surface's B12/B11 structure is the same in both and cancels, the methane
    absorption of the target stays. Then, as for :class:`MultiBandSinglePass`, ΔR is
    inverted for ppm·m (``output="ppm_m"``, default) or returned (``"delta_r"``). A pixel
    that is nodata in either pass is NaN.

    Example:
        >>> import numpy as np
        >>> from geotoolz.methane import MultiBandMultiPass
        >>> ref = np.ones((2, 2, 2)) * np.array([0.3, 0.27])[:, None, None]
        >>> tgt = ref.copy(); tgt[1, 0, 0] *= 0.96  # 4 % less B12 in one pixel
        >>> dr = MultiBandMultiPass(b11=0, b12=1, output="delta_r")(tgt, ref)
        >>> bool(dr[0, 0] < -0.03 and abs(dr[1, 1]) < 0.02)
        True
    """

    def __init__(
        self,
        b11: int,
        b12: int,
        centers_nm: Sequence[float] = S2_SWIR_CENTERS_NM,
        fwhm_nm: Sequence[float] = S2_SWIR_FWHM_NM,
        amf: float = 2.0,
        output: MultiBandOutput = "ppm_m",
    ) -> None:
        self._configure(b11, b12, centers_nm, fwhm_nm, amf, output)

    def _apply(self, target: Any, reference: Any) -> Any:
        shapes = tuple(values_of(target).shape), tuple(values_of(reference).shape)
        if shapes[0] != shapes[1]:
            raise GeotoolzValueError(
                f"MultiBandMultiPass(target, reference) compares the passes pixel by pixel, so "
                f"the shapes must match; got target {shapes[0]} and reference {shapes[1]}. "
                "Align the reference onto the target's grid first (geotoolz.fusion)."
            )
        name = "MultiBandMultiPass"
        delta = mbsp_delta_r(target, self.b11, self.b12, name) - mbsp_delta_r(
            reference, self.b11, self.b12, name
        )
        return self._finish(target, delta)
