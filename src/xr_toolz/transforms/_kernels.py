r"""Pure array kernels of xr_toolz.transforms: Fourier power spectra on integer axes.

Each kernel takes arrays and static integer axes / sizes / spacings, takes its namespace
from the input (``pipekit_array.namespace``), and so runs on NumPy and under ``jax.jit``
on JAX arrays with the same numbers. The conventions are xrft 1.0's
(``xrft.power_spectrum``): the transform ``F = dx * fftn(x)`` (``true_amplitude``), the
density ``|F|^2 * df`` with ``df = 1 / (N dx)`` per axis, the spectrum ``|F|^2 * df^2``,
outputs ``fftshift``-ed so frequencies increase, and no window correction. With that
density Parseval reads

.. math:: \sum_k P(k)\, \prod_i \Delta f_i = \langle x^2 \rangle,

the mean square of the (detrended, windowed) input: its variance after ``"constant"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pipekit_array import namespace, nan_of

__all__ = [
    "coherence",
    "detrend",
    "hann_window",
    "isotropize",
    "power_spectrum",
    "radial_bins",
]


def _float(xp: Any, x: Any) -> Any:
    if xp.isdtype(x.dtype, "real floating"):
        return x
    return xp.astype(x, xp.float32)


def _index(xp: Any, n: int, axis: int, ndim: int, dtype: Any) -> Any:
    """``arange(n)`` shaped to broadcast along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = n
    return xp.reshape(xp.arange(n, dtype=dtype), tuple(shape))


def detrend(x: Any, axes: Sequence[int], kind: str | None) -> Any:
    """``x`` less its mean (``"constant"``) or its least-squares plane (``"linear"``).

    The plane is fitted jointly over ``axes`` (a line for one axis), as
    ``scipy.signal.detrend`` / xrft's ``_detrend_2d_ufunc``: on a regular index grid the
    centred index columns are orthogonal, so each slope is ``sum(x c_i) / sum(c_i^2)``.
    """
    xp = namespace(x)
    x = _float(xp, x)
    if kind is None:
        return x
    axes = tuple(a % x.ndim for a in axes)
    out = x - xp.mean(x, axis=axes, keepdims=True)
    if kind == "linear":
        for a in axes:
            n = x.shape[a]
            c = _index(xp, n, a, x.ndim, x.dtype) - (n - 1) / 2.0
            others = math.prod(x.shape[b] for b in axes if b != a)
            slope = xp.sum(out * c, axis=axes, keepdims=True) / (xp.sum(c * c) * others)
            out = out - slope * c
    return out


def hann_window(n: int) -> Any:
    """Periodic Hann weights ``0.5 - 0.5 cos(2 pi k / n)`` (scipy ``hann(n, sym=False)``)."""
    import numpy as np

    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def power_spectrum(
    x: Any,
    axes: Sequence[int],
    spacing: Sequence[float],
    *,
    detrend_kind: str | None = None,
    window: str | None = None,
    scaling: str = "density",
) -> Any:
    """Power spectral density (or spectrum) of ``x`` over ``axes``, fftshift-ed.

    ``spacing`` holds the sample spacing of each axis (coordinate units); the result has
    the shape of ``x``, frequencies ``fftshift(fftfreq(n, d))`` along each of ``axes``.
    """
    xp = namespace(x)
    axes = tuple(a % x.ndim for a in axes)
    f = _transform(x, axes, detrend_kind, window, real=True)
    power = _mirror(xp.real(f) ** 2 + xp.imag(f) ** 2, axes, x.shape[axes[-1]])
    scale = 1.0
    for a, d in zip(axes, spacing, strict=True):
        n = x.shape[a]
        # |dx F|^2 * df = |F|^2 dx / n ; |dx F|^2 * df^2 = |F|^2 / n^2
        scale *= (abs(d) / n) if scaling == "density" else 1.0 / n**2
    return xp.fft.fftshift(power * scale, axes=axes)


def coherence(
    x: Any,
    y: Any,
    axes: Sequence[int],
    ensemble_axis: int,
    *,
    detrend_kind: str | None = None,
    window: str | None = None,
) -> Any:
    r"""Magnitude-squared coherence of ``x`` and ``y`` over ``axes``, fftshift-ed.

    .. math:: C = \frac{|\langle X Y^* \rangle|^2}{\langle |X|^2 \rangle
              \langle |Y|^2 \rangle}

    with :math:`\langle\cdot\rangle` the mean over ``ensemble_axis`` (realisations:
    times, members, segments), which is removed. Without that averaging the coherence
    of one realisation is 1 everywhere. Scalings and phase factors cancel in the ratio.

    NaN where either auto-spectrum is at most ``sqrt(eps)`` (of the float dtype) times
    its largest value over ``axes``: there the ratio is round-off over round-off (the
    zero frequency after a detrend, a constant input), a different number on every
    backend. ``sqrt(eps)`` (1.5e-8 in float64, 3.5e-4 in float32) is the dynamic range
    within which a bin's coherence is still resolved in that precision.
    """
    xp = namespace(x)
    axes = tuple(a % x.ndim for a in axes)
    e = ensemble_axis % x.ndim
    fx = _transform(x, axes, detrend_kind, window)
    fy = _transform(y, axes, detrend_kind, window)
    sxy = xp.mean(fx * xp.conj(fy), axis=e, keepdims=True)
    sxx = xp.mean(xp.real(fx) ** 2 + xp.imag(fx) ** 2, axis=e, keepdims=True)
    syy = xp.mean(xp.real(fy) ** 2 + xp.imag(fy) ** 2, axis=e, keepdims=True)
    rel = math.sqrt(float(xp.finfo(sxx.dtype).eps))
    low = (sxx <= rel * xp.max(sxx, axis=axes, keepdims=True)) | (
        syy <= rel * xp.max(syy, axis=axes, keepdims=True)
    )
    denom = xp.where(low, xp.ones_like(sxx), sxx * syy)
    coh = xp.where(low, nan_of(sxx.dtype), (xp.real(sxy) ** 2 + xp.imag(sxy) ** 2) / denom)
    coh = xp.fft.fftshift(coh, axes=axes)
    return xp.squeeze(coh, axis=e)


