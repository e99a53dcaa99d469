"""AbstractValueAssertion: a QC check on array *values*, eager on NumPy and inside jit on JAX."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import jax
import numpy as np

from pipekit.qc import AbstractAssertion

from .._carrier import is_carrier, rewrap, values_of

__all__ = ["AbstractValueAssertion", "n_batch_of"]


def n_batch_of(x: Any) -> int:
    """How many leading batch axes ``x`` has: a stacked carrier's ``batch_shape``, else 0."""
    return len(tuple(getattr(x, "batch_shape", ()))) if is_carrier(x) else 0


class AbstractValueAssertion(AbstractAssertion):
    """Base of the value checks: one measurement, three execution paths, one ``on_error``.

    A concrete check names itself (``check``, e.g. ``"value range"``), says what it
    expects (:meth:`_expected`) and measures its input with array-API code
    (:meth:`_measure`: a boolean "failed" array and the arrays that describe what was
    seen), which runs on NumPy and on JAX tracers alike. Then:

    - **concrete input** (NumPy, or a JAX array outside any transform): the plain Python
      check of :class:`pipekit.qc.AbstractAssertion`: ``QCError`` / ``QCWarning`` / a
      WARNING on the ``"pipekit.qc"`` logger, carrying ``.operator``, ``.check`` and
      ``.observed`` (made by :meth:`_observed` from the concrete measurement);
    - **traced input** (``eqx.filter_jit``, ``jax.jit``, ``vmap``), ``on_error="raise"``:
      ``equinox.error_if`` on the values, so the compiled program raises
      ``equinox.EquinoxRuntimeError`` with a message naming the operator and the check
      (the values seen stay inside the program; run eagerly or with ``"warn"`` to see them);
    - **traced input**, ``"warn"`` / ``"log_and_continue"``: a ``jax.debug.callback`` that
      runs on the host on *every* call of the compiled program (once per sample under
      ``vmap``) with the concrete measurement, and warns or logs exactly as the eager path.
      Callbacks are asynchronous: ``jax.effects_barrier()`` waits for them.

    Nodata is never data: every check reads its input through the carrier contract
    (:func:`pipekit_array.nodata_mask`), so a fill value is not a value out of range.
    """

    #: Short name of what is checked; ``QCError.check`` and part of every message.
    check: ClassVar[str]

    @abc.abstractmethod
    def _expected(self) -> str:
        """What a passing input looks like, e.g. ``"values in [0, 10000]"``."""

    @abc.abstractmethod
    def _measure(self, x: Any) -> tuple[Any, ...] | None:
        """``(failed, *seen)``: array-API arrays (NumPy or JAX), or None if ``x`` passes statically.

        ``failed`` is boolean (any True element fails the check); ``seen`` are the arrays
        :meth:`_observed` turns into the reported value.
        """

    @abc.abstractmethod
    def _observed(self, *seen: np.ndarray) -> Any:
        """The observed value reported on failure, from the concrete ``seen`` arrays."""

    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        measured = self._measure(x)
        if measured is None:
            return None
        failed, *seen = (np.asarray(a) for a in measured)
        if not failed.any():
            return None
        return self.check, self._expected(), self._observed(*seen)

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        if not isinstance(values, jax.core.Tracer):  # concrete values: the plain Python check
            failure = self._check(x)
            if failure is not None:
                self._fail(*failure)  # same stack depth as AbstractAssertion: stacklevel holds
            return x
        measured = self._measure(x)
        if measured is None:
            return x
        failed, *seen = measured
        if self.on_error == "raise":
            message = (
                f"{self!r} failed the {self.check} check: expected {self._expected()}. The "
                f"values seen are inside the compiled program; call the check on NumPy input, "
                f"or with on_error='warn', to see them"
            )
            return rewrap(x, eqx.error_if(values, failed, message))
        jax.debug.callback(self._on_host, failed, *seen)
        return x

    def _on_host(self, failed: Any, *seen: Any) -> None:
        """The host side of the traced ``"warn"`` / ``"log_and_continue"`` paths."""
        if np.asarray(failed).any():
            self._fail(self.check, self._expected(), self._observed(*map(np.asarray, seen)))
