"""A/B regression: run two pipelines side by side and summarise a per-sample metric."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..parallel import Executor, Failure

__all__ = ["AB", "ABReport", "Mapper", "is_multimodal"]

logger = logging.getLogger("pipekit.diff")

#: The old name of :class:`pipekit.parallel.Executor`, the one executor contract of
#: pipekit; kept as an alias because it was public.
Mapper = Executor


def is_multimodal(values: Any, *, gap: float = 0.25, min_side: float = 0.1) -> bool:
    """Flag a clearly multi-modal sample by the *gap rule*.

    Sort the finite values; the sample is multi-modal when some gap between consecutive
    values exceeds ``gap`` times the range and each side of that gap holds at least
    ``min_side`` of the samples (and at least one). Fewer than 10 values never count.
    The rule catches the A/B failure mode a mean hides: most tiles unchanged, a sizeable
    group regressed by a lot. It ignores the tails of one smooth mode (a tail gap has
    few samples beyond it) and does not detect overlapping modes.

    Example:
        >>> is_multimodal([0.0] * 8 + [5.0] * 4), is_multimodal(list(range(20)))
        (True, False)
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    v = v[np.isfinite(v)]
    n = v.size
    if n < 10:
        return False
    spread = v[-1] - v[0]
    if spread <= 0:
        return False
    need = max(1, int(np.ceil(min_side * n)))
    for i in np.flatnonzero(np.diff(v) > gap * spread):
        if i + 1 >= need and n - i - 1 >= need:
            return True
    return False


@dataclass(frozen=True)
class ABReport:
    """Per-sample metric values of an :class:`AB` run.

    Attributes:
        sample_ids: one id per sample (positions ``0..n-1`` unless ids were given).
        values: the metric per sample, float64, in sample order.
        metric: the metric's name.
    """

    sample_ids: tuple[Hashable, ...]
    values: np.ndarray
    metric: str = "metric"

    def summary(
        self, tolerance: float = 0.0, *, gap: float = 0.25, min_side: float = 0.1
    ) -> dict[str, Any]:
        """Distribution of the metric: n, mean, median, p95, max, fraction above tolerance.

        Statistics are over the finite values (``n_nonfinite`` counts the others, which
        count as above tolerance: a NaN metric is a regression). ``p95`` is
        ``np.percentile(values, 95)`` (linear interpolation). ``multimodal`` applies
        :func:`is_multimodal` with ``gap`` and ``min_side``.
        """
        v = np.asarray(self.values, dtype=np.float64)
        finite = v[np.isfinite(v)]
        stat: Callable[[Callable[[np.ndarray], Any]], float] = lambda f: (  # noqa: E731
            float(f(finite)) if finite.size else float("nan")
        )
        above = ~np.isfinite(v) | (v > tolerance)
        return {
            "n": int(v.size),
            "n_nonfinite": int(v.size - finite.size),
            "mean": stat(np.mean),
            "median": stat(np.median),
            "p95": stat(lambda a: np.percentile(a, 95)),
            "max": stat(np.max),
            "tolerance": float(tolerance),
            "fraction_above_tolerance": float(above.mean()) if v.size else float("nan"),
            "multimodal": is_multimodal(finite, gap=gap, min_side=min_side),
        }

    def worst(self, k: int = 5) -> list[tuple[Hashable, float]]:
        """The ``k`` samples with the largest metric (non-finite first), as ``(id, value)``."""
        v = np.asarray(self.values, dtype=np.float64)
        order = np.argsort(np.where(np.isfinite(v), v, np.inf), kind="stable")[::-1][:k]
        return [(self.sample_ids[i], float(v[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: metric name, sample ids, values and :meth:`summary`."""
        ids = [i if isinstance(i, str | int | float | bool) else repr(i) for i in self.sample_ids]
        return {
            "metric": self.metric,
            "sample_ids": ids,
            "values": [float(x) for x in self.values],
            "summary": self.summary(),
        }

    def __str__(self) -> str:
        s = self.summary()
        modal = "yes" if s["multimodal"] else "no"
        worst = ", ".join(f"{i} ({x:.4g})" for i, x in self.worst(3))
        return "\n".join(
            [
                f"A/B report: {self.metric} over {s['n']} sample(s)",
                f"  mean {s['mean']:.4g}  median {s['median']:.4g}  p95 {s['p95']:.4g}  "
                f"max {s['max']:.4g}",
                f"  above tolerance {s['tolerance']:g}: {100 * s['fraction_above_tolerance']:.1f}%"
                f"  non-finite: {s['n_nonfinite']}  multimodal: {modal}",
                f"  worst: {worst}",
            ]
        )


class _Evaluate:
    """``sample -> float(metric(old(x), new(x)))``; a plain class so process pools pickle it."""

    def __init__(self, old: Callable[[Any], Any], new: Callable[[Any], Any], metric: Any) -> None:
        self.old, self.new, self.metric = old, new, metric

    def __call__(self, x: Any) -> float:
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

    Note:
        Report the distribution, not only the mean: "mean RMSE alone hides bimodal
        regressions" (pipekit use-case report, Case 13); hence ``multimodal`` in
        :meth:`ABReport.summary`.

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
    ) -> None:
        for name, fn in (("old", old), ("new", new), ("metric", metric)):
            if not callable(fn):
                raise TypeError(f"AB({name}=...) must be callable, got {type(fn).__name__}")
        if parallel is not None and not (isinstance(parallel, Executor) and callable(parallel.map)):
            raise TypeError(
                "AB(parallel=...) needs an executor (pipekit.parallel.Executor: an object "
                "with .map(fn, items), e.g. pk.parallel.ProcessMap(4)), got "
                f"{type(parallel).__name__}"
            )
        self.old, self.new, self.metric, self.parallel = old, new, metric, parallel

    def run(
        self, samples: Iterable[Any] | Mapping[Hashable, Any], *, with_ids: bool = False
    ) -> ABReport:
        """Run both pipelines on every sample and evaluate the metric.

        Arguments:
            samples: the inputs. A mapping ``{sample_id: input}`` gives ids; so does an
                iterable of ``(sample_id, input)`` pairs with ``with_ids=True``. Otherwise
                each item is one input and ids are positions ``0..n-1``.
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
        fn = _Evaluate(self.old, self.new, self.metric)
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
