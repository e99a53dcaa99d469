"""Align GeoTensors from different sensors onto one grid and stack their bands."""

from __future__ import annotations

import functools
import numbers
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

import pipekit as pk
from geocatalog import GeoTensor

from .._carrier import band_names_of, float_dtype, float_values, namespace, nan_of
from .._errors import (
    GeotoolzTypeError,
    GeotoolzValueError,
    InputsDoNotOverlapError,
    StackedInputError,
)
from .._types import ALIGN_RESAMPLINGS, AlignResampling
from ._average import average_axis
from ._grid import Positions, axis_map, positions
from ._warp import sample_warped

__all__ = ["AlignAndStack", "resample_to"]


def _check_grid(op: str, name: str, gt: Any) -> None:
    if not isinstance(gt, GeoTensor):
        raise GeotoolzTypeError(
            f"{op}: input {name!r} must be a geocatalog.GeoTensor (its grid is needed to align "
            f"it); received {type(gt).__name__}. Wrap arrays with GeoTensor(values, transform, "
            "crs) first."
        )
    lat = gt.lattice
    if lat.b != 0 or lat.d != 0:
        raise GeotoolzValueError(
            f"{op}: input {name!r} is on a rotated or sheared grid ({lat!r}); only axis-aligned "
            "grids (b = d = 0) are supported. Warp it to a north-up grid first (e.g. "
            "geocatalog.load_raster with a dst transform)."
        )
    if gt.offset.ndim != 1:
        raise StackedInputError(
            f"{op}: input {name!r} is a stacked GeoTensor (batch shape {gt.batch_shape}); "
            "align one scene at a time: eqx.filter_vmap over the stacked inputs."
        )


def _check_overlap(names: tuple[str, ...], grids: list[GeoTensor], t: int) -> None:
    """Refuse inputs whose footprint misses the target's (host offsets only).

    Under jit the offsets are traced and the footprints unknown: the output is then all
    NaN for such an input, as its samples all fall outside it.
    """
    if any(isinstance(gt.offset, jax.core.Tracer) for gt in grids):
        return
    from rasterio.warp import transform_bounds

    target = grids[t]
    left, bottom, right, top = target.bounds
    for i, gt in enumerate(grids):
        if i == t:
            continue
        box = gt.bounds
        if gt.crs_string != target.crs_string:
            box = transform_bounds(gt.crs, target.crs, *box, densify_pts=21)
        if box[0] >= right or box[2] <= left or box[1] >= top or box[3] <= bottom:
            raise InputsDoNotOverlapError(
                f"AlignAndStack: input {names[i]!r} does not overlap the target {names[t]!r}: "
                f"its bounds {tuple(round(v, 6) for v in box)} and the target's "
                f"{tuple(round(v, 6) for v in target.bounds)} (left, bottom, right, top, in "
                f"{target.crs_string}) share no ground, so every aligned pixel would be NaN. "
                "Check the inputs are of one place (and their CRS), or crop them to it first."
            )


def _as_float(gt: GeoTensor, dtype: Any) -> Any:
    """``gt.values`` as ``dtype`` with a band axis, its ``fill_value`` pixels set to NaN."""
    values = float_values(gt, dtype)
    return values[None] if values.ndim == 2 else values


def _gather(xp: Any, values: Any, where: Positions, size: int, axis: int, shift: int) -> Any:
    index = where.index if shift == 0 else where.index + shift
    index = xp.clip(index, 0, size - 1)
    if isinstance(values, np.ndarray):
        index = np.asarray(index, dtype=np.intp)
    else:
        index = jnp.asarray(index, dtype=jnp.int32)
    return xp.take(values, index, axis=axis)


def _lerp(xp: Any, values: Any, where: Positions, size: int, axis: int) -> Any:
    """Linear interpolation along ``axis`` (-2 or -1) between ``index`` and ``index + 1``."""
    lo = _gather(xp, values, where, size, axis, 0)
    hi = _gather(xp, values, where, size, axis, 1)
    shape = [1] * values.ndim
    shape[axis] = -1
    weight = xp.reshape(xp.asarray(where.weight, dtype=values.dtype), tuple(shape))
    return lo + weight * (hi - lo)


