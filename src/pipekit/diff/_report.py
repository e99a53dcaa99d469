"""ABReport: the per-sample metric of an A/B run, its distribution in text and as a histogram."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomic
from ._png import histogram_png

__all__ = ["ABReport", "count_clusters", "is_multimodal"]


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


def count_clusters(counts: Any) -> int:
    """Groups of non-empty histogram bins separated by empty ones (0 for no samples).

    Two or more reveal separated modes that a mean and a median blur into one number.

    Example:
        >>> count_clusters([60, 3, 0, 0, 0, 0, 0, 0, 12, 25]), count_clusters([1, 4, 2])
        (2, 1)
    """
    occupied = np.asarray(counts) > 0
    return int(occupied[0]) + int(np.sum(occupied[1:] & ~occupied[:-1])) if occupied.size else 0


@dataclass(frozen=True)
class ABReport:
    """Per-sample metric values of an :class:`AB` run.

    Attributes:
        sample_ids: one id per sample (positions ``0..n-1`` unless ids were given).
        values: the metric per sample, float64, in sample order.
        metric: the metric's name.

    Note:
        "Mean RMSE alone hides bimodal regressions" (seed Case 13): :meth:`summary` and
        ``str()`` give the quantiles and a histogram of the per-sample values, and
        :meth:`save_histogram` draws it, so a group of regressed tiles is seen, not averaged.
    """

    sample_ids: tuple[Hashable, ...]
    values: np.ndarray
    metric: str = "metric"

    def _finite(self) -> np.ndarray:
        v = np.asarray(self.values, dtype=np.float64)
        return v[np.isfinite(v)]

    def histogram(self, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of the finite values: ``np.histogram(finite, bins)``.

        ``bins`` equal-width bins from the smallest to the largest finite value (NumPy's
        rule: the last bin includes its right edge). No finite value gives ``bins`` empty
        bins over ``[0, 1]``.
        """
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"ABReport.histogram: bins must be an int >= 1, got {bins!r}")
        finite = self._finite()
        counts, edges = np.histogram(finite, bins=bins, range=None if finite.size else (0, 1))
        return counts.astype(np.int64), edges

    def summary(
        self, tolerance: float = 0.0, *, gap: float = 0.25, min_side: float = 0.1, bins: int = 10
    ) -> dict[str, Any]:
        """Distribution of the metric: quantiles, mean, p95, tolerance, histogram, modes.

        Statistics are over the finite values (``n_nonfinite`` counts the others, which
        count as above tolerance: a NaN metric is a regression). ``min``, ``p25``,
        ``median``, ``p75``, ``p95`` and ``max`` are ``np.percentile`` (linear
        interpolation). ``histogram_counts`` / ``histogram_edges`` are
        :meth:`histogram` with ``bins``; ``n_clusters`` is :func:`count_clusters` of those
        counts (2 or more: separated groups of samples); ``multimodal`` applies
        :func:`is_multimodal` with ``gap`` and ``min_side``.
        """
        v = np.asarray(self.values, dtype=np.float64)
        finite = self._finite()
        stat: Callable[[Callable[[np.ndarray], Any]], float] = lambda f: (  # noqa: E731
            float(f(finite)) if finite.size else float("nan")
        )
        above = ~np.isfinite(v) | (v > tolerance)
        counts, edges = self.histogram(bins)
        return {
            "n": int(v.size),
            "n_nonfinite": int(v.size - finite.size),
            "mean": stat(np.mean),
            "min": stat(np.min),
            "p25": stat(lambda a: np.percentile(a, 25)),
            "median": stat(np.median),
            "p75": stat(lambda a: np.percentile(a, 75)),
            "p95": stat(lambda a: np.percentile(a, 95)),
            "max": stat(np.max),
            "tolerance": float(tolerance),
            "fraction_above_tolerance": float(above.mean()) if v.size else float("nan"),
            "histogram_counts": [int(c) for c in counts],
            "histogram_edges": [float(e) for e in edges],
            "n_clusters": count_clusters(counts),
            "multimodal": is_multimodal(finite, gap=gap, min_side=min_side),
        }

    def save_histogram(self, path: str | os.PathLike[str], bins: int = 20) -> Path:
        """Draw :meth:`histogram` as a PNG bar chart at ``path`` (atomic write); return it.

        One bar per bin, left (smallest values) to right, heights proportional to the
        counts; the bin edges and counts are in the PNG's ``Description`` text chunk.
        Written with pipekit's own PNG encoder (no plotting dependency).
        """
        counts, edges = self.histogram(bins)
        title = f"A/B {self.metric} per sample, n={int(counts.sum())}"
        return write_atomic(path, histogram_png(counts, edges, title))

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
        counts = " ".join(str(c) for c in s["histogram_counts"])
        lo, hi = s["histogram_edges"][0], s["histogram_edges"][-1]
        return "\n".join(
            [
                f"A/B report: {self.metric} over {s['n']} sample(s)",
                f"  min {s['min']:.4g}  p25 {s['p25']:.4g}  median {s['median']:.4g}  "
                f"p75 {s['p75']:.4g}  p95 {s['p95']:.4g}  max {s['max']:.4g}  "
                f"mean {s['mean']:.4g}",
                f"  histogram ({len(s['histogram_counts'])} bins, {lo:.4g} to {hi:.4g}): "
                f"{counts}  clusters: {s['n_clusters']}",
                f"  above tolerance {s['tolerance']:g}: {100 * s['fraction_above_tolerance']:.1f}%"
                f"  non-finite: {s['n_nonfinite']}  multimodal: {modal}",
                f"  worst: {worst}",
            ]
        )
