"""ActiveSampler: the k chips a score op ranks highest (or lowest), in a scene or a catalog."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Float

import pipekit as pk
from geocatalog import GeoSlice, GeoTensor, load_raster
from geopatcher import (
    PatchConfigError,
    PatchShapeError,
    SpatialByIndex,
    SpatialPatcher,
    from_config as patch_from_config,
)
from geopatcher.integrations.pipekit import ApplyToChips, GridSampler, Stitch
from pipekit.validate import check_int
from pipekit_array import ModelTracingError

from .._errors import GeotoolzTypeError
from ._selection import MODES, AnyArray, ChipSelection, Mode, ScoredChip, rank_key

__all__ = ["MODES", "ActiveSampler", "ChipSelection", "Mode", "ScoredChip"]

logger = logging.getLogger("geotoolz.patch_ops")

#: What tracing a score op that needs concrete NumPy arrays raises (a ModelOp around a
#: NumPy function, a Lambda calling np.asarray or branching on values).
_UNTRACEABLE = (
    ModelTracingError,
    jax.errors.TracerArrayConversionError,
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
)


class ActiveSampler(pk.Operator):
    """Pick the ``k`` chips of a scene or a catalog that ``score_op`` ranks highest (or lowest).

    Active learning's sampling step (seed Case 10): score every chip, e.g. by a model's
    predictive uncertainty, and keep the ``k`` most informative ones for labelling.

    Args:
        base: a :class:`geopatcher.SpatialPatcher` (or its ``to_config()`` dict) whose
            geometry and sampler say where the chips are; its aggregation must be
            :class:`geopatcher.SpatialByIndex` (one score per chip, nothing stitched).
        score_op: an Operator mapping one chip (a GeoTensor) to one real scalar, e.g.
            ``pk.Sequential([preprocess, pa.ModelOp(m, method="predict_with_uncertainty"),
            pa.MeanScalar(field="sigma")])``.
        k: how many chips to keep, a positive int.
        mode: ``"top"`` keeps the ``k`` highest scores, ``"bottom"`` the ``k`` lowest.
        batch_size: chips scored together on the JAX path (``ApplyToChips(batch_size)``);
            None scores all chips of a scene in one vmap.

    Returns:
        On a GeoTensor (one scene): a :class:`ChipSelection`, NumPy arrays for a NumPy scene,
        JAX arrays for a JAX one (under ``jit`` too). On a catalog (anything with
        ``iter_slices()``, e.g. :class:`geocatalog.Catalog`): a list of :class:`ScoredChip`
        via :meth:`sample`, best first.

    Example:
        >>> import geopatcher as gp, pipekit as pk, pipekit_array as pa, geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> base = gp.SpatialPatcher(gp.SpatialRectangular(16), gp.SpatialRegularStride(16),
        ...                          aggregation=gp.SpatialByIndex())
        >>> brightness = pk.Sequential([gz.radiometry.ToFloat32(), pa.MeanScalar()])
        >>> pick = gz.patch_ops.ActiveSampler(base, brightness, k=3, mode="top")
        >>> pick(synthetic_scene(48, 48, seed=2)).offsets.tolist()  # cloudy chips are bright
        [[0, 32], [16, 32], [32, 32]]

    Note:
        Ranking: scores are compared as numbers (float64 stays float64, other dtypes are
        ranked as float32). Ties go to the chip that comes first in the sampler's order
        (row-major for :class:`geopatcher.SpatialRegularStride`) and, across a catalog, to
        the scene that comes first in catalog order. NaN scores rank after every other
        score (``±inf`` included) in both modes, so they are picked only when there are
        fewer than ``k`` other chips. With fewer than ``k`` chips in all, every chip is
        returned (a :class:`ChipSelection` of ``min(k, n_chips)`` chips).

        Both paths score chips one by one with ``GridSampler(base) -> ApplyToChips(score_op)
        -> Stitch(SpatialByIndex())``. On JAX the chips are gathered, vmapped in batches and
        ranked with ``jax.lax.top_k`` in one program (no Python loop over chips); on NumPy
        they are read and scored one at a time and ranked by a stable ``argsort``.

        Compile reuse: :meth:`sample` scores every scene with one ``eqx.filter_jit``
        function, traced once per scene shape, dtype, lattice (sensor grid and CRS) and
        fill value, so a catalog of same-grid scenes compiles once.

        Host models: a ``score_op`` that JAX cannot trace (a ``pa.ModelOp`` around a plain
        NumPy function or a scikit-learn model) is run on the host: :meth:`sample` (and a
        concrete JAX scene outside ``jit``) falls back to the NumPy path, chip by chip,
        with the same ranking rules, so both kinds of model select the same chips. Under
        ``jit`` such a model cannot run (wrap it in ``jax.pure_callback``).
    """

    base: SpatialPatcher = eqx.field(static=True)
    score_op: pk.Operator
    k: int = eqx.field(static=True)
    mode: Mode = eqx.field(static=True)
    batch_size: int | None = eqx.field(static=True)

    def __init__(
        self,
        base: SpatialPatcher | Mapping[str, Any],
        score_op: pk.Operator,
        k: int,
        mode: Mode = "top",
        batch_size: int | None = None,
    ) -> None:
        if isinstance(base, Mapping):
            try:
                base = patch_from_config(base, "ActiveSampler(base)")
            except PatchConfigError as err:
                raise pk.ConfigError(str(err)) from None
        if not isinstance(base, SpatialPatcher):
            raise pk.ConfigError(
                f"ActiveSampler(base) must be a geopatcher.SpatialPatcher (or its to_config() "
                f"dict); got {type(base).__name__}. Build one: gp.SpatialPatcher(geometry=gp."
                f"SpatialRectangular((256, 256)), sampler=gp.SpatialRegularStride((256, 256)), "
                f"aggregation=gp.SpatialByIndex())"
            )
        if not isinstance(base.aggregation, SpatialByIndex):
            raise pk.ConfigError(
                f"ActiveSampler scores chips one by one, so base.aggregation must be "
                f"geopatcher.SpatialByIndex(); got {base.aggregation!r}. Build the patcher "
                f"with aggregation=gp.SpatialByIndex()."
            )
        if not isinstance(score_op, pk.Operator):
            raise pk.ConfigError(
                f"ActiveSampler(score_op) must be a pipekit Operator mapping one chip to a "
                f"scalar; got {type(score_op).__name__}. End a pipeline with "
                f"pipekit_array.MeanScalar(), or wrap a function in pk.Lambda(fn)."
            )
        if not isinstance(mode, str) or mode not in MODES:
            raise pk.ConfigError(
                f"ActiveSampler(mode) must be one of {MODES} ('top': the k highest scores, "
                f"'bottom': the k lowest); got {mode!r}"
            )
        self.base = base
        self.score_op = score_op
        self.k = check_int("ActiveSampler", "k", k, minimum=1)
        self.mode = mode
        self.batch_size = check_int(
            "ActiveSampler", "batch_size", batch_size, minimum=1, allow_none=True
        )

    def _apply(self, x: Any) -> ChipSelection | list[ScoredChip]:
        if isinstance(x, GeoTensor):
            return self.select(x)
        if callable(getattr(x, "iter_slices", None)):
            return self.sample(x)
        raise GeotoolzTypeError(
            f"ActiveSampler takes one scene (a geocatalog.GeoTensor) or a catalog (an object "
            f"with iter_slices(), e.g. geocatalog.open_catalog(path)); got {type(x).__name__}. "
            f"Wrap a bare array in a GeoTensor first."
        )

    # ------------------------------------------------------------------ one scene

    def select(self, scene: GeoTensor) -> ChipSelection:
        """The ``min(k, n_chips)`` best chips of one scene, best first (see the class notes)."""
        if scene.batch_shape:
            raise PatchShapeError(
                f"ActiveSampler ranks the chips of one scene; this GeoTensor is stacked with "
                f"batch shape {scene.batch_shape}. Use eqx.filter_vmap over scenes, or a "
                f"catalog to rank chips across scenes."
            )
        shape = tuple(scene.shape[-2:])
        n = len(self.base.offsets(shape))
        if n == 0:
            raise PatchShapeError(
                f"ActiveSampler: the sampler gives no chips on a scene of shape {shape} "
                f"(chip size {self.base.geometry.size}, boundary "
                f"{self.base.geometry.boundary!r}); use boundary='pad' or a smaller chip."
            )
        pipeline = pk.Sequential(
            [GridSampler(self.base), ApplyToChips(self.score_op, self.batch_size),
             Stitch(SpatialByIndex())]
        )  # fmt: skip
        try:
            results = pipeline(scene)
        except _UNTRACEABLE:
            if isinstance(scene.values, jax.core.Tracer):
                raise  # under jit / vmap: nothing concrete to run on the host
            chosen = self.select(jax.tree.map(np.asarray, scene))  # a host (NumPy) model
            return jax.tree.map(jnp.asarray, chosen)
        scores = _check_scores(results.values, n)
        k = min(self.k, n)
        priority = rank_key(scores, self.mode)
        offsets = np.asarray(results.offsets, dtype=np.int32)
        if isinstance(scores, jax.Array):
            _, index = jax.lax.top_k(priority, k)
            return ChipSelection(scores[index], jnp.asarray(offsets)[index], index,
                                 scene.offset, scene.lattice)  # fmt: skip
        index = np.argsort(~priority, kind="stable")[:k].astype(np.int32)
        origin = np.asarray(scene.offset, dtype=np.int32)
        return ChipSelection(scores[index], offsets[index], index, origin, scene.lattice)

    # ------------------------------------------------------------------ a catalog

    def sample(
        self, catalog: Any, loader: Callable[[GeoSlice], GeoTensor] = load_raster
    ) -> list[ScoredChip]:
        """The ``k`` best chips of a whole catalog (at most ``k``), best first.

        Args:
            catalog: anything with ``iter_slices()`` yielding :class:`geocatalog.GeoSlice`
                (a :class:`geocatalog.Catalog`, a query of one).
            loader: reads one slice into a GeoTensor on the source raster's native pixel
                grid (the whole raster, or a window of it); default
                :func:`geocatalog.load_raster`.

        Returns:
            A list of :class:`ScoredChip` in rank order (ties: catalog order, then
            sampler order).

        Each scene is loaded, moved to JAX and ranked by one compiled function (see the
        class notes); only its ``min(k, n_chips)`` best chips come back to the host, where
        they are merged with the best so far, so memory holds one scene and ``k`` chips.
        Scenes where the sampler gives no chip are skipped. One 1-pixel read of each
        source raster places the loaded scene on the raster's pixel grid, so every chip is
        reported as a window of the source raster (and a reprojecting loader is an error).
        """
        if not callable(getattr(catalog, "iter_slices", None)):
            raise GeotoolzTypeError(
                f"ActiveSampler.sample takes a catalog (an object with iter_slices(), e.g. "
                f"geocatalog.open_catalog(path)); got {type(catalog).__name__}"
            )
        h, w = self.base.geometry.size
        best: list[tuple[int, int, int, float, GeoSlice, int, int]] = []
        on_host = False  # set once score_op proves untraceable: a NumPy model
        for s, sl in enumerate(catalog.iter_slices()):
            scene = loader(sl)
            if not isinstance(scene, GeoTensor):
                raise GeotoolzTypeError(
                    f"ActiveSampler.sample: the loader must return a geocatalog.GeoTensor; it "
                    f"returned a {type(scene).__name__} for item {sl.item_id!r}"
                )
            if len(self.base.offsets(tuple(scene.shape[-2:]))) == 0:
                continue
            row0, col0 = _position_in_source(sl, scene)
            if not on_host:
                try:
                    chosen = jax.device_get(
                        _select_compiled(self, jax.tree.map(jnp.asarray, scene))
                    )
                except _UNTRACEABLE as err:
                    on_host = True
                    logger.info("ActiveSampler: score_op cannot be traced (%s); scoring "
                                "on the host with NumPy", type(err).__name__)  # fmt: skip
            if on_host:
                chosen = self.select(jax.tree.map(np.asarray, scene))
            scores = np.asarray(chosen.scores, dtype=np.float64)
            keys = rank_key(scores, self.mode).tolist()
            for key, score, i, (r, c) in zip(keys, scores.tolist(), chosen.index.tolist(),
                                             chosen.offsets.tolist(), strict=True):  # fmt: skip
                best.append((key, s, i, score, sl, row0 + r, col0 + c))
            best.sort(key=lambda e: (-e[0], e[1], e[2]))
            del best[self.k :]
        return [
            ScoredChip(_chip_slice(sl, r, c, h, w), score, sl.item_id, r, c)
            for _, _, _, score, sl, r, c in best
        ]


def _select(op: ActiveSampler, scene: GeoTensor) -> ChipSelection:
    return op.select(scene)


#: The one compiled function :meth:`ActiveSampler.sample` scores every scene with.
_select_compiled = eqx.filter_jit(_select)


def _check_scores(values: Any, n: int) -> Float[AnyArray, " n"]:
    """The per-chip scores as one real ``(n,)`` array, or an error naming what came out."""
    shape = getattr(values, "shape", None)
    if not isinstance(values, np.ndarray | jax.Array) or tuple(shape) != (n,):
        got = f"shape {tuple(shape)[1:]}" if shape is not None else type(values).__name__
        raise PatchShapeError(
            f"ActiveSampler(score_op) must map one chip to one real scalar; it returned "
            f"{got} per chip. End the score pipeline with a reduction such as "
            f"pipekit_array.MeanScalar() (or MeanScalar(field='sigma') after a model that "
            f"returns a dict)."
        )
    if not (jnp.issubdtype(values.dtype, jnp.floating) or jnp.issubdtype(values.dtype, jnp.integer)
            or values.dtype == bool):  # fmt: skip
        raise GeotoolzTypeError(
            f"ActiveSampler ranks real scores; score_op returned dtype {values.dtype}. Take "
            f"the magnitude or real part first."
        )
    return values


def _position_in_source(sl: GeoSlice, scene: GeoTensor) -> tuple[int, int]:
    """Pixel ``(row, col)`` of the scene's top-left corner on the source raster's grid."""
    probe = load_raster(sl.href, window=((0, 1), (0, 1)), indexes=1)
    src, dst = probe.transform, scene.transform
    det = src.a * src.e - src.b * src.d
    dx, dy = dst.c - src.c, dst.f - src.f
    col = (src.e * dx - src.b * dy) / det
    row = (src.a * dy - src.d * dx) / det
    same_linear = np.allclose([dst.a, dst.b, dst.d, dst.e], [src.a, src.b, src.d, src.e],
                              rtol=1e-9, atol=0.0)  # fmt: skip
    whole = abs(row - round(row)) <= 1e-6 and abs(col - round(col)) <= 1e-6
    if probe.lattice.crs != scene.lattice.crs or not same_linear or not whole:
        raise PatchShapeError(
            f"ActiveSampler.sample reports chips as pixel windows of the source raster, but "
            f"the loader put item {sl.item_id!r} on another grid (crs {scene.crs_string}, "
            f"transform {tuple(dst)[:6]}; the raster has crs {probe.crs_string}, transform "
            f"{tuple(src)[:6]}). Load scenes on their native grid (no crs/resolution/shape), "
            f"and reproject the chosen chips afterwards."
        )
    return round(row), round(col)


def _chip_slice(sl: GeoSlice, row: int, col: int, h: int, w: int) -> GeoSlice:
    return GeoSlice(href=sl.href, window=((row, row + h), (col, col + w)), datetime=sl.datetime,
                    indexes=sl.indexes, item_id=sl.item_id)  # fmt: skip