def resample_to(
    src: GeoTensor, dst: GeoTensor, resampling: AlignResampling = "bilinear"
) -> Float[ArrayLike, "band y x"]:
    """Values of ``src`` sampled at the pixel centres of ``dst``'s grid: ``(band, H_dst, W_dst)``.

    ``src`` is read as float (``fill_value`` pixels as NaN); see :class:`AlignAndStack`
    for the conventions. Both must be single scenes on axis-aligned grids; their CRSs may
    differ.
    """
    dtype = float_dtype(namespace(src.values), src.values)
    return _resample(_as_float(src, dtype), src, dst, resampling)


def _resample(values: Any, src: GeoTensor, dst: GeoTensor, resampling: str) -> Any:
    s, d = src.lattice, dst.lattice
    if s.crs != d.crs:
        if resampling == "average":
            raise GeotoolzValueError(
                f"AlignAndStack: resampling='average' needs the inputs in the target's CRS "
                f"({d.crs!r}), got one in {s.crs!r}; use 'bilinear' or 'nearest' across CRSs, "
                "or reproject first"
            )
        nan = nan_of(values.dtype)
        return sample_warped(namespace(values), values, src, dst, resampling == "nearest", nan)
    n_rows, n_cols = src.height, src.width
    rows_map = axis_map(d.e, d.f, dst.height, s.e, s.f, n_rows)
    cols_map = axis_map(d.a, d.c, dst.width, s.a, s.c, n_cols)
    nearest = resampling == "nearest"
    rows = positions(rows_map, dst.offset[0], src.offset[0], nearest=nearest)
    cols = positions(cols_map, dst.offset[1], src.offset[1], nearest=nearest)
    if not isinstance(rows.index, np.ndarray) or not isinstance(cols.index, np.ndarray):
        values = jnp.asarray(values)  # traced offsets: the result is a JAX array
    xp = namespace(values)
    if resampling == "average":
        valid = ~xp.isnan(values)
        num = xp.where(valid, values, xp.zeros_like(values))
        num, den = average_axis(xp, num, xp.astype(valid, values.dtype), rows, rows_map.m,
                                n_rows, -2)  # fmt: skip
        num, den = average_axis(xp, num, den, cols, cols_map.m, n_cols, -1)
        safe = xp.where(den > 0, den, xp.ones_like(den))
        return xp.where(den > 0, num / safe, nan_of(values.dtype))
    if nearest:
        out = _gather(xp, values, rows, n_rows, -2, 0)
        out = _gather(xp, out, cols, n_cols, -1, 0)
    else:
        out = _lerp(xp, _lerp(xp, values, rows, n_rows, -2), cols, n_cols, -1)
    inside = xp.asarray(rows.inside)[:, None] & xp.asarray(cols.inside)[None, :]
    inside = xp.reshape(inside, (1,) * (out.ndim - 2) + tuple(inside.shape))
    return xp.where(inside, out, nan_of(out.dtype))


