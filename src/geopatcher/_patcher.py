"""SpatialPatcher = geometry × sampler × window × aggregation, and its NumPy path."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from affine import Affine

from ._aggregation import SpatialByIndex, SpatialOverlapAdd
from ._config import from_config, piece
from ._errors import PatchConfigError, PatchShapeError
from ._field import Domain, Field, as_field, pad_value
from ._geometry import SpatialRectangular
from ._overlap import OverlapAdd, overlap_add, result_dtype
from ._samplers import SpatialExplicit, SpatialRandom, SpatialRegularStride
from ._windows import SpatialBoxcar, SpatialGaussian, SpatialHann, SpatialTukey, chip_weights

__all__ = ["ChipResult", "OverlapAdd", "SpatialPatcher", "overlap_add", "result_dtype"]

logger = logging.getLogger("geopatcher")

Sampler = SpatialRegularStride | SpatialRandom | SpatialExplicit
Window = SpatialBoxcar | SpatialHann | SpatialGaussian | SpatialTukey
Aggregation = SpatialOverlapAdd | SpatialByIndex
_KINDS = {
    "geometry": (SpatialRectangular,),
    "sampler": (SpatialRegularStride, SpatialRandom, SpatialExplicit),
    "window": (SpatialBoxcar, SpatialHann, SpatialGaussian, SpatialTukey),
    "aggregation": (SpatialOverlapAdd, SpatialByIndex),
}


class ChipResult(NamedTuple):
    """One chip's result under :class:`SpatialByIndex`: where the chip is and what came out."""

    index: int
    row: int
    col: int
    transform: Affine | None
    value: Any


@piece
@dataclasses.dataclass(frozen=True)
class SpatialPatcher:
    """Cut a field into chips and combine chip results: geometry × sampler × window × aggregation.

    Arguments:
        geometry: :class:`SpatialRectangular` (chip size and border rule).
        sampler: where chips start (:class:`SpatialRegularStride`, :class:`SpatialRandom`,
            :class:`SpatialExplicit`).
        window: per-pixel weights for overlap-add (:class:`SpatialBoxcar`,
            :class:`SpatialHann`, :class:`SpatialGaussian`, :class:`SpatialTukey`), all
            boundary-aware.
        aggregation: :class:`SpatialOverlapAdd` (stitch a raster) or :class:`SpatialByIndex`
            (keep one result per chip).

    Each piece may also be given as its ``to_config()`` dict (as YAML holds it);
    ``to_config()`` of the patcher is plain data that :func:`geopatcher.from_config` inverts.

    Example:
        >>> import numpy as np
        >>> patcher = SpatialPatcher(SpatialRectangular(4), SpatialRegularStride(2),
        ...                          SpatialHann(), SpatialOverlapAdd())
        >>> x = np.arange(7 * 9, dtype=np.float64).reshape(1, 7, 9)
        >>> bool(np.allclose(patcher.apply(x, lambda chip: chip), x))
        True

    Note:
        Offsets are one integer array ``(n_chips, 2)`` of top-left ``(row, col)`` pixels, so
        the JAX integration gathers every chip in one op. A chip's georeferencing is its
        window's transform (``rasterio.windows.transform``), moved by integer offsets.
    """

    geometry: SpatialRectangular
    sampler: Sampler
    window: Window = SpatialBoxcar()  # noqa: RUF009 - frozen and hashable: safe to share
    aggregation: Aggregation = SpatialOverlapAdd()  # noqa: RUF009

    def __post_init__(self) -> None:
        for name, kinds in _KINDS.items():
            value = from_config(getattr(self, name), f"SpatialPatcher({name})")
            if not isinstance(value, kinds):
                raise PatchConfigError(
                    f"SpatialPatcher({name}) must be one of "
                    f"{', '.join(k.__name__ for k in kinds)}; received {type(value).__name__}"
                )
            object.__setattr__(self, name, value)

    # ----------------------------------------------------------------- where chips are

    @staticmethod
    def _shape(field: Any) -> tuple[int, int]:
        if isinstance(field, tuple) and len(field) == 2:
            return (int(field[0]), int(field[1]))
        if isinstance(field, Domain):
            return field.shape
        if hasattr(field, "domain"):
            return field.domain.shape
        return tuple(np.shape(getattr(field, "values", field))[-2:])  # type: ignore[return-value]

    def offsets(self, field: Any) -> np.ndarray:
        """Top-left ``(row, col)`` of every chip, ``(n, 2)`` int64, in sampler order."""
        return self.sampler.sample(self._shape(field), self.geometry)

    def weights(self, field: Any, offsets: np.ndarray | None = None) -> np.ndarray:
        """Boundary-aware window weights of every chip, ``(n, rows, cols)`` float64."""
        shape = self._shape(field)
        offsets = self.offsets(shape) if offsets is None else offsets
        return chip_weights(self.window, self.geometry.size, offsets, shape)

    def weight_map(self, field: Any) -> np.ndarray:
        """Total weight per pixel of the field, ``(H, W)``: 0 exactly where no chip covers."""
        shape = self._shape(field)
        offsets = self.offsets(shape)
        acc = OverlapAdd(offsets, self.geometry.size, shape)
        for (r, c), weights in zip(offsets.tolist(), self.weights(shape, offsets), strict=True):
            acc.add_weight(r, c, weights)
        return acc.total_weight()

    # ----------------------------------------------------------------- NumPy path

    def iter_chips(self, field: Any) -> Iterator[tuple[int, int, Any]]:
        """Yield ``(row, col, chip)`` in sampler order; each chip is read when it is reached."""
        field = self._field(field)
        h, w = self.geometry.size
        for r, c in self.offsets(field).tolist():
            yield r, c, field.read(r, c, h, w)

    def stitch(self, outputs: Sequence[Any], field: Any, offsets: np.ndarray | None = None) -> Any:
        """Combine per-chip ``outputs`` (sampler order) with this patcher's aggregation.

        :class:`SpatialOverlapAdd` returns the field's carrier (a GeoTensor for a
        RasterField, a DataArray for an XarrayField, an array for an array);
        :class:`SpatialByIndex` returns a list of :class:`ChipResult`.
        """
        field = self._field(field)
        offsets = self.offsets(field) if offsets is None else np.asarray(offsets)
        if len(outputs) != len(offsets):
            raise PatchShapeError(
                f"stitch: {len(outputs)} outputs for {len(offsets)} chips; give one per chip"
            )
        sink = self._sink(field, offsets)
        for (r, c), out in zip(offsets.tolist(), outputs, strict=True):
            sink.add(r, c, out)
        return sink.result()

    def apply(self, field: Any, fn: Callable[[Any], Any], *, progress: bool = False) -> Any:
        """Run ``fn`` on every chip and aggregate, streaming: one chip in memory at a time.

        For :class:`SpatialOverlapAdd` only the running sums are kept, so memory is the
        size of the result, whatever the number of chips. ``progress`` logs every ~10 %.
        """
        field = self._field(field)
        offsets = self.offsets(field)
        sink = self._sink(field, offsets, streaming=True)
        n = len(offsets)
        for k, (r, c, chip) in enumerate(self.iter_chips(field)):
            sink.add(r, c, fn(chip))
            if progress and (k + 1) * 10 // n > k * 10 // n:
                logger.info("SpatialPatcher: %d/%d chips", k + 1, n)
        return sink.result()

    def _sink(
        self, field: Field, offsets: np.ndarray, streaming: bool = False
    ) -> _ByIndexSink | _OverlapAddSink:
        if isinstance(self.aggregation, SpatialByIndex):
            return _ByIndexSink(field.domain)
        acc = OverlapAdd(offsets, self.geometry.size, field.domain.shape)
        return _OverlapAddSink(field, acc, self.window, streaming)

    @staticmethod
    def _field(source: Any) -> Field:
        if isinstance(source, np.ndarray):
            return _ArrayField(source)
        return as_field(source)


