"""What a CatalogPipeline run records and the work it sends to workers, one slice at a time.

Module-level functions, so that they pickle to process and Dask workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Literal

import pipekit as pk

from .._geotensor import GeoTensor
from .._io import save_cog
from .._slice import GeoSlice
from .._storage import exists, join, read_text, write_text

__all__ = [
    "Loader",
    "RunReport",
    "SliceRecord",
    "Status",
    "op_hash",
    "process_batch",
    "process_slice",
    "read_manifest",
    "write_manifest",
]

Status = Literal["ok", "skipped", "failed", "pending"]
Loader = Callable[[GeoSlice], GeoTensor]


@dataclasses.dataclass(frozen=True)
class SliceRecord:
    """One manifest line: what happened to one slice in a run.

    Attributes:
        slice_hash: :attr:`GeoSlice.hash` (names the output).
        item_id: the catalog item id.
        output: the output path or URI ``{out_dir}/{slice_hash}.tif``.
        status: ``"ok"`` (written in this run), ``"skipped"`` (already complete),
            ``"failed"`` or ``"pending"`` (not run yet; only in a manifest of an unfinished
            run, or after ``on_error="raise"`` stopped the run).
        error: ``{"type": ..., "message": ...}`` for a failed slice, else None.
        seconds: wall time of load + op + write in the worker; None when not measured
            (failed, pending).
        config_hash: ``pipekit.config_hash(op)`` of the pipeline that produced the output.
    """

    slice_hash: str
    item_id: str | None
    output: str
    status: Status
    error: dict[str, str] | None
    seconds: float | None
    config_hash: str


@dataclasses.dataclass(frozen=True)
class RunReport:
    """What :meth:`CatalogPipeline.run` did: one record per slice, in catalog order."""

    records: tuple[SliceRecord, ...]
    manifest: str
    config_hash: str

    def by_status(self, status: Status) -> list[SliceRecord]:
        """The records with this status."""
        return [r for r in self.records if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        """Number of slices per status, e.g. ``{"ok": 37, "skipped": 0, "failed": 3}``."""
        out = {"ok": 0, "skipped": 0, "failed": 0}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def op_hash(op: Callable[[Any], Any]) -> str:
    """``pk.config_hash(op)``; for a plain callable (or an op that refuses YAML), its name."""
    if isinstance(op, pk.Operator):
        with contextlib.suppress(pk.ConfigError):
            return pk.config_hash(op)
    name = getattr(op, "__qualname__", type(op).__qualname__)
    return f"callable:{getattr(op, '__module__', None) or type(op).__module__}.{name}"


def process_slice(op: Callable[[Any], Any], out_dir: str, loader: Loader, sl: GeoSlice) -> dict:
    """The per-slice work (module level, so it pickles): load, run ``op``, write the COG.

    Exceptions propagate, so the executor's ``on_error`` policy decides what they become.
    """
    start = time.perf_counter()
    path = join(out_dir, f"{sl.hash}.tif")
    if exists(path):  # done meanwhile (a retried task, a concurrent rerun)
        return {"status": "skipped", "seconds": 0.0}
    result = op(loader(sl))
    if not isinstance(result, GeoTensor):
        raise TypeError(
            f"CatalogPipeline writes one GeoTensor per slice, but the op returned a "
            f"{type(result).__name__}. End the pipeline with an operator that returns a "
            "GeoTensor (e.g. geotoolz.indices.NDVI)."
        )
    save_cog(result, path)
    return {"status": "ok", "seconds": time.perf_counter() - start}


def process_batch(
    op: Callable[[Any], Any], out_dir: str, loader: Loader, slices: list[GeoSlice]
) -> list[dict]:
    """:func:`process_slice` over a list (the task shape of ``BatchedMap``), slice by slice.

    A slice that raises gets its own ``{"status": "failed", ...}`` entry and the rest of
    the batch still runs; :class:`CatalogPipeline` applies the executor's ``on_error``.
    """
    out = []
    for sl in slices:
        try:
            out.append(process_slice(op, out_dir, loader, sl))
        except Exception as exc:
            out.append({
                "status": "failed", "type": type(exc).__name__, "message": str(exc),
                "traceback": "".join(traceback.format_exception(exc)),
            })  # fmt: skip
    return out


def write_manifest(path: str, records: Sequence[SliceRecord]) -> None:
    """Write the records as JSON lines, atomically, to a local file or an object."""
    lines = (json.dumps(dataclasses.asdict(r), sort_keys=True) + "\n" for r in records)
    write_text(path, "".join(lines))


def read_manifest(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a manifest written by :class:`CatalogPipeline` (empty if absent).

    ``path`` is a local path or an ``s3://`` URI.
    """
    text = read_text(path)
    return [json.loads(line) for line in (text or "").splitlines() if line.strip()]
