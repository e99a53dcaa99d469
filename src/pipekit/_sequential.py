"""Sequential: run operators one after the other."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from ._errors import ConfigError
from ._keys import split_key
from ._operator import Operator
from ._table import config_summary, format_table

__all__ = ["Sequential"]


class Sequential(Operator):
    """Apply ``ops`` in order, feeding each output to the next operator.

    A Sequential is itself an Operator: it nests, jits into one XLA program, trains as one
    pytree and writes to YAML as ``{_target_: pipekit.Sequential, ops: [...]}``.

    When called with ``key=``, the key is split and one sub-key goes to each random child
    (those whose ``_apply`` takes a ``key``), in order.

    Example:
        >>> import pipekit as pk
        >>> pipe = pk.Sequential([pk.Identity(), pk.Identity()])
        >>> len(pipe), pipe[1:]
        (2, Sequential([Identity()]))
    """

    ops: tuple[Operator, ...]

    def __init__(self, ops: Sequence[Operator]) -> None:
        if isinstance(ops, Operator) or not isinstance(ops, Sequence | Iterator):
            raise ConfigError(
                f"Sequential(ops) expects a list of Operators, got {type(ops).__name__}; "
                "write Sequential([op1, op2]) or op1 | op2"
            )
        ops = tuple(ops)
        for i, op in enumerate(ops):
            if not isinstance(op, Operator):
                raise ConfigError(
                    f"Sequential ops[{i}] is a {type(op).__name__}, not an Operator; wrap "
                    "plain functions in pk.Lambda(fn)"
                )
        self.ops = ops

    def _apply(self, x: Any, *, key: Any = None) -> Any:
        ops = self.ops
        if key is None:
            for op in ops:
                x = op(x)
            return x
        takers = [type(op)._takes_key for op in ops]
        keys = iter(split_key(key, sum(takers)))
        for op, takes in zip(ops, takers, strict=True):
            x = op(x, key=next(keys)) if takes else op(x)
        return x

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Iterator[Operator]:
        return iter(self.ops)

    @overload
    def __getitem__(self, index: int) -> Operator: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    def __getitem__(self, index: int | slice) -> Operator:
        if isinstance(index, slice):
            return Sequential(self.ops[index])
        return self.ops[index]

    def __repr__(self) -> str:
        if len(self.ops) <= 1:
            return f"Sequential([{', '.join(map(repr, self.ops))}])"
        body = "".join(f"\n    {op!r}," for op in self.ops)
        return f"Sequential([{body}\n])"

    def summary(self) -> str:
        """A table of the steps: index, operator class and its own config."""
        rows = [(str(i), type(op).__name__, config_summary(op)) for i, op in enumerate(self.ops)]
        title = f"Sequential: {len(self.ops)} step(s)"
        return format_table(title, ("step", "operator", "config"), rows)
