"""The shared ``on_error`` policy of QC checks: QCError, QCWarning and AbstractAssertion."""

from __future__ import annotations

import abc
import inspect
import logging
import warnings
from typing import Any

import equinox as eqx

from .._errors import PipekitError
from .._operator import Operator
from .._types import OnError
from .._validate import RENAMED_ARGUMENTS, check_on_error

__all__ = [
    "QC_ON_ERROR",
    "AbstractAssertion",
    "QCError",
    "QCWarning",
    "check_qc_on_error",
    "logger",
]

#: The logger that ``on_error="log_and_continue"`` writes to (at WARNING).
logger = logging.getLogger("pipekit.qc")

#: The values of ``on_error`` a QC check accepts: a check passes its input through, so
#: there is no result slot to ``"collect"`` a failure into.
QC_ON_ERROR: tuple[str, ...] = ("raise", "warn", "log_and_continue")


class QCError(PipekitError, ValueError):
    """A QC check failed under ``on_error="raise"``.

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
    """A QC check failed under ``on_error="warn"``; carries the same attributes as QCError."""

    def __init__(
        self, message: str, *, operator: Any = None, check: str = "", observed: Any = None
    ) -> None:
        super().__init__(message)
        self.operator = operator
        self.check = check
        self.observed = observed


def check_qc_on_error(owner: str, on_error: object) -> OnError:
    """Validate a QC check's ``on_error``: ``"raise"``, ``"warn"`` or ``"log_and_continue"``.

    ``"raise"`` stops the pipeline with QCError, ``"warn"`` emits a QCWarning and
    ``"log_and_continue"`` logs at WARNING on the ``"pipekit.qc"`` logger.
    """
    return check_on_error(owner, on_error, QC_ON_ERROR)


class AbstractAssertion(Operator):
    """Base of the QC checks: inspect the input, apply ``on_error`` on failure, return it as is.

    A concrete check declares an ``on_error`` field (validate it with
    :func:`check_qc_on_error`) and implements :meth:`_check`, which returns ``None`` when
    the input passes or ``(check, expectation, observed)`` when it fails. ``_apply``
    returns the input object itself, so a check adds nothing to a compiled program.
    """

    on_error: eqx.AbstractVar[OnError]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A check written before the rename declares the old field; say what replaced it
        # instead of equinox's bare "abstract variable not implemented".
        for old, new in RENAMED_ARGUMENTS.items():
            if old in inspect.get_annotations(cls):
                raise TypeError(
                    f"{cls.__name__} declares the field {old!r}, which was renamed {new!r}: "
                    f"declare `{new}: OnError` (values {list(QC_ON_ERROR)})"
                )
        super().__init_subclass__(**kwargs)

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
        if self.on_error == "raise":
            raise QCError(message, operator=self, check=check, observed=observed)
        if self.on_error == "warn":
            warning = QCWarning(message, operator=self, check=check, observed=observed)
            # stacklevel 5: _fail <- _apply <- Operator.__call__ <- the caller's pipeline.
            warnings.warn(warning, stacklevel=5)
        else:
            logger.warning(message)