def _mirror(half: Any, axes: tuple[int, ...], n: int) -> Any:
    """The full power over ``axes`` from the ``rfftn`` half (last of ``axes``: ``n//2 + 1``).

    A real input's transform is Hermitian, ``F(-k) = conj F(k)``, so its power is even:
    the negative frequencies ``k_last = n - j`` (``j = m..1``) are ``P(-k_other, j)``,
    the kept columns reversed with every other transformed axis indexed at ``-k mod n``.
    Half the FFT work of ``fftn``, for one gather of the missing half.
    """
    import numpy as np

    xp = namespace(half)
    last, m = axes[-1], n - (n // 2 + 1)
    neg = xp.take(half, xp.asarray(np.arange(m, 0, -1)), axis=last)
    for a in axes[:-1]:
        size = half.shape[a]
        neg = xp.take(neg, xp.asarray((-np.arange(size)) % size), axis=a)
    return xp.concat([half, neg], axis=last)


def _transform(
    x: Any,
    axes: tuple[int, ...],
    detrend_kind: str | None,
    window: str | None,
    *,
    real: bool = False,
) -> Any:
    """``fftn`` over ``axes`` of ``x`` detrended and windowed (unscaled, unshifted).

    ``real``: ``rfftn`` (the last of ``axes`` keeps ``n//2 + 1`` frequencies; the input is
    real after detrending), for :func:`_mirror` to complete.
    """
    xp = namespace(x)
    y = detrend(x, axes, detrend_kind)
    if window == "hann":
        for a in axes:
            w = xp.asarray(hann_window(x.shape[a]), dtype=y.dtype)
            shape = [1] * y.ndim
            shape[a] = x.shape[a]
            y = y * xp.reshape(w, tuple(shape))
    return xp.fft.rfftn(y, axes=axes) if real else xp.fft.fftn(y, axes=axes)


def radial_bins(freq_a: Any, freq_b: Any, nbins: int) -> tuple[Any, Any]:
    """``(radius, edges)``: ``sqrt(a^2 + b^2)`` on the grid and ``nbins`` equal bins.

    The edges are ``pandas.cut``'s for an integer bin count (what xrft's ``isotropize``
    uses): ``linspace(min, max, nbins + 1)`` with the first edge lowered by 0.1 % of the
    range, bins closed on the right. NumPy only: the frequencies are coordinates.
    """
    import numpy as np

    r = np.sqrt(np.asarray(freq_a)[:, None] ** 2 + np.asarray(freq_b)[None, :] ** 2)
    lo, hi = float(r.min()), float(r.max())
    edges = np.linspace(lo, hi, nbins + 1)
    edges[0] -= (hi - lo) * 0.001
    return r, edges


def isotropize(ps: Any, radius: Any, edges: Any, axes: tuple[int, int]) -> tuple[Any, Any]:
    """``(iso, k_r)``: azimuthal mean of ``ps`` over ``axes`` in radial bins, times ``k_r``.

    ``radius`` (NumPy) has the shape of the two ``axes`` (in their order); ``k_r`` is the
    mean radius of each bin. An empty bin gives 0 for both (numpy_groupies' fill value,
    as xrft). The bins depend on the frequencies only, which are coordinates: the
    one-hot bin matrix and ``k_r`` are host NumPy (float64, a static coordinate under
    jit) and only the contraction of ``ps`` with them is traced.
    """
    import numpy as np

    xp = namespace(ps)
    a0, a1 = (a % ps.ndim for a in axes)
    keep = tuple(i for i in range(ps.ndim) if i not in (a0, a1))
    r = np.reshape(np.asarray(radius, dtype=np.float64), (-1,))
    edges = np.asarray(edges, dtype=np.float64)
    nbins = len(edges) - 1
    idx = np.sum(r[:, None] > edges[None, 1:-1], axis=1)
    onehot = (idx[:, None] == np.arange(nbins)[None, :]).astype(np.float64)
    count = onehot.sum(axis=0)
    safe = np.where(count > 0, count, 1.0)
    kr = np.where(count > 0, (onehot * r[:, None]).sum(axis=0) / safe, 0.0)
    flat = xp.reshape(xp.permute_dims(ps, (*keep, a0, a1)), (*(ps.shape[i] for i in keep), r.size))
    weights = xp.asarray(onehot * (kr / safe)[None, :], dtype=ps.dtype)
    return xp.matmul(flat, weights), kr


def nbins_of(n_a: int, n_b: int, nfactor: int) -> int:
    """xrft's bin count ``int(min(N) / nfactor)``."""
    return math.floor(min(n_a, n_b) / nfactor)