class AlignAndStack(pk.Operator):
    r"""Resample every input onto one input's grid and stack all bands: ``(band, y, x)``.

    Called as ``AlignAndStack(target_grid="optical")(optical, sar, dem)``: the inputs are
    GeoTensors, positional in the order of ``names`` (or by keyword, ``optical=...``), on
    grids that may differ in resolution, origin and CRS. The output is a
    GeoTensor on the target's grid whose bands are the target's, then every other input's
    in ``names`` order; a 2-D input counts as one band. Values are float (the widest float
    dtype of the inputs, float32 for integer data) and ``fill_value`` is NaN. Band names
    are the inputs' names in that order when every input has them and none repeats, else
    None.

    Sampling uses the pixel-centre convention of GDAL / ``rasterio.warp.reproject``: the
    centre of destination pixel ``i`` (along one axis) maps to the source centre-index
    coordinate

    .. math:: u = m\,i + \tfrac{m}{2} + \frac{o_d - o_s}{a_s} - \tfrac12 + (m\,k_d - k_s),
              \qquad m = a_d / a_s,

    with pixel sizes ``a``, lattice origins ``o`` and integer offsets ``k`` (the
    GeoTensor's traced leaf). ``"bilinear"`` interpolates linearly between the two
    nearest source centres on each axis (no anti-aliasing: coarser targets point-sample);
    ``"nearest"`` takes ``round(u)`` (halves round up). ``"average"`` (for coarser
    targets, same CRS only) is the area-weighted mean of the source pixels each target
    pixel overlaps, NaNs left out (GDAL's ``average``): the footprint ``[u - m/2, u + m/2]``
    on each axis, weights the overlap areas, NaN only where no valid pixel overlaps.

    Georeferencing is exact under jit: the static part is computed in float64 on the host,
    and the offset term in float64 when the offsets are concrete or, when traced, in exact
    int32 arithmetic (error below 4e-6 pixel), so a compiled pipeline is traced once per
    grid layout and serves scenes at any location. ``jax.grad`` flows to the values.

    Conventions: a destination centre outside the source's footprint
    (``u < -0.5`` or ``u >= n - 0.5``) gives NaN; within the last half pixel the edge
    value is used. Pixels equal to an input's ``fill_value`` become NaN first, and a NaN
    source pixel spreads to the destination pixels that interpolate from it (any of the
    2 x 2 neighbours). Rotated grids and stacked (batched) GeoTensors raise:
    ``eqx.filter_vmap`` over batches.

    An input in another CRS than the target (a DEM in EPSG:4326 next to Sentinel-2 in UTM)
    has no per-axis map: each target pixel centre is projected into the input's CRS with
    pyproj (PROJ, as in GDAL's warper) on the host in float64, and ``u`` is taken on both
    axes from there, with the same bilinear/nearest rules. Under jit with traced offsets
    this is a ``jax.pure_callback`` that depends on the offsets only (still one trace for
    every location; ``jax.grad`` still flows to the values), so it runs on the host on
    every backend. Up to 128 x 128 target pixels every centre is projected; above, the
    positions are interpolated from projections every 16 pixels, and kept only if within
    1e-4 pixel of the projected ones at every cell centre (else all are projected, ~0.2 s
    per million pixels on 2 CPU cores). GDAL's warper interpolates too, with a 0.125 pixel
    tolerance. CRSs with no coordinate operation between them raise
    :class:`CRSMismatchError`.

    Args:
        target_grid: the input whose grid the output takes: a name in ``names`` or a
            positional index.
        names: labels of the positional inputs, in call order (default
            ``("optical", "sar", "dem")``).
        resampling: ``"bilinear"`` (default), ``"nearest"`` or ``"average"``.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> from affine import Affine
        >>> fine = gz.GeoTensor(np.zeros((4, 4)), Affine(10, 0, 0, 0, -10, 40), 32630)
        >>> coarse = np.array([[1.0, 3.0], [5.0, 7.0]])
        >>> coarse = gz.GeoTensor(coarse, Affine(20, 0, 0, 0, -20, 40), 32630)
        >>> align = gz.fusion.AlignAndStack(target_grid="fine", names=("fine", "coarse"))
        >>> out = align(fine, coarse)
        >>> out.shape, out.transform == fine.transform
        ((2, 4, 4), True)
        >>> out.values[1]  # 20 m -> 10 m: edge half pixels take the edge value
        array([[1. , 1.5, 2.5, 3. ],
               [2. , 2.5, 3.5, 4. ],
               [4. , 4.5, 5.5, 6. ],
               [5. , 5.5, 6.5, 7. ]])
    """

    target_grid: str | int = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    resampling: AlignResampling = eqx.field(static=True)

    def __init__(
        self,
        target_grid: str | int = "optical",
        names: tuple[str, ...] | list[str] = ("optical", "sar", "dem"),
        resampling: AlignResampling = "bilinear",
    ) -> None:
        if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
            raise pk.ConfigError(
                f"AlignAndStack: names must be a sequence of non-empty strings labelling the "
                f"positional inputs, e.g. ('optical', 'sar', 'dem'); received {names!r}"
            )
        names = tuple(names)
        if not names or len(set(names)) != len(names):
            raise pk.ConfigError(
                f"AlignAndStack: names must be distinct and non-empty, one per input; received "
                f"{names!r}"
            )
        n = len(names)
        if isinstance(target_grid, str):
            if target_grid not in names:
                raise pk.ConfigError(
                    f"AlignAndStack: target_grid must be one of names {names} or an index in "
                    f"{-n}..{n - 1}; received {target_grid!r}. Pass names=(...) to label the "
                    "inputs."
                )
        elif isinstance(target_grid, bool) or not isinstance(target_grid, numbers.Integral):
            raise pk.ConfigError(
                f"AlignAndStack: target_grid must be a name in {names} or an int index; "
                f"received {target_grid!r} ({type(target_grid).__name__})"
            )
        elif not -n <= target_grid < n:
            raise pk.ConfigError(
                f"AlignAndStack: target_grid={target_grid} is out of range for {n} inputs "
                f"{names} (valid: {-n}..{n - 1})"
            )
        else:
            target_grid = int(target_grid)
        if resampling not in ALIGN_RESAMPLINGS:
            raise pk.ConfigError(
                f"AlignAndStack: resampling must be one of {ALIGN_RESAMPLINGS}; received "
                f"{resampling!r}"
            )
        self.target_grid, self.names, self.resampling = target_grid, names, resampling

    @property
    def target_index(self) -> int:
        """Position of the target input in ``names``."""
        if isinstance(self.target_grid, str):
            return self.names.index(self.target_grid)
        return self.target_grid % len(self.names)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[GeoTensor]:
        names = self.names
        if len(args) > len(names):
            raise GeotoolzTypeError(
                f"AlignAndStack(names={names}) takes {len(names)} GeoTensors, one per name in "
                f"that order; received {len(args)} positional inputs"
            )
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in bound:
                problem = "unknown" if key not in names else "given twice"
                raise GeotoolzTypeError(
                    f"AlignAndStack(names={names}): input {key!r} is {problem}; pass the "
                    "inputs positionally in names order or by those names"
                )
            bound[key] = value
        missing = [n for n in names if n not in bound]
        if missing:
            raise GeotoolzTypeError(
                f"AlignAndStack(names={names}) takes {len(names)} GeoTensors; missing {missing}"
            )
        return [bound[n] for n in names]

    def _apply(self, *inputs: Any, **named: Any) -> GeoTensor:
        grids = self._bind(inputs, named)
        for name, gt in zip(self.names, grids, strict=True):
            _check_grid("AlignAndStack", name, gt)
        t = self.target_index
        target = grids[t]
        dtypes = [np.dtype(float_dtype(namespace(gt.values), gt.values)) for gt in grids]
        dtype = functools.reduce(np.promote_types, dtypes)
        order = [t, *(i for i in range(len(grids)) if i != t)]
        bands = []
        for i in order:
            values = _as_float(grids[i], dtype)
            if i != t:
                values = _resample(values, grids[i], target, self.resampling)
            bands.append(values)
        # After resampling: a CRS pair without a coordinate operation is named as such first.
        _check_overlap(self.names, grids, t)
        leading = {tuple(b.shape[:-3]) for b in bands}
        if len(leading) > 1:
            shapes = {self.names[i]: tuple(grids[i].shape) for i in order}
            raise GeotoolzValueError(
                f"AlignAndStack stacks bands on axis -3, so inputs need equal leading axes "
                f"before (band, y, x); received shapes {shapes}"
            )
        if any(isinstance(b, jax.Array) for b in bands):
            bands = [jnp.asarray(b) for b in bands]
        xp = namespace(bands[0])
        stacked = xp.concat(bands, axis=-3)
        return target.replace(
            values=stacked, fill_value=float("nan"), band_names=_stacked_names(grids, order)
        )


def _stacked_names(grids: list[GeoTensor], order: list[int]) -> tuple[str, ...] | None:
    """The inputs' band names in stacking order, when every input has them and none repeats.

    Two sensors naming a band alike (``"B04"`` twice) give no names rather than an error:
    the stack is still valid data, and :class:`SelectBands` works by index.
    """
    names = [band_names_of(grids[i]) for i in order]
    if any(n is None for n in names):
        return None
    joined = tuple(b for n in names for b in n)  # type: ignore[union-attr]
    return joined if len(set(joined)) == len(joined) else None
