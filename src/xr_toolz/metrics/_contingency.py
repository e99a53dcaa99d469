"""Binary-event contingency scores of a prediction against a reference: POD, FAR, CSI, IoU.

The event is ``value >= threshold`` in both inputs. The counts (hits, misses, false
alarms) are those of ``xskillscore.Contingency(reference, prediction, [-inf, threshold,
inf], [-inf, threshold, inf], dim)``; the scores equal its ``hit_rate()``,
``false_alarm_ratio()`` and ``threat_score()``. Each is an :class:`AbstractXrMetric`, so
``dim``, ``skipna``, ``weights`` and the input checks are those of the other metrics; a
weighted count sums the weights (an area-weighted POD with ``weights="cos_lat"``).
"""

from __future__ import annotations

import abc
import functools
import math
from collections.abc import Callable
from typing import Any, ClassVar

import equinox as eqx

import pipekit as pk

from . import _ensemble_kernels as _k
from ._metrics import AbstractXrMetric

__all__ = ["CSI", "FAR", "POD", "AbstractContingencyMetric", "IoU"]


class AbstractContingencyMetric(AbstractXrMetric):
    """``(reference, prediction) -> DataArray`` score of the event ``value >= threshold``.

    Arguments:
        threshold: the event threshold, in the inputs' units (a finite number). A point is
            an event where its value is ``>= threshold`` (xskillscore's edge rule).
        dim, skipna, weights: as :class:`AbstractXrMetric`. A slice whose score has a zero
            denominator (no event observed for POD, none predicted for FAR) gives NaN.
    """

    threshold: float = eqx.field(static=True)

    def __init__(
        self,
        threshold: float,
        dim: str | tuple[str, ...] | None = None,
        *,
        skipna: bool = True,
        weights: str | None = None,
    ) -> None:
        name = type(self).__name__
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
        ):
            raise pk.ConfigError(
                f"{name}: threshold must be a finite number (the event is value >= "
                f"threshold, in the inputs' units), got {threshold!r}"
            )
        self.threshold = float(threshold)
        self._init_common(dim, skipna, weights)

    @abc.abstractmethod
    def _score(self) -> Callable[..., Any]:
        """The score kernel of :mod:`._ensemble_kernels` (``pod``, ``far`` or ``csi``)."""

    def _kernel(self) -> Callable[..., Any]:
        return functools.partial(self._score(), threshold=self.threshold)


class POD(AbstractContingencyMetric):
    r"""Probability of detection (hit rate) :math:`H / (H + M)`; 1 perfect, unitless.

    Equals ``xskillscore.Contingency(...).hit_rate()`` with edges ``[-inf, t, inf]``.
    """

    _long_name: ClassVar[str] = "probability of detection"

    def _score(self) -> Callable[..., Any]:
        return _k.pod


class FAR(AbstractContingencyMetric):
    r"""False alarm ratio :math:`F / (H + F)`; 0 perfect, unitless.

    Equals ``xskillscore.Contingency(...).false_alarm_ratio()`` (the ratio, not the false
    alarm *rate* F / (F + correct negatives)).
    """

    _long_name: ClassVar[str] = "false alarm ratio"

    def _score(self) -> Callable[..., Any]:
        return _k.far


class CSI(AbstractContingencyMetric):
    r"""Critical success index (threat score) :math:`H / (H + M + F)`; 1 perfect.

    Equals ``xskillscore.Contingency(...).threat_score()``.
    """

    _long_name: ClassVar[str] = "critical success index"

    def _score(self) -> Callable[..., Any]:
        return _k.csi


class IoU(AbstractContingencyMetric):
    r"""Intersection over union of the event masks :math:`|O \cap P| / |O \cup P|`.

    For binary events this IS the critical success index: the intersection is the hits
    and the union is hits + misses + false alarms, so ``IoU(t) == CSI(t)`` to the last bit
    (same kernel). It is a separate name because segmentation users look for "IoU" and
    forecasters for "CSI"; xskillscore has no IoU, so it is checked against
    ``threat_score()`` and against the set formula on the masks.
    """

    _long_name: ClassVar[str] = "intersection over union of the event masks"

    def _score(self) -> Callable[..., Any]:
        return _k.csi
