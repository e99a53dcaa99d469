"""Plain-text tables for ``summary()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = ["config_summary", "format_table"]


def config_summary(op: Operator, width: int = 72) -> str:
    """One line of an operator's config; nested operators are shown by class name."""
    from ._operator import Operator
    from ._state import init_params

    parts = []
    for name in init_params(type(op)):
        # Containers such as Graph keep their config in another form; fall back to state.
        value = getattr(op, name) if hasattr(op, name) else op.state[name]
        if isinstance(value, Operator):
            text = f"{type(value).__name__}(...)"
        elif isinstance(value, tuple | list) and value and isinstance(value[0], Operator):
            text = f"[{len(value)} ops]"
        elif callable(value):
            text = getattr(value, "__qualname__", repr(value))
        else:
            text = repr(value)
        parts.append(f"{name}={text}")
    line = ", ".join(parts)
    return line if len(line) <= width else line[: width - 3] + "..."


def format_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns under a title and a header rule."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [title, fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row).rstrip() for row in rows]
    return "\n".join(lines)
