"""CatalogPipeline: run one operator over every slice of a catalog, one COG per slice.

Idempotent and resumable: each output is named by its slice's content hash and written
atomically (:func:`geocatalog.save_cog`), so an output that exists is complete and a rerun
skips it; a run killed at any point (SIGKILL included) is finished by running it again.
``out_dir`` is a local folder or an ``s3://bucket/prefix``: every existence check, listing,
output and manifest write goes through :mod:`geocatalog._storage`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from pipekit.parallel import AbstractMap, BatchedMap, Failure, ParallelError, ThreadMap
from pipekit.progress import ProgressBar, progress_bar
from pipekit.validate import check_bool

from .._catalog import Catalog
from .._errors import GeoError
from .._load import load_raster
from .._slice import GeoSlice
from .._storage import (
    check_container,
    exists,
    is_remote,
    join,
    list_names,
)
from ._slice_tasks import (
    Loader,
    RunReport,
    SliceRecord,
    Status,
    op_hash,
    process_batch,
    process_slice,
    read_manifest,
    write_manifest,
)

try:  # POSIX: one run per out_dir at a time (the lock dies with the process, even on SIGKILL)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["CatalogPipeline", "CatalogPipelineError", "RunReport", "SliceRecord"]

logger = logging.getLogger("geocatalog.catalog_pipeline")


# save_cog's temporary names for our outputs: ".<64 hex>.tif.<32 hex>.tmp" (plus any GDAL
# side file starting with it); and the manifest's own temporary names.
_OUTPUT_TMP = re.compile(r"^\.[0-9a-f]{64}\.tif\.[0-9a-f]{32}\.tmp")
_LOCK_NAME = ".catalog_pipeline.lock"


class CatalogPipelineError(GeoError, RuntimeError):
    """A CatalogPipeline run cannot start: out_dir is in use, or belongs to another op."""


@contextlib.contextmanager
def _lock(out_dir: str) -> Iterator[None]:
    if fcntl is None or is_remote(out_dir):  # object stores have no locks; see the Note
        yield
        return
    with open(os.path.join(out_dir, _LOCK_NAME), "a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CatalogPipelineError(
                f"CatalogPipeline: another run holds {out_dir!r} (lock {_LOCK_NAME}). Runs on "
                "one out_dir must not overlap: wait for it, or use another out_dir."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class CatalogPipeline:
    """Run ``op`` on every slice of ``catalog``; write ``{out_dir}/{slice.hash}.tif`` each.

    Arguments:
        catalog: a :class:`geocatalog.Catalog`; its :meth:`~Catalog.iter_slices` are the work.
        op: a callable ``GeoTensor -> GeoTensor`` (a pipekit Operator, usually from YAML);
            sent to workers, so it must pickle for process and dask executors.
        parallel: a ``pipekit.parallel`` executor (``ProcessMap``, ``ThreadMap``,
            ``AsyncMap``, ``DaskMap``, or ``BatchedMap``, whose tasks are lists of slices run
            one by one, each failing on its own; its ``inner`` map runs the batches). None
            runs sequentially in this process with
            ``ThreadMap(n_workers=1, on_error="log_and_continue")``. Its ``on_error`` is
            the run's failure policy: ``"raise"`` stops after writing the manifest, the
            others record the slice as failed. Its ``timeout`` bounds each slice (a late
            one is recorded as failed with ``TimeoutError``). Its own ``progress`` bar is
            not drawn (it would restart at every batch): pass ``progress`` to :meth:`run`.
        loader: ``loader(slice) -> GeoTensor`` (default :func:`geocatalog.load_raster`); a
            module-level function so it pickles.
        out_dir: output folder (created if missing), or an ``s3://bucket/prefix`` whose
            bucket exists (endpoint and credentials from the ``AWS_*`` variables, in this
            process and in the workers).
        progress: the default of :meth:`run`'s ``progress``: a progress bar over the
            slices plus progress lines on the ``"geocatalog.catalog_pipeline"`` logger at
            INFO.
        manifest: manifest file name inside ``out_dir`` (JSON lines, one per slice).
        batch_size: slices per ``parallel.map`` call; after each batch the manifest is
            rewritten and progress logged. Default: a tenth of the pending slices.

    Example:
        >>> import os, tempfile
        >>> import geocatalog as gc, pipekit as pk
        >>> d = tempfile.mkdtemp()
        >>> scene = gc.save_cog(gc.testing.synthetic_scene(16, 16), os.path.join(d, "a.tif"))
        >>> cat = gc.open_catalog(gc.build_catalog([scene], os.path.join(d, "c.parquet")))
        >>> run = CatalogPipeline(cat, pk.Identity(), out_dir=os.path.join(d, "out")).run
        >>> run().counts, run().counts
        ({'ok': 1, 'skipped': 0, 'failed': 0}, {'ok': 0, 'skipped': 1, 'failed': 0})

    Note:
        A run is idempotent and resumable: outputs are written atomically, so one that
        exists is complete and is skipped; after a kill (even SIGKILL) a rerun writes the
        missing ones, with the same bytes an uninterrupted run writes (COG writing is
        deterministic), and first removes the temporary files of ours the kill left behind.
        The manifest is rewritten atomically at the start (all ``"pending"``), after each
        batch and at the end, so after a finished run every slice has a final status.
        Outputs are named by the slice hash only, so ``out_dir`` belongs to one op: a run
        whose ``pk.config_hash(op)`` differs from the manifest's raises
        :class:`CatalogPipelineError` rather than skipping stale outputs.

        On object storage each output and each manifest version is one PUT of a finished
        local file, so no partial object ever exists and there are no temporary objects to
        clean up. What is done is found with one listing of the prefix. S3 has no lock:
        two concurrent runs on one prefix are not refused (a local ``out_dir`` is guarded
        by ``flock``). They still write correct outputs (each is deterministic and atomic)
        but duplicate work, and the manifest is the last writer's.
    """

    def __init__(
        self,
        catalog: Catalog,
        op: Callable[[Any], Any],
        parallel: AbstractMap | None = None,
        loader: Loader = load_raster,
        out_dir: str | os.PathLike = "catalog_pipeline_out",
        *,
        progress: bool = False,
        manifest: str = "manifest.jsonl",
        batch_size: int | None = None,
    ) -> None:
        if not callable(getattr(catalog, "iter_slices", None)):
            raise TypeError(
                "CatalogPipeline(catalog) expects a geocatalog.Catalog (anything with "
                f"iter_slices()), got {type(catalog).__name__}. Open one with gc.open_catalog."
            )
        if not callable(op):
            raise TypeError(f"CatalogPipeline(op) expects a callable operator, got {op!r}")
        if parallel is not None and not isinstance(parallel, AbstractMap):
            # A pipekit map, not any object with .map: its on_error decides what a failed
            # slice becomes (a manifest record or a stop), which a bare executor cannot say.
            raise TypeError(
                "CatalogPipeline(parallel) expects a pipekit.parallel executor such as "
                "pk.parallel.ProcessMap(n_workers=4, on_error='log_and_continue', "
                f"timeout=600), or None; got {type(parallel).__name__}"
            )
        if not callable(loader):
            raise TypeError(f"CatalogPipeline(loader) expects a callable, got {loader!r}")
        if not isinstance(manifest, str) or os.path.basename(manifest) != manifest:
            raise ValueError(
                f"CatalogPipeline(manifest) is a file name inside out_dir, got {manifest!r}"
            )
        if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"CatalogPipeline(batch_size) must be >= 1, got {batch_size!r}")
        self.catalog = catalog
        self.op = op
        self.parallel = parallel or ThreadMap(n_workers=1, on_error="log_and_continue")
        self.loader = loader
        out_dir = os.fspath(out_dir)
        self.out_dir = out_dir.rstrip("/") if is_remote(out_dir) else os.path.abspath(out_dir)
        self.progress = progress
        self.manifest = join(self.out_dir, manifest)
        self.batch_size = batch_size
        self.config_hash = op_hash(op)

    def __repr__(self) -> str:
        return f"CatalogPipeline(op={self.config_hash}, out_dir={self.out_dir!r})"

    def output_path(self, sl: GeoSlice) -> str:
        """Where the output of slice ``sl`` goes: ``{out_dir}/{sl.hash}.tif``."""
        return join(self.out_dir, f"{sl.hash}.tif")

    def _record(self, sl: GeoSlice, status: Status, **kw: Any) -> SliceRecord:
        fields: dict[str, Any] = {"error": None, "seconds": None, **kw}
        return SliceRecord(
            sl.hash, sl.item_id, self.output_path(sl), status, config_hash=self.config_hash,
            **fields,
        )  # fmt: skip

    def _check_manifest(self) -> None:
        other = {r.get("config_hash") for r in read_manifest(self.manifest)} - {self.config_hash}
        if other:
            raise CatalogPipelineError(
                f"CatalogPipeline: {self.out_dir!r} holds outputs of another op (manifest "
                f"config_hash {sorted(map(str, other))[0]}, this op {self.config_hash}). "
                "Outputs are named by slice only, so they would be skipped as if current. "
                "Use a fresh out_dir, or delete the old outputs and manifest."
            )

    def _clean_stale_temps(self) -> int:
        if is_remote(self.out_dir):  # uploads are all-or-nothing: no temporary objects
            return 0
        manifest_tmp = re.compile(
            rf"^\.{re.escape(os.path.basename(self.manifest))}\.[0-9a-f]{{32}}\.tmp$"
        )
        removed = 0
        for entry in os.scandir(self.out_dir):
            if entry.is_file() and (
                _OUTPUT_TMP.match(entry.name) or manifest_tmp.match(entry.name)
            ):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(entry.path)
                    removed += 1
        return removed

    def run(self, *, progress: bool | None = None) -> RunReport:
        """Process every slice not yet done; return the :class:`RunReport`.

        Args:
            progress: draw a progress bar over the catalog's slices (tqdm, the
                ``progress`` extra; slices already done count from the start, so a resumed
                run starts part-way) that advances as each slice finishes, failed ones
                included, and log progress at INFO. ``None``: the constructor's
                ``progress``. A run option, not part of the op: it never enters the
                manifest or ``config_hash``.

        Raises:
            CatalogPipelineError: another run holds ``out_dir``, or its manifest comes from
                another op.
            pipekit.parallel.ParallelError: a slice failed under ``on_error="raise"`` (the
                manifest is written first, with the slices finished so far).
        """
        progress = self.progress if progress is None else progress
        check_bool("CatalogPipeline.run", "progress", progress)
        check_container(self.out_dir, "CatalogPipeline(out_dir)")
        with _lock(self.out_dir):
            return self._run(progress)

    def _run(self, progress: bool) -> RunReport:
        t0 = time.perf_counter()
        self._check_manifest()
        removed = self._clean_stale_temps()
        slices = list(self.catalog.iter_slices())
        hashes = [sl.hash for sl in slices]
        if len(set(hashes)) != len(hashes):
            dup = sorted({h for h in hashes if hashes.count(h) > 1})[:3]
            raise CatalogPipelineError(
                f"CatalogPipeline: {len(hashes) - len(set(hashes))} slices share a content "
                f"hash (e.g. {dup}) and would write one output; give the items distinct ids."
            )
        records: list[SliceRecord] = []
        pending: list[int] = []
        done = list_names(self.out_dir)
        for i, sl in enumerate(slices):
            if f"{sl.hash}.tif" in done:
                records.append(self._record(sl, "skipped", seconds=0.0))
            else:
                records.append(self._record(sl, "pending"))
                pending.append(i)
        write_manifest(self.manifest, records)
        if progress:
            logger.info(
                "CatalogPipeline: %d slices, %d done already, %d to run (%d stale temp files "
                "removed)", len(slices), len(slices) - len(pending), len(pending), removed,
            )  # fmt: skip
        task = process_batch if isinstance(self.parallel, BatchedMap) else process_slice
        work = functools.partial(task, self.op, self.out_dir, self.loader)
        size = self.batch_size or max(1, -(-len(pending) // 10))
        with progress_bar(
            len(slices), "CatalogPipeline", progress, initial=len(slices) - len(pending),
            unit="slice",
        ) as bar:  # fmt: skip
            for start in range(0, len(pending), size):
                batch = pending[start : start + size]
                self._run_batch(slices, records, batch, work, bar, progress)
                if progress:
                    logger.info(
                        "CatalogPipeline: %d/%d slices run (%d failed) in %.1f s",
                        start + len(batch), len(pending),
                        sum(r.status == "failed" for r in records), time.perf_counter() - t0,
                    )  # fmt: skip
        return RunReport(tuple(records), self.manifest, self.config_hash)

    def _run_batch(
        self,
        slices: list[GeoSlice],
        records: list[SliceRecord],
        batch: list[int],
        work: Callable[[Any], Any],
        bar: ProgressBar,
        progress: bool,
    ) -> None:
        """Run the pending slices ``batch`` (indices into ``slices``); rewrite the manifest."""
        on_done = (lambda _k: bar.update(1)) if progress else None
        try:
            # The map's own bar would restart at every batch: this run's bar counts instead.
            results = self.parallel._map_observed(work, [slices[i] for i in batch], on_done)
        except ParallelError as exc:
            self._settle_after_raise(slices, records, batch, exc)
            raise
        raised: Failure | None = None
        for k, (i, res) in enumerate(zip(batch, results, strict=True)):
            if isinstance(res, dict) and res["status"] == "failed":  # from process_batch
                res = Failure(k, slices[i], res["type"], res["message"], res["traceback"])
                if self.parallel.on_error == "raise":
                    raised = raised or res
                elif self.parallel.on_error == "log_and_continue":
                    logger.warning("CatalogPipeline: %s", res.describe())
            if isinstance(res, Failure):
                error = {"type": res.exc_type, "message": res.message}
                records[i] = self._record(slices[i], "failed", error=error)
            else:
                records[i] = self._record(slices[i], res["status"], seconds=res["seconds"])
        write_manifest(self.manifest, records)
        if raised is not None:
            raise ParallelError("CatalogPipeline", raised)

    def _settle_after_raise(
        self, slices: list[GeoSlice], records: list[SliceRecord], batch: list[int], exc: Any
    ) -> None:
        """on_error="raise" stopped a batch: record what is on disk, then the failure."""
        for i in batch:
            if exists(self.output_path(slices[i])):
                records[i] = self._record(slices[i], "ok")
        failure = exc.failure
        i = batch[failure.index]
        error = {"type": failure.exc_type, "message": failure.message}
        records[i] = self._record(slices[i], "failed", error=error)
        write_manifest(self.manifest, records)
