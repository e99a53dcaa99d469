"""Argument validators shared by every package of the family (public).

One check, one message, wherever a count, a seed, a band index, a timeout or a failure
policy is taken: ``{owner}: {name} must be ..., got ...``.

Example:
    >>> from pipekit.validate import check_int
    >>> check_int("MyOp", "width", 8, minimum=1)
    8
"""

from ._validate import (
    check_bool as check_bool,
    check_callable as check_callable,
    check_index as check_index,
    check_int as check_int,
    check_on_error as check_on_error,
    check_timeout as check_timeout,
    renamed_arguments as renamed_arguments,
)

__all__ = [
    "check_bool",
    "check_callable",
    "check_index",
    "check_int",
    "check_on_error",
    "check_timeout",
    "renamed_arguments",
]
