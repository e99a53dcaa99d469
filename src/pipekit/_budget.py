"""A parameter budget for the sandboxed loader: build abstractly, count, then allocate.

The sandbox bounds the YAML document, but an allow-listed constructor decides what it
allocates: ``{_target_: pipekit_jax.nn.MLP, in_features: 1, out_features: 1, width:
1000000}`` is 96 bytes of YAML asking for 10**12 float32 weights (4 TB). So the document is
first built under :func:`equinox.filter_eval_shape`, where JAX arrays are shapes only, the
array leaves of every operator are counted as it is built, and the real build runs only if
the whole tree is within ``max_parameters`` elements (issue 13, item 7). A tree that came
out of the abstract build with no JAX array in it (most pipelines: config-only operators)
*is* the real one, and is returned without running the constructors again.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax

from ._errors import YAMLLimitError
from ._state import build, format_path

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = ["DEFAULT_MAX_PARAMETERS", "build_within_budget"]

#: Default of ``loads_yaml_sandboxed(max_parameters=...)``: 10**8 array elements, 400 MB as
#: float32. The largest networks this family builds from config (``pipekit_jax.nn``'s UNet
#: and ConvNet at their widest documented settings) hold a few million; 10**8 leaves room
#: for a ResNet-152-sized model (6 * 10**7) while any machine that serves a loader can
#: allocate it. Raise it for a trusted, larger model; ``None`` disables the check.
DEFAULT_MAX_PARAMETERS = 10**8


def _own_arrays(op: Operator) -> tuple[int, int]:
    """Elements and bytes of ``op``'s array leaves, not counting nested operators'."""
    from ._operator import Operator

    leaves = jax.tree_util.tree_leaves(
        op, is_leaf=lambda x: x is not op and isinstance(x, Operator)
    )
    elements = nbytes = 0
    for leaf in leaves:
        if isinstance(leaf, Operator) or not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            continue
        n = math.prod(int(d) for d in leaf.shape)
        elements += n
        nbytes += n * leaf.dtype.itemsize
    return elements, nbytes


def _size(nbytes: int) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:,.0f} {unit}" if unit == "B" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1000  # type: ignore[assignment]
    raise AssertionError("unreachable")


def build_within_budget(
    data: Any,
    resolve: Callable[[object, str], type[Operator]],
    max_parameters: int | None,
) -> Any:
    """Build ``data`` only if its operators hold at most ``max_parameters`` array elements.

    Raises:
        YAMLLimitError: naming the operator (by document path) whose arrays took the total
            past the budget, its own size and the total, before anything is allocated.
    """
    if max_parameters is None:
        return build(data, resolve)
    if isinstance(max_parameters, bool) or not isinstance(max_parameters, int):
        raise TypeError(f"max_parameters must be an int or None, got {max_parameters!r}")
    total = [0, 0]

    def count(op: Operator, path: tuple[str | int, ...]) -> None:
        elements, nbytes = _own_arrays(op)
        total[0] += elements
        total[1] += nbytes
        if total[0] > max_parameters:
            raise YAMLLimitError(
                f"{type(op).__name__} at {format_path(path) or '<root>'} holds "
                f"{elements:,} array elements ({_size(nbytes)}), bringing the document to "
                f"{total[0]:,} ({_size(total[1])}); the sandboxed loader builds at most "
                f"{max_parameters:,} (max_parameters). Nothing was allocated: shrink the "
                "model's config, or raise max_parameters if this document is trusted"
            )

    abstract = eqx.filter_eval_shape(lambda: build(data, resolve, on_built=count))
    if _is_concrete(abstract):
        return abstract  # nothing JAX was built: constructors need not run twice
    return build(data, resolve)


def _is_concrete(tree: Any) -> bool:
    """Whether ``tree`` holds no shape placeholder or tracer, in any field (static too)."""
    stack, seen = [tree], set()
    while stack:
        node = stack.pop()
        if isinstance(node, jax.ShapeDtypeStruct | jax.core.Tracer):
            return False
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, eqx.Module):
            stack.extend(getattr(node, f.name, None) for f in dataclasses.fields(node))
        elif isinstance(node, list | tuple | set | frozenset):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
    return True
