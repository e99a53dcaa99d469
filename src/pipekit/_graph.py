"""Graph: operators wired into a DAG with named inputs and outputs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx

from ._errors import ConfigError, GraphError
from ._keys import split_key
from ._node import Input, Node
from ._operator import Operator
from ._registry import target_name
from ._state import TARGET, encode
from ._table import config_summary, format_table

__all__ = ["Graph"]

# A wired node: (operator index, positional argument names, keyword (name, source) pairs).
_Wire = tuple[int, tuple[str, ...], tuple[tuple[str, str], ...]]


class Graph(Operator):
    """A directed acyclic graph of operators with named inputs and outputs.

    Build it by calling operators on :class:`Input` nodes, then name the outputs::

        opt, sar = pk.Input("optical"), pk.Input("sar")
        fused = Stack()(MaskClouds(...)(opt), LinearToDB()(sar))
        g = pk.Graph(inputs={"optical": opt, "sar": sar}, outputs={"fused": fused})
        out = g(optical=s2_gt, sar=s1_gt)          # {"fused": ...}

    Construction validates the wiring and names the culprit: an input that no output uses,
    a node that depends on an :class:`Input` missing from ``inputs``, an output that is not
    a node. Each node runs once per call however many nodes consume it. The operators are
    the pytree children, each stored once (an operator used by two nodes shares its
    parameters), so a Graph jits into one program and differentiates like any Module.

    The config form (what YAML holds) names the nodes::

        _target_: pipekit.Graph
        inputs: [optical, sar]
        nodes:
          mask_clouds: {op: {_target_: ...}, args: [optical]}
          stack: {op: {_target_: ...}, args: [mask_clouds, sar]}
        outputs: {fused: stack}

    and ``Graph(inputs=[...], nodes={...}, outputs={...})`` accepts it directly. A node's
    ``op`` may also be the name of an earlier node, meaning "the same operator object".

    Example:
        >>> import pipekit as pk
        >>> x = pk.Input("x")
        >>> double = pk.Lambda(lambda v: 2 * v)(x)
        >>> g = pk.Graph(inputs={"x": x}, outputs={"two_x": double, "x": x})
        >>> g(x=3)
        {'two_x': 6, 'x': 3}
    """

    input_names: tuple[str, ...] = eqx.field(static=True)
    node_names: tuple[str, ...] = eqx.field(static=True)
    ops: tuple[Operator, ...]
    wiring: tuple[_Wire, ...] = eqx.field(static=True)
    output_map: tuple[tuple[str, str], ...] = eqx.field(static=True)

    def __init__(
        self,
        inputs: Mapping[str, Input] | Sequence[str],
        outputs: Mapping[str, Node | str],
        nodes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(outputs, Mapping) or not outputs:
            raise GraphError(
                f"Graph(outputs=...) expects a non-empty dict of name -> node, got {outputs!r}"
            )
        if nodes is None:
            parts = _from_symbolic(inputs, outputs)
        else:
            parts = _from_config(inputs, nodes, outputs)
        self.input_names, self.node_names, self.ops, self.wiring, self.output_map = parts

    # -- running -------------------------------------------------------------------------

    def _apply(self, *args: Any, key: Any = None, **inputs: Any) -> dict[str, Any]:
        if args:
            if len(args) == 1 and len(self.input_names) == 1 and not inputs:
                inputs = {self.input_names[0]: args[0]}
            else:
                raise TypeError(
                    "Graph takes its inputs by name: call it as "
                    f"g({', '.join(f'{n}=...' for n in self.input_names)})"
                )
        missing = [n for n in self.input_names if n not in inputs]
        unknown = [n for n in inputs if n not in self.input_names]
        if missing or unknown:
            raise TypeError(
                f"Graph inputs are {list(self.input_names)}; missing {missing}, unknown {unknown}"
            )
        env = dict(inputs)
        n_random = sum(self.ops[w[0]]._takes_key for w in self.wiring)
        keys = iter(split_key(key, n_random) if key is not None else [])
        for name, (idx, pos, kws) in zip(self.node_names, self.wiring, strict=True):
            op = self.ops[idx]
            a = [env[s] for s in pos]
            kw = {k: env[s] for k, s in kws}
            if key is not None and op._takes_key:
                kw["key"] = next(keys)
            env[name] = op(*a, **kw)
        return {out: env[src] for out, src in self.output_map}

    # -- config ----------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        first_use: dict[int, str] = {}
        nodes: dict[str, Any] = {}
        for name, (idx, pos, kws) in zip(self.node_names, self.wiring, strict=True):
            op = self.ops[idx]
            if idx in first_use:
                op_state: Any = first_use[idx]
            else:
                first_use[idx] = name
                op_state = encode(op, f"Graph.nodes.{name}", allow_objects=True)
            entry: dict[str, Any] = {"op": op_state, "args": list(pos)}
            if kws:
                entry["kwargs"] = dict(kws)
            nodes[name] = entry
        return {
            TARGET: target_name(type(self)),
            "inputs": list(self.input_names),
            "nodes": nodes,
            "outputs": dict(self.output_map),
        }

    def __repr__(self) -> str:
        outs = ", ".join(f"{k}={v}" for k, v in self.output_map)
        n = len(self.node_names)
        return f"Graph(inputs={list(self.input_names)}, nodes={n}, outputs=[{outs}])"

    def summary(self) -> str:
        """A table of the nodes in execution order: name, operator, inputs, config."""
        rows = []
        for name, (idx, pos, kws) in zip(self.node_names, self.wiring, strict=True):
            srcs = ", ".join([*pos, *(f"{k}={s}" for k, s in kws)])
            op = self.ops[idx]
            rows.append((name, type(op).__name__, srcs, config_summary(op, width=56)))
        outs = ", ".join(f"{k} <- {v}" for k, v in self.output_map)
        title = f"Graph: inputs [{', '.join(self.input_names)}] -> outputs [{outs}]"
        return format_table(title, ("node", "operator", "inputs", "config"), rows)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _from_symbolic(inputs: Any, outputs: Mapping[str, Any]):
    if not isinstance(inputs, Mapping):
        raise GraphError(
            "Graph(inputs=...) built from nodes expects a dict of name -> pk.Input, got "
            f"{type(inputs).__name__}"
        )
    for name, node in inputs.items():
        if not isinstance(node, Input):
            raise GraphError(f"Graph inputs[{name!r}] is a {type(node).__name__}, not a pk.Input")
        if node.name != name:
            raise GraphError(f"Graph inputs[{name!r}] is {node!r}; the key must be its name")
    declared = {id(node): name for name, node in inputs.items()}
    for out, node in outputs.items():
        if not isinstance(node, Node):
            raise GraphError(
                f"Graph output {out!r} is a {type(node).__name__}, not a node built by calling "
                "operators on pk.Input nodes"
            )

    order: list[Node] = []
    seen: set[int] = set()
    used_inputs: set[int] = set()
    for out, root in outputs.items():
        # Iterative post-order DFS: deep pipelines must not hit Python's recursion limit.
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if isinstance(node, Input):
                if id(node) not in declared:
                    raise GraphError(
                        f"Graph output {out!r} is not reachable from the declared inputs: it "
                        f"depends on {node!r}, which is not in inputs "
                        f"(declared: {sorted(inputs)})"
                    )
                used_inputs.add(id(node))
                continue
            if id(node) in seen and not expanded:
                continue
            if expanded:
                order.append(node)
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents()))
    unused = [name for name, node in inputs.items() if id(node) not in used_inputs]
    if unused:
        raise GraphError(f"Graph input(s) {unused} are not used by any output")

    names: dict[int, str] = {id(node): name for name, node in inputs.items()}
    counts: dict[str, int] = {}
    op_index: dict[int, int] = {}
    ops: list[Operator] = []
    wiring: list[_Wire] = []
    node_names: list[str] = []
    for node in order:
        base = _snake(type(node.op).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        name = base if n == 0 else f"{base}_{n}"
        while name in inputs:
            name += "_"
        names[id(node)] = name
        node_names.append(name)
        if id(node.op) not in op_index:
            op_index[id(node.op)] = len(ops)
            ops.append(node.op)
        pos = tuple(names[id(p)] for p in node.args)
        kws = tuple((k, names[id(p)]) for k, p in node.kwargs.items())
        wiring.append((op_index[id(node.op)], pos, kws))
    output_map = tuple((out, names[id(node)]) for out, node in outputs.items())
    return tuple(inputs), tuple(node_names), tuple(ops), tuple(wiring), output_map


def _from_config(inputs: Any, nodes: Mapping[str, Any], outputs: Mapping[str, Any]):
    if isinstance(inputs, str) or not isinstance(inputs, Sequence):
        raise GraphError(
            f"Graph(inputs=..., nodes=...) expects a list of input names, got {inputs!r}"
        )
    input_names = tuple(inputs)
    if not isinstance(nodes, Mapping):
        raise GraphError(f"Graph(nodes=...) expects a dict of name -> node entry, got {nodes!r}")
    known = set(input_names)
    op_of: dict[str, int] = {}
    ops: list[Operator] = []
    wiring: list[_Wire] = []
    for name, entry in nodes.items():
        if name in known:
            raise GraphError(f"Graph node {name!r} is defined twice (or shadows an input)")
        if not isinstance(entry, Mapping) or "op" not in entry:
            raise GraphError(f"Graph node {name!r} must be a dict with an 'op', got {entry!r}")
        extra = set(entry) - {"op", "args", "kwargs"}
        if extra:
            raise GraphError(f"Graph node {name!r} has unknown key(s) {sorted(extra)}")
        op = entry["op"]
        if isinstance(op, str):
            if op not in op_of:
                raise GraphError(
                    f"Graph node {name!r} reuses the operator of {op!r}, an unknown earlier node"
                )
            idx = op_of[op]
        elif isinstance(op, Operator):
            idx = len(ops)
            ops.append(op)
        else:
            raise ConfigError(
                f"Graph node {name!r}: 'op' must be an Operator, got {type(op).__name__}"
            )
        op_of[name] = idx
        pos = tuple(entry.get("args", ()))
        kws = tuple(dict(entry.get("kwargs", {})).items())
        for src in (*pos, *(s for _, s in kws)):
            if src not in known:
                raise GraphError(
                    f"Graph node {name!r} reads {src!r}, which is neither an input nor an earlier "
                    f"node (inputs: {list(input_names)}; nodes must be listed in execution order)"
                )
        known.add(name)
        wiring.append((idx, pos, kws))
    node_names = tuple(nodes)
    for out, src in outputs.items():
        if src not in known:
            raise GraphError(f"Graph output {out!r} names {src!r}, which is not an input or node")
    # Everything must feed an output: walk back from the outputs.
    needed = {src for src in outputs.values()}
    for name, (_, pos, kws) in reversed(list(zip(node_names, wiring, strict=True))):
        if name in needed:
            needed.update(pos)
            needed.update(s for _, s in kws)
    dead = [n for n in node_names if n not in needed]
    unused = [n for n in input_names if n not in needed]
    if dead:
        raise GraphError(f"Graph node(s) {dead} do not reach any output")
    if unused:
        raise GraphError(f"Graph input(s) {unused} are not used by any output")
    return input_names, node_names, tuple(ops), tuple(wiring), tuple(outputs.items())
