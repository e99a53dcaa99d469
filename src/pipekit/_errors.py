"""Error types of pipekit: one root, each class also a builtin so ``except ValueError`` works."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GraphError",
    "PipekitError",
    "UntrustedTargetError",
    "YAMLLimitError",
]


class PipekitError(Exception):
    """Root of every error pipekit raises on purpose."""


class ConfigError(PipekitError, ValueError):
    """An operator's configuration (constructor arguments or YAML state) is invalid."""


class GraphError(PipekitError, ValueError):
    """A :class:`pipekit.Graph` is malformed: unknown, unused or unreachable nodes."""


class YAMLLimitError(PipekitError, ValueError):
    """A YAML document exceeds a size, depth or node-count limit of the sandboxed loader."""


class UntrustedTargetError(PipekitError, ValueError):
    """A ``_target_`` (or YAML tag) that the loader refuses to resolve.

    Attributes:
        target: the refused name, e.g. ``"os.system"`` or ``"!!python/object/apply:os.system"``.
        path: where it sits in the document, e.g. ``"ops[3]"`` (``"<root>"`` for the top).
        reason: why it was refused.
    """

    def __init__(self, target: str, path: str, reason: str) -> None:
        self.target = target
        self.path = path or "<root>"
        self.reason = reason
        super().__init__(f"refused _target_ {target!r} at {self.path}: {reason}")
