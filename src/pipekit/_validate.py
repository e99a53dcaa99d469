"""Argument validators shared by pipekit's executors, QC checks and A/B runs.

One place for the checks that ``parallel``, ``qc`` and ``diff`` (and geocatalog's
``CatalogPipeline``) all make, so that the same mistake gets the same teaching message
everywhere: the owner and argument, what was expected, what came, and the fix.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, get_args

import numpy as np

from ._errors import ConfigError
from ._types import OnError

__all__ = [
    "ON_ERROR_VALUES",
    "RENAMED_ARGUMENTS",
    "check_bool",
    "check_callable",
    "check_index",
    "check_int",
    "check_on_error",
    "check_positive_int",
    "check_timeout",
    "renamed_arguments",
]

#: Every value of :data:`pipekit._types.OnError`, in its order.
ON_ERROR_VALUES: tuple[str, ...] = get_args(OnError)

#: Old spellings of values of ``on_error`` and the value that replaced each.
_RENAMED_VALUES = {"log": "log_and_continue"}

#: Config arguments that were renamed: old name -> new name (named in construction errors,
#: also when a YAML document still uses the old key).
RENAMED_ARGUMENTS: dict[str, str] = {"on_fail": "on_error"}

_F = TypeVar("_F", bound=Callable[..., Any])


def check_on_error(owner: str, value: object, allowed: Sequence[str]) -> OnError:
    """Return ``value`` if it is one of ``allowed`` (a subset of ``OnError``), else raise.

    The old value ``"log"`` gets an error naming ``"log_and_continue"``, its new spelling.
    """
    if isinstance(value, str) and value in allowed:
        return value  # type: ignore[return-value]
    options = ", ".join(map(repr, allowed))
    if isinstance(value, str) and value in _RENAMED_VALUES:
        new = _RENAMED_VALUES[value]
        raise ConfigError(
            f"{owner}(on_error={value!r}): {value!r} was renamed {new!r}; pass "
            f"on_error={new!r} (allowed: {options})"
        )
    raise ConfigError(f"{owner}(on_error) expects one of {options}, got {value!r}")


def check_int(
    owner: str,
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    allow_none: bool = False,
    hint: str = "",
) -> int | None:
    """``value`` as an int (``>= minimum`` when given; ``None`` too where ``allow_none``).

    The one integer check of the family: counts (``n_workers``, ``batch_size``, ``k``),
    sizes (``width``) and seeds. bool is refused although it is an int subclass: ``True``
    workers is a bug, not a count. The message reads ``{owner}: {name} must be ...``.
    """
    if allow_none and value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or (minimum is not None and value < minimum)
    ):
        expected = "an int" if minimum is None else f"an int >= {minimum}"
        if allow_none:
            expected = f"None or {expected}"
        raise ConfigError(f"{owner}: {name} must be {expected}, got {value!r}{hint}")
    return int(value)


def check_index(owner: str, name: str, value: object) -> int:
    """A band (or axis) index: an int, negative counting from the end; range checked later.

    The range needs the data (how many bands), so operators check it when called.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{owner}: {name} must be a band index (int), got {value!r}")
    return int(value)


def check_positive_int(owner: str, name: str, value: object, *, allow_none: bool = False) -> None:
    """A count such as ``n_workers``: :func:`check_int` with ``minimum=1``."""
    check_int(owner, name, value, minimum=1, allow_none=allow_none)


def check_timeout(owner: str, value: object) -> float | None:
    """``timeout``: ``None`` (no limit) or a finite number of seconds > 0, as a float."""
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:  # type: ignore[arg-type]
        raise ConfigError(
            f"{owner}(timeout) expects None or a number of seconds > 0 per item, got {value!r}"
        )
    return float(value)  # type: ignore[arg-type]


def check_bool(owner: str, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{owner}({name}) expects a bool, got {value!r}")


def check_callable(owner: str, value: object) -> None:
    """``owner`` names the call, e.g. ``"ThreadMap.map(fn)"``."""
    if not callable(value):
        raise ConfigError(f"{owner} expects a callable, got {type(value).__name__}")


def renamed_arguments(init: _F) -> _F:
    """Wrap an ``__init__`` so that an old keyword (``on_fail=``) raises naming the new one.

    Python's own "unexpected keyword argument" does not say what replaced it; this does.
    """

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        for old, new in RENAMED_ARGUMENTS.items():
            if old in kwargs:
                value = kwargs[old]
                if isinstance(value, str):
                    value = _RENAMED_VALUES.get(value, value)
                raise TypeError(
                    f"{type(self).__name__}: argument {old}= was renamed {new}=; pass "
                    f"{new}={value!r} instead"
                )
        init(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