def _values(out: Any) -> np.ndarray:
    """The pixel array of a chip output on the host: an array, or a carrier's ``.values``.

    The core stays framework-free (arrows point down), so it reads ``.values`` here, which
    on the host path is what ``pipekit_array.values_of`` gives too (a GeoTensor's array, a
    DataArray's NumPy data); the integration layer unwraps through that contract. A
    mapping's ``.values`` is a method: called.
    """
    if isinstance(out, np.ndarray):
        return out
    values = getattr(out, "values", out)
    return np.asarray(values() if callable(values) else values)


class _ByIndexSink:
    """Collects ``ChipResult`` s in sampler order."""

    def __init__(self, domain: Domain) -> None:
        self.domain, self.out = domain, []

    def add(self, r: int, c: int, value: Any) -> None:
        self.out.append(ChipResult(len(self.out), r, c, self.domain.window_transform(r, c), value))

    def result(self) -> list[ChipResult]:
        return self.out


class _OverlapAddSink:
    """Weights each chip output with its boundary-aware window and accumulates it."""

    def __init__(self, field: Field, acc: OverlapAdd, window: Window, streaming: bool) -> None:
        self.field, self.acc, self.window = field, acc, window
        self.fill = field.fill_value
        self.streaming = streaming  # False: keep chips and add them all at once, in threads
        self.pending: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        self._cache: dict[tuple, np.ndarray] = {}

    def add(self, r: int, c: int, out: Any) -> None:
        if getattr(out, "fill_value", None) is not None:
            self.fill = out.fill_value  # an op may set a new fill value (NaN for indices)
        y = _values(out)
        (h, w), (rows, cols) = self.acc.size, self.acc.shape
        # A chip's weights depend only on which field borders it touches: 9 cases at most.
        key = (r <= 0, r + h >= rows, c <= 0, c + w >= cols, result_dtype(y.dtype))
        weights = self._cache.get(key)
        if weights is None:
            weights = chip_weights(self.window, self.acc.size, np.array([[r, c]]), (rows, cols))
            weights = self._cache[key] = weights[0].astype(key[-1])
        if self.streaming:
            self.acc.add(r, c, y, weights)
        else:
            self.pending.append((r, c, y, weights))

    def result(self) -> Any:
        self.acc.add_all(self.pending)
        self.pending = []
        return self.field.wrap(self.acc.result(self.fill), self.fill)


class _ArrayField:
    """A bare array ``(*band, H, W)`` as a field without georeferencing."""

    def __init__(self, values: np.ndarray) -> None:
        if values.ndim < 2:
            raise PatchShapeError(f"a field array needs shape (..., H, W); received {values.shape}")
        self.array = values
        self.domain = Domain(tuple(values.shape[-2:]))
        self.fill_value = None
        self.dtype = values.dtype

    def read(self, row: int, col: int, rows: int, cols: int) -> np.ndarray:
        from ._field import _clip, _pad

        inner = _clip(row, col, rows, cols, self.domain.shape)
        part = self.array[..., inner[0] : inner[1], inner[2] : inner[3]]
        return _pad(part, (row, col, rows, cols), inner, pad_value(None, part.dtype))

    def values(self, chip: np.ndarray) -> np.ndarray:
        return chip

    def wrap(self, values: Any, fill_value: float | int | None) -> np.ndarray:
        return values
