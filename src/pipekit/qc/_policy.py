"""The shared ``on_fail`` policy of QC checks: QCError, QCWarning and AbstractAssertion."""

from __future__ import annotations

import abc
import logging
import warnings
from typing import Any, get_args

import equinox as eqx

from .._errors import ConfigError, PipekitError
from .._operator import Operator
from .._types import OnFail

__all__ = ["AbstractAssertion", "QCError", "QCWarning", "check_on_fail", "logger"]

#: The logger that ``on_fail="log"`` writes to (at WARNING).
logger = logging.getLogger("pipekit.qc")

ON_FAIL_OPTIONS: tuple[str, ...] = get_args(OnFail)


class QCError(PipekitError, ValueError):
    """A QC check failed under ``on_fail="raise"``.

    Attributes:
        operator: the failing check (an Operator).
        check: a short name of what was checked, e.g. ``"shape"``.
        observed: the value seen, e.g. ``(13, 40, 48)``.
    """

    def __init__(
        self, message: str, *, operator: Any = None, check: str = "", observed: Any = None
    ) -> None:
        super().__init__(message)
        self.operator = operator
        self.check = check
        self.observed = observed


class QCWarning(UserWarning):
    """A QC check failed under ``on_fail="warn"``; carries the same attributes as QCError."""

    def __init__(
        self, message: str, *, operator: Any = None, check: str = "", observed: Any = None
    ) -> None:
        super().__init__(message)
        self.operator = operator
        self.check = check
        self.observed = observed


def check_on_fail(owner: str, on_fail: object) -> OnFail:
    """Validate an ``on_fail`` argument, naming the allowed values in the error."""
    if on_fail not in ON_FAIL_OPTIONS:
        raise ConfigError(
            f"{owner}: on_fail must be one of {list(ON_FAIL_OPTIONS)}, got {on_fail!r}; "
            "'raise' stops the pipeline with QCError, 'warn' emits a QCWarning, 'log' "
            "logs at WARNING on the 'pipekit.qc' logger"
        )
    return on_fail  # type: ignore[return-value]


class AbstractAssertion(Operator):
    """Base of the QC checks: inspect the input, apply ``on_fail`` on failure, return it as is.

    A concrete check declares an ``on_fail`` field and implements :meth:`_check`, which
    returns ``None`` when the input passes or ``(check, expectation, observed)`` when it
    fails. ``_apply`` returns the input object itself, so a check adds nothing to a
    compiled program.
    """

    on_fail: eqx.AbstractVar[OnFail]

    @abc.abstractmethod
    def _check(self, x: Any) -> tuple[str, str, Any] | None:
        """``None`` if ``x`` passes, else ``(check name, expectation, observed value)``."""

    def _apply(self, x: Any) -> Any:
        failure = type(self)._check(self, x)
        if failure is not None:
            self._fail(*failure)
        return x

    def _fail(self, check: str, expected: str, observed: Any) -> None:
        message = f"{self!r} failed: expected {expected}; observed {observed!r}"
        if self.on_fail == "raise":
            raise QCError(message, operator=self, check=check, observed=observed)
        if self.on_fail == "warn":
            warning = QCWarning(message, operator=self, check=check, observed=observed)
            # stacklevel 5: _fail <- _apply <- Operator.__call__ <- the caller's pipeline.
            warnings.warn(warning, stacklevel=5)
        else:
            logger.warning(message)
