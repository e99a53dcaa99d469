"""Ensemble: N same-architecture members with stacked parameters, evaluated with ``jax.vmap``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PyTree

import pipekit as pk

from ._stacked import Stack

__all__ = ["Ensemble"]


def _config(owner: str, i: int, member: Any) -> dict[str, Any]:
    """The member's config without its ``seed`` (members may differ in that only)."""
    if not isinstance(member, pk.Operator):
        raise pk.ConfigError(
            f"{owner}(members): every member must be a pipekit Operator built from config "
            f"(e.g. pipekit_jax.nn.ConvNet(..., seed=i)); members[{i}] is a "
            f"{type(member).__name__}"
        )
    try:
        pk.config_hash(member)  # YAML-able: its config rebuilds it
    except pk.ConfigError as err:
        raise pk.ConfigError(
            f"{owner}(members): members[{i}] ({type(member).__name__}) is not YAML-able "
            f"config, which an Ensemble's config is made of: {err}"
        ) from err
    state = member.state
    state.pop("seed", None)
    return state


def _check_members(members: Sequence[Any]) -> None:
    if isinstance(members, pk.Operator) or not isinstance(members, Sequence) or not members:
        raise pk.ConfigError(
            "Ensemble(members) expects a non-empty list of operators of one architecture, "
            f"got {members!r}"
        )
    first = _config("Ensemble", 0, members[0])
    first_leaves = jax.tree.leaves(eqx.filter(members[0], eqx.is_array))
    if not first_leaves:
        raise pk.ConfigError(
            f"Ensemble(members): members[0] ({type(members[0]).__name__}) has no array leaves "
            "(parameters) to stack; an ensemble is of models with weights"
        )
    for i, member in enumerate(members[1:], start=1):
        config = _config("Ensemble", i, member)
        if type(member) is not type(members[0]) or config != first:
            diff = sorted(k for k in {*config, *first} if config.get(k) != first.get(k))
            described = ", ".join(f"{k}: {first.get(k)!r} vs {config.get(k)!r}" for k in diff)
            raise pk.ConfigError(
                "Ensemble(members): every member must have one architecture, the config of "
                f"members[0] apart from its seed; members[{i}] differs in {described}"
            )
        leaves = jax.tree.leaves(eqx.filter(member, eqx.is_array))
        if [(a.shape, a.dtype) for a in leaves] != [(a.shape, a.dtype) for a in first_leaves]:
            raise pk.ConfigError(
                f"Ensemble(members): members[{i}]'s array leaves differ in shape or dtype from "
                "members[0]'s (same config, other weights: were they cast or replaced?)"
            )


