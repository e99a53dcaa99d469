"""A/B regression: run two pipelines side by side and summarise a per-sample metric."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..parallel import Executor, Failure
from ._report import ABReport

__all__ = ["AB", "Loadable", "Mapper", "load_sample"]

logger = logging.getLogger("pipekit.diff")

#: The old name of :class:`pipekit.parallel.Executor`, the one executor contract of
#: pipekit; kept as an alias because it was public.
Mapper = Executor


@runtime_checkable
class Loadable(Protocol):
    """A sample that reads itself: ``load()`` returns the pipeline input.

    What a catalog yields (``geocatalog.CatalogItem``, ``geocatalog.GeoSlice``): a small,
    picklable reference to data, loaded where it is evaluated (in the worker under
    ``parallel=``), so ``AB(...).run(catalog.sample(100))`` runs as written. An
    ``xarray.DataArray`` qualifies too (``load()`` reads lazy data and returns itself).
    """

    def load(self) -> Any: ...


def load_sample(x: Any) -> Any:
    """The default ``AB`` loader: ``x.load()`` for a :class:`Loadable` sample, else ``x``."""
    return x.load() if isinstance(x, Loadable) and callable(x.load) else x


class _Evaluate:
    """``sample -> float(metric(old(x), new(x)))`` with ``x = loader(sample)``.

    A plain class so process pools pickle it; loading happens here, in the worker.
    """

    def __init__(
        self,
        old: Callable[[Any], Any],
        new: Callable[[Any], Any],
        metric: Any,
        loader: Callable[[Any], Any],
    ) -> None:
        self.old, self.new, self.metric, self.loader = old, new, metric, loader

    def __call__(self, sample: Any) -> float:
        x = self.loader(sample)
        return float(self.metric(self.old(x), self.new(x)))


class AB:
    """Run two pipelines on the same samples and compare their outputs with a metric.

    Arguments:
        old: the reference pipeline (any callable of one input, usually an Operator).
        new: the candidate.
        metric: ``(old_out, new_out) -> float``, e.g. an Operator taking two inputs such
            as ``pipekit_array.metrics.RMSE()``.
        parallel: optional executor (:class:`pipekit.parallel.Executor`): a
            ``pipekit.parallel`` map such as ``ProcessMap(4)``, or any object whose
            ``.map(fn, items)`` returns the results in order (``concurrent.futures``
            executors qualify). ``None`` runs serially. A sample the map returns as a
            :class:`~pipekit.parallel.Failure` (``on_error="collect"`` or
            ``"log_and_continue"``) gets a NaN metric, which the report counts as
            non-finite and above tolerance, and is logged on ``"pipekit.diff"``.
        loader: ``sample -> input``, applied to every sample before both pipelines run
            (in the worker when ``parallel`` is set). Default :func:`load_sample`: a
            sample with a ``load()`` method (:class:`Loadable`: a row of
            ``catalog.sample(100)``, a ``GeoSlice``) is loaded, anything else is the input
            as it is. Pass e.g. ``lambda item: item.load(bands=[2, 3])`` to read otherwise.

    Note:
        Report the distribution, not only the mean: "mean RMSE alone hides bimodal
        regressions" (pipekit use-case report, Case 13); hence ``multimodal`` in
        :meth:`ABReport.summary`, its histogram and :meth:`ABReport.save_histogram`.

    Example:
        >>> import numpy as np
        >>> import pipekit as pk
        >>> from pipekit.diff import AB
        >>> ab = AB(pk.Identity(), pk.Lambda(lambda x: x + 1),
        ...         metric=lambda a, b: np.abs(a - b).max())
        >>> report = ab.run({"t1": np.zeros(3), "t2": np.ones(2)})
        >>> report.sample_ids, report.values.tolist()
        (('t1', 't2'), [1.0, 1.0])
    """

    def __init__(
        self,
        old: Callable[[Any], Any],
        new: Callable[[Any], Any],
        metric: Callable[[Any, Any], Any],
        *,
        parallel: Executor | None = None,
        loader: Callable[[Any], Any] = load_sample,
    ) -> None:
        for name, fn in (("old", old), ("new", new), ("metric", metric), ("loader", loader)):
            if not callable(fn):
                raise TypeError(f"AB({name}=...) must be callable, got {type(fn).__name__}")
        if parallel is not None and not (isinstance(parallel, Executor) and callable(parallel.map)):
            raise TypeError(
                "AB(parallel=...) needs an executor (pipekit.parallel.Executor: an object "
                "with .map(fn, items), e.g. pk.parallel.ProcessMap(4)), got "
                f"{type(parallel).__name__}"
            )
        self.old, self.new, self.metric, self.parallel = old, new, metric, parallel
        self.loader = loader

    def run(
        self, samples: Iterable[Any] | Mapping[Hashable, Any], *, with_ids: bool = False
    ) -> ABReport:
        """Run both pipelines on every sample and evaluate the metric.

        Arguments:
            samples: the inputs. A mapping ``{sample_id: input}`` gives ids; so does an
                iterable of ``(sample_id, input)`` pairs with ``with_ids=True``. Otherwise
                each item is one input and ids are positions ``0..n-1``. Items go through
                ``loader`` first: ``catalog.sample(100)`` (rows that ``load()``) works as is.
            with_ids: whether the items of an iterable are ``(sample_id, input)`` pairs.

        Returns:
            An :class:`ABReport`.
        """
        if isinstance(samples, Mapping):
            pairs = list(samples.items())
        elif with_ids:
            pairs = []
            for i, item in enumerate(samples):
                if not (isinstance(item, tuple) and len(item) == 2):
                    raise ValueError(
                        f"AB.run(with_ids=True) expects (sample_id, input) pairs; item {i} is "
                        f"a {type(item).__name__}"
                    )
                pairs.append(item)
        else:
            pairs = list(enumerate(samples))
        if not pairs:
            raise ValueError("AB.run got no samples; pass a non-empty iterable of inputs")
        fn = _Evaluate(self.old, self.new, self.metric, self.loader)
        inputs = [x for _, x in pairs]
        results = list(self.parallel.map(fn, inputs)) if self.parallel else list(map(fn, inputs))
        for k, value in enumerate(results):
            if isinstance(value, Failure):
                logger.warning("AB: sample %r failed, its metric is NaN: %s", pairs[k][0],
                               value.describe())  # fmt: skip
                results[k] = float("nan")
        return ABReport(
            sample_ids=tuple(i for i, _ in pairs),
            values=np.asarray(results, dtype=np.float64),
            metric=_name(self.metric),
        )


def _name(metric: Any) -> str:
    name = getattr(metric, "__name__", None)
    return name if isinstance(name, str) and name != "<lambda>" else type(metric).__name__
