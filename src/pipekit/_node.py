"""Symbolic nodes: what calling an Operator on :class:`Input` s returns while building a Graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import GraphError

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = ["Input", "Node"]


class Node:
    """The (symbolic) output of an operator called on other nodes; see :class:`pipekit.Graph`."""

    __slots__ = ("args", "kwargs", "op")

    def __init__(self, op: Operator, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        for i, a in enumerate(args):
            if not isinstance(a, Node):
                raise GraphError(
                    f"{type(op).__name__} was called on graph nodes and on a "
                    f"{type(a).__name__} (positional argument {i}); inside a Graph every "
                    "argument must be a node: make constants part of the operator's config"
                )
        for k, a in kwargs.items():
            if not isinstance(a, Node):
                raise GraphError(
                    f"{type(op).__name__} was called on graph nodes and on a "
                    f"{type(a).__name__} (keyword {k!r}); every argument must be a node"
                )
        self.op = op
        self.args = args
        self.kwargs = kwargs

    def parents(self) -> tuple[Node, ...]:
        """The nodes this node consumes, positional first, then keywords in order."""
        return (*self.args, *self.kwargs.values())

    def __repr__(self) -> str:
        return f"<Node {type(self.op).__name__} of {len(self.parents())} input(s)>"


class Input(Node):
    """A named graph input: ``pk.Input("optical")``.

    Example:
        >>> import pipekit as pk
        >>> x = pk.Input("x")
        >>> g = pk.Graph(inputs={"x": x}, outputs={"y": pk.Identity()(x)})
        >>> g(x=1.5)
        {'y': 1.5}
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise GraphError(
                f"Input name must be a Python identifier (it becomes a keyword argument of "
                f"the Graph call), got {name!r}"
            )
        self.name = name
        self.op = None  # type: ignore[assignment]
        self.args = ()
        self.kwargs = {}

    def __repr__(self) -> str:
        return f"Input({self.name!r})"
