"""The Operator contract: an equinox Module that is config, task, function and pytree at once."""

from __future__ import annotations

import abc
import copy
import inspect
from typing import Any, ClassVar

import equinox as eqx

from . import _registry
from ._errors import ConfigError
from ._jsonconfig import from_json_safe, to_json_safe
from ._node import Node
from ._state import TARGET, build, encode, init_params

__all__ = ["Operator"]


class Operator(eqx.Module):
    """Base class of every pipeline step.

    Subclasses are equinox Modules that implement ``_apply``. Their constructor arguments
    are their *config*: each is kept as a field of the same name (static and hashable:
    numbers, strings, tuples) or is a nested Operator. Array fields are *parameters*
    (trainable leaves) and are never part of the config.

    One object then is at once:

    - a function, eager on NumPy or traced under ``eqx.filter_jit`` / ``filter_vmap`` /
      ``jax.grad`` (``__call__`` adds no work on the traced path);
    - config: :attr:`state` / :meth:`get_config` / :meth:`from_state`, YAML via
      :func:`pipekit.dumps_yaml` and :func:`pipekit.loads_yaml`, a :func:`pipekit.config_hash`;
    - a graph builder: called on :class:`pipekit.Input` nodes it returns a node;
    - a pytree: ``pickle``, ``jax.tree`` and optax see its array leaves.

    Every concrete subclass registers itself under its public import path
    (``geotoolz.indices.NDVI``) when the class is created. Set the class variable
    ``forbid_in_yaml = True`` on operators that hold a Python callable: dumping them and
    every loader refuse them. Where that depends on the config (``pipekit_array.ModelOp``
    is YAML-able around a YAML-able Operator, not around a function), override
    :meth:`_forbidden_in_yaml` instead. Set ``side_effects = True`` on operators whose
    config names a place they write to (``geotoolz.io.WriteCOG``'s path template): trusted
    YAML (:func:`pipekit.loads_yaml`) builds them, the sandboxed loader never does, even
    when they are allow-listed, and :func:`pipekit.registry.public_operators` leaves them
    out of allow-lists.

    Example:
        >>> import numpy as np
        >>> import pipekit as pk
        >>> class AddOne(pk.Operator):
        ...     def _apply(self, x):
        ...         return x + 1
        >>> (AddOne() | AddOne())(np.zeros(2))
        array([2., 2.])
    """

    forbid_in_yaml: ClassVar[bool] = False
    side_effects: ClassVar[bool] = False
    _takes_key: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._takes_key = "key" in inspect.signature(cls._apply).parameters
        _registry.register(cls)

    @abc.abstractmethod
    def _apply(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the operator on concrete (NumPy) or traced (JAX) inputs."""

    def __call__(self, *args: Any, key: Any = None, **kwargs: Any) -> Any:
        """Apply the operator, or build a graph node when called on :class:`Input` s/nodes.

        ``key`` is the random key of random operators: a JAX PRNG key on the JAX path or a
        ``numpy.random.Generator`` on the NumPy path.
        """
        # Methods are looked up on the class: ``self._apply`` would make equinox build a
        # bound-method Module on every access (~40 µs), which dominates eager pipelines.
        cls = type(self)
        for a in (*args, *kwargs.values()):
            if isinstance(a, Node):
                if key is not None:
                    raise TypeError(
                        f"{cls.__name__}: a key cannot be bound while building a graph; "
                        "pass key= when calling the Graph"
                    )
                return Node(self, args, kwargs)
        if key is None:
            return cls._apply(self, *args, **kwargs)
        if not cls._takes_key:
            raise TypeError(
                f"{cls.__name__} is deterministic and takes no key; call it without key="
            )
        return cls._apply(self, *args, key=key, **kwargs)

    # -- config ---------------------------------------------------------------------------

    def _forbidden_in_yaml(self) -> bool:
        """Whether *this* operator's own config holds a Python object, not plain config.

        Default: the class flag ``forbid_in_yaml``. Override it where the answer depends on
        the instance; a nested operator answers for itself. :func:`pipekit.dumps_yaml` and
        :func:`pipekit.config_hash` ask every operator of a tree, and every loader asks each
        operator it built (after the class checks), so a ``True`` here is refused everywhere.
        """
        return type(self).forbid_in_yaml

    @property
    def state(self) -> dict[str, Any]:
        """The config as plain data: ``{"_target_": import path, **constructor arguments}``.

        Nested operators appear as nested states; tuples become lists.
        """
        cls = type(self)
        out: dict[str, Any] = {TARGET: _registry.target_name(cls)}
        objects = type(self)._forbidden_in_yaml(self)  # a forbidden op may hold objects
        for name in init_params(cls):
            try:
                value = getattr(self, name)
            except AttributeError:
                raise ConfigError(
                    f"{cls.__name__} takes constructor argument {name!r} but keeps no field "
                    f"of that name; an Operator must keep each constructor argument as a "
                    f"field of the same name (its config)"
                ) from None
            out[name] = encode(value, f"{cls.__name__}.{name}", allow_objects=objects)
        return out

    def get_config(self) -> dict[str, Any]:
        """:attr:`state` as strict JSON data: a copy, safe to mutate or ``json.dumps``.

        Non-finite floats (a NaN fill value) are spelled ``"nan"``, ``"inf"``, ``"-inf"``,
        since JSON has no such numbers; :meth:`from_state` reads them back for arguments
        annotated ``float``, so ``from_state(json.loads(json.dumps(op.get_config(),
        allow_nan=False)))`` has the same :func:`pipekit.config_hash` as ``op``.
        """
        return to_json_safe(copy.deepcopy(self.state))

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Operator:
        """Rebuild an operator from :attr:`state` (trusted input: see :func:`loads_yaml`)."""
        if not isinstance(state, dict) or TARGET not in state:
            raise ConfigError(
                f"{cls.__name__}.from_state expects a dict with a '_target_' key, "
                f"got {type(state).__name__}"
            )
        op = build(from_json_safe(state), _registry.resolve_trusted)
        if not isinstance(op, cls):
            raise ConfigError(
                f"{cls.__name__}.from_state got a state for {type(op).__name__} "
                f"({state[TARGET]!r}); call Operator.from_state to accept any operator"
            )
        return op

    # -- composition and display ------------------------------------------------------------

    def __or__(self, other: Operator) -> Operator:
        """``a | b`` is ``Sequential([a, b])``; Sequentials on either side are flattened."""
        from ._sequential import Sequential

        if not isinstance(other, Operator):
            return NotImplemented
        left = self.ops if isinstance(self, Sequential) else (self,)
        right = other.ops if isinstance(other, Sequential) else (other,)
        return Sequential([*left, *right])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_short(getattr(self, k))}" for k in init_params(type(self)))
        return f"{type(self).__name__}({args})"


def _short(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"<array {value.dtype}{list(value.shape)}>"
    if callable(value) and not isinstance(value, Operator):
        return getattr(value, "__qualname__", None) or repr(value)
    return repr(value)
