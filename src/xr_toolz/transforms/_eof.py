r"""Empirical orthogonal functions (EOF / PCA) of a DataArray over a sample dim.

The anomaly matrix :math:`A` (samples ``dim`` by every other grid point, mean over
``dim`` removed, optionally weighted per latitude) is factored by a thin SVD
:math:`A = U \Sigma V^T`: the components (EOFs) are the rows of :math:`V^T` (unit L2
norm, in the weighted space), the scores (PCs) are :math:`U \Sigma` (un-normalized: the
projection of the weighted anomalies on each component), and the explained variance
ratio is :math:`\sigma_k^2 / \sum_j \sigma_j^2`. These are ``xeofs.single.EOF``'s
(3.0.6, ``solver="full"``) ``components()``, ``scores()`` and
``explained_variance_ratio()``; ``weights="sqrt_cos_lat"`` is its ``use_coslat=True`` and
``weights="cos_lat"`` its ``fit(..., weights=cos(lat))``.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit.validate import check_int
from pipekit_array import namespace, nan_of, values_of

from ._operators import SpectrumInputError

__all__ = ["EOF", "eof"]

EOF_WEIGHTS = (None, "cos_lat", "sqrt_cos_lat")


def eof(x: Any, axis: int, n_modes: int, weights: Any = None) -> tuple[Any, Any, Any]:
    """``(components, scores, ratio)`` of ``x`` with samples along ``axis``.

    ``components`` has shape ``(n_modes, *other dims of x)``, ``scores``
    ``(n_modes, x.shape[axis])``, ``ratio`` ``(n_modes,)``. ``weights`` (NumPy,
    broadcastable to the other dims) multiplies the anomalies. A grid point with a NaN
    at any sample is left out (its column set to 0, which changes no singular value or
    other loading) and its loadings are NaN. Sign: each component's largest-magnitude
    loading is positive (the SVD's sign is arbitrary; this makes it reproducible).
    """
    xp = namespace(x)
    axis = axis % x.ndim
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float32)
    others = tuple(i for i in range(x.ndim) if i != axis)
    space = tuple(x.shape[i] for i in others)
    n_t, n_f = x.shape[axis], math.prod(space)
    a = xp.reshape(xp.permute_dims(x, (axis, *others)), (n_t, n_f))
    bad = xp.any(xp.isnan(a), axis=0)
    a = xp.where(bad[None, :], xp.zeros_like(a), a)
    a = a - xp.mean(a, axis=0, keepdims=True)
    if weights is not None:
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), space).reshape(n_f)
        a = a * xp.asarray(w, dtype=a.dtype)[None, :]
    u, s, vt = xp.linalg.svd(a, full_matrices=False)
    u, s, vt = u[:, :n_modes], s[:n_modes], vt[:n_modes, :]
    peak = xp.argmax(xp.abs(vt), axis=1)
    sign = xp.take_along_axis(vt, peak[:, None], axis=1)
    sign = xp.where(sign < 0, -xp.ones_like(sign), xp.ones_like(sign))
    vt = vt * sign
    scores = xp.permute_dims(u * s[None, :], (1, 0)) * sign
    total = xp.sum(a * a)
    ratio = (s * s) / xp.where(total > 0, total, xp.ones_like(total))
    comps = xp.where(bad[None, :], nan_of(vt.dtype), vt)
    return xp.reshape(comps, (n_modes, *space)), scores, ratio


class EOF(pk.Operator):
    """EOFs / principal components of a DataArray over the sample dim ``dim``.

    Arguments:
        dim: the sample dim (time); every other dim is a grid dim of the loadings.
        n_modes: the number of leading modes kept (at most ``min(samples, grid points)``).
        weights: None, ``"cos_lat"`` (anomalies times ``cos(lat)``, xeofs'
            ``fit(weights=...)``) or ``"sqrt_cos_lat"`` (times ``sqrt(cos(lat))``, xeofs'
            ``use_coslat``: each grid cell's variance weighted by its area).
        lat: the latitude coordinate (degrees) the weights read.

    Output: a Dataset with ``components`` (mode, *grid dims; unit norm, NaN at grid
    points with a NaN at any time), ``scores`` (mode, dim; un-normalized) and
    ``explained_variance_ratio`` (mode); ``mode`` is 1, 2, ... Sign: each component's
    largest-|loading| entry is positive, its scores flipped with it. Numbers equal
    ``xeofs.single.EOF(n_modes, solver="full")`` up to that sign.
    """

    dim: str = eqx.field(static=True)
    n_modes: int = eqx.field(static=True)
    weights: str | None = eqx.field(static=True)
    lat: str = eqx.field(static=True)

    def __init__(
        self,
        dim: str = "time",
        n_modes: int = 2,
        weights: str | None = None,
        *,
        lat: str = "lat",
    ) -> None:
        for arg, v in (("dim", dim), ("lat", lat)):
            if not isinstance(v, str) or not v:
                raise pk.ConfigError(f"EOF: {arg} must be a dimension name (str), got {v!r}")
        self.dim = dim
        self.lat = lat
        self.n_modes = check_int("EOF", "n_modes", n_modes, minimum=1)
        if weights not in EOF_WEIGHTS:
            raise pk.ConfigError(
                f"EOF: weights must be one of {list(EOF_WEIGHTS)}, got {weights!r}"
            )
        self.weights = weights

    def _apply(self, x: Any) -> xr.Dataset:
        if not isinstance(x, xr.DataArray) or self.dim not in x.dims or x.ndim < 2:
            got = x.dims if isinstance(x, xr.DataArray) else type(x).__name__
            raise SpectrumInputError(
                f"EOF takes an xarray.DataArray with the sample dim {self.dim!r} and at least "
                f"one grid dim, got {got}; select a variable (ds['sst']) or pass dim=..."
            )
        space = tuple(d for d in x.dims if d != self.dim)
        limit = min(x.sizes[self.dim], math.prod(x.sizes[d] for d in space))
        if self.n_modes > limit:
            raise SpectrumInputError(
                f"EOF: n_modes={self.n_modes} exceeds min(samples, grid points) = {limit} "
                f"for sizes {dict(x.sizes)}; pass n_modes <= {limit}"
            )
        comps, scores, ratio = eof(
            values_of(x), x.dims.index(self.dim), self.n_modes, self._weights(x, space)
        )
        mode = np.arange(1, self.n_modes + 1)
        grid = {k: c for k, c in x.coords.items() if self.dim not in c.dims}
        along = {k: c for k, c in x.coords.items() if c.dims == (self.dim,)}
        name = x.name or "the input"
        return xr.Dataset(
            {
                "components": xr.DataArray(
                    comps,
                    dims=("mode", *space),
                    coords=grid,
                    attrs={"units": "1", "long_name": f"EOF loadings of {name} (unit norm)"},
                ),
                "scores": xr.DataArray(
                    scores,
                    dims=("mode", self.dim),
                    coords=along,
                    attrs={"long_name": f"principal component scores of {name}"},
                ),
                "explained_variance_ratio": xr.DataArray(ratio, dims="mode", attrs={"units": "1"}),
            },
            coords={"mode": mode},
        )

    def _weights(self, x: xr.DataArray, space: tuple[str, ...]) -> np.ndarray | None:
        if self.weights is None:
            return None
        if self.lat not in x.coords or not set(x[self.lat].dims) <= set(space):
            raise SpectrumInputError(
                f"EOF: weights={self.weights!r} need a latitude coordinate {self.lat!r} on "
                f"the grid dims {space}, got coords {list(x.coords)}; pass lat=<name>"
            )
        lat = x[self.lat].transpose(*(d for d in space if d in x[self.lat].dims))
        shape = tuple(x.sizes[d] if d in lat.dims else 1 for d in space)
        lat_deg = np.reshape(np.asarray(lat.values, dtype=np.float64), shape)
        w = np.cos(np.deg2rad(lat_deg))
        w = np.clip(w, 0.0, None)
        return np.sqrt(w) if self.weights == "sqrt_cos_lat" else w