class Ensemble(pk.Operator):
    """N members of one architecture, their parameters stacked, evaluated with ``jax.vmap``.

    Deep ensembles (Lakshminarayanan et al., 2017, arXiv:1612.01474): members that differ
    only in their initialisation seed (or training) give a predictive mean and a spread.
    For member outputs ``y_1 ... y_N`` (elementwise):

    ``mean = (1/N) sum_i y_i``,   ``sigma = sqrt((1/N) sum_i (y_i - mean)^2)``

    (population std, ``ddof=0``, as ``numpy.std``). Calling the ensemble returns the mean;
    :meth:`predict_with_uncertainty` returns ``{"mean": ..., "sigma": ...}``, which is what
    ``pipekit_array.ModelOp(ensemble, method="predict_with_uncertainty")`` followed by
    ``pipekit_array.MeanScalar(field="sigma")`` scores (active learning, Case 10).

    Config: ``members``, each a YAML-able operator with the config of ``members[0]`` apart
    from its ``seed`` (checked at construction, naming the differing arguments). YAML
    holds the member list, so an untrained ensemble rebuilds identical weights; the
    parameters are one array leaf per member parameter, stacked on a leading axis of size
    N, which optax trains and ``eqx.tree_serialise_leaves`` saves. The ``members`` field
    keeps each member's config only (its arrays replaced by ``None``); :meth:`member`
    rebuilds member ``i`` with its current weights. On NumPy input it evaluates with
    ``jax.numpy`` and returns NumPy.

    Built on :class:`pipekit_jax.Stack` (one stacked-parameters mechanism): ``stack``
    holds the members' weights on ``members[0]``'s architecture and evaluates them in one
    ``jax.vmap``; ``stacked`` is its template. The Ensemble adds what a plain Stack cannot
    hold: members whose configs differ in ``seed`` (a Stack's members share one config),
    and the mean / sigma reductions.

    Args:
        members: the member operators, e.g. ``[nn.ConvNet(13, 4, seed=s) for s in
            range(5)]``; :meth:`from_seeds` builds that list from one member.

    Example:
        >>> import numpy as np
        >>> from pipekit_jax import Ensemble, nn
        >>> ens = Ensemble.from_seeds(nn.MLP(3, 1, width=8), seeds=[0, 1, 2])
        >>> out = ens.predict_with_uncertainty(np.ones((4, 3), np.float32))
        >>> out["mean"].shape, out["sigma"].shape, len(ens)
        ((4, 1), (4, 1), 3)
    """

    members: tuple[pk.Operator, ...]
    stack: Stack

    def __init__(self, members: Sequence[pk.Operator]) -> None:
        _check_members(members)
        members = tuple(members)
        self.members = tuple(eqx.filter(m, eqx.is_array, inverse=True) for m in members)
        # The members differ only in their seed (config, kept above) and their weights, so
        # member i's weights on members[0]'s static part is member i for the stack: a Stack
        # of those is the one stacked-parameters mechanism (vmap over a leading axis).
        # (JAX leaves, so the stack evaluates with jax.vmap also on NumPy input.)
        dynamic, static = eqx.partition(members[0], eqx.is_array)
        structure = jax.tree.structure(dynamic)
        weights = [[jnp.asarray(a) for a in jax.tree.leaves(eqx.filter(m, eqx.is_array))]
                   for m in members]  # fmt: skip
        self.stack = Stack([eqx.combine(jax.tree.unflatten(structure, w), static)
                            for w in weights])  # fmt: skip

    @property
    def stacked(self) -> pk.Operator:
        """The members' architecture holding every parameter stacked on a leading axis."""
        return self.stack.template

    @classmethod
    def from_seeds(cls, member: pk.Operator, seeds: Iterable[int]) -> Ensemble:
        """An ensemble of ``member``'s config with each of ``seeds`` as its ``seed``."""
        if "seed" not in getattr(member, "state", {}):
            raise pk.ConfigError(
                f"Ensemble.from_seeds(member, seeds): member must be an Operator taking a "
                f"'seed' argument (e.g. pipekit_jax.nn.ConvNet), got {type(member).__name__}"
            )
        state = member.state
        return cls([pk.Operator.from_state({**state, "seed": s}) for s in seeds])

    def __len__(self) -> int:
        return self.stack.size

    def member(self, i: int) -> pk.Operator:
        """Member ``i`` as its own operator (its config), holding its slice of the weights."""
        # Rebuilt from its config (its own seed and static fields), then given its weights.
        fresh = pk.Operator.from_state(self.members[i].state)
        leaves = [a[i] for a in jax.tree.leaves(eqx.filter(self.stacked, eqx.is_array))]
        structure = jax.tree.structure(eqx.filter(fresh, eqx.is_array))
        return eqx.combine(jax.tree.unflatten(structure, leaves), fresh)

    def _predictions(self, x: Any) -> tuple[PyTree[Array], bool]:
        """Every member's output stacked on a leading axis (one vmapped call)."""
        numpy_in = isinstance(x, np.ndarray)
        return self.stack(jnp.asarray(x) if numpy_in else x), numpy_in

    def _apply(self, x: Any) -> PyTree[Array]:
        out, numpy_in = self._predictions(x)
        return _back(jax.tree.map(lambda a: jnp.mean(a, axis=0), out), numpy_in)

    def predict_with_uncertainty(self, x: Any) -> dict[str, PyTree[Array]]:
        """``{"mean": mean over members, "sigma": std over members (ddof=0)}``."""
        out, numpy_in = self._predictions(x)
        mean = jax.tree.map(lambda a: jnp.mean(a, axis=0), out)
        sigma = jax.tree.map(lambda a: jnp.std(a, axis=0), out)
        return {"mean": _back(mean, numpy_in), "sigma": _back(sigma, numpy_in)}


def _back(tree: Any, numpy_in: bool) -> Any:
    if not numpy_in:
        return tree

    def leaf(a: Any) -> Any:
        return a if isinstance(a, jax.core.Tracer) else np.asarray(a)

    return jax.tree.map(leaf, tree)
