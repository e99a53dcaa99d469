"""The operator registry: every concrete Operator subclass, by its public import path.

Registration happens at class creation (``Operator.__init_subclass__``), so importing a
package is what makes its operators loadable from YAML. The public path drops private
module components: ``geotoolz.indices._normalized.NDVI`` registers as
``geotoolz.indices.NDVI``, which is where users import it from.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._errors import UntrustedTargetError

if TYPE_CHECKING:
    from ._operator import Operator

__all__ = [
    "FAMILY_PACKAGES",
    "allow_package",
    "lookup",
    "operator_packages",
    "public_operators",
    "register",
    "registered",
    "target_name",
]

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, type[Operator]] = {}

#: The import packages of the pipekit-geo family (names only; pipekit imports none of them).
FAMILY_PACKAGES: tuple[str, ...] = (
    "pipekit",
    "pipekit_array",
    "pipekit_jax",
    "geocatalog",
    "geopatcher",
    "geotoolz",
    "xr_toolz",
)

# Top-level packages whose modules the *trusted* loader may import to find a `_target_`.
# Anything else (``os``, ``builtins``, ``logging``...) is never imported by a loader.
_OPERATOR_PACKAGES: set[str] = set(FAMILY_PACKAGES)


def target_name(cls: type) -> str:
    """Return the public ``_target_`` of a class: module path without private parts.

    Example:
        >>> import pipekit as pk
        >>> target_name(pk.Sequential)
        'pipekit.Sequential'
    """
    parts = [p for p in cls.__module__.split(".") if not (p.startswith("_") and p != "__main__")]
    return ".".join([*parts, cls.__qualname__])


def is_abstract(cls: type) -> bool:
    """Whether ``cls`` is an abstract operator base (never instantiable from YAML)."""
    return inspect.isabstract(cls) or cls.__name__.startswith("Abstract")


def register(cls: type[Operator]) -> None:
    """Register ``cls`` under :func:`target_name`; called for every Operator subclass."""
    name = target_name(cls)
    previous = _REGISTRY.get(name)
    if previous is not None and previous is not cls:
        # Re-running a notebook cell or reloading a module redefines the class; the newest
        # definition is the one a YAML document written now refers to.
        logger.debug("re-registering operator %s", name)
    _REGISTRY[name] = cls
    _OPERATOR_PACKAGES.add(name.split(".", 1)[0])


def registered() -> dict[str, type[Operator]]:
    """Return a copy of the whole registry (abstract bases included)."""
    return dict(_REGISTRY)


def operator_packages() -> frozenset[str]:
    """Top-level packages the trusted loader may import while resolving a ``_target_``."""
    return frozenset(_OPERATOR_PACKAGES)


def allow_package(name: str) -> None:
    """Let the trusted :func:`pipekit.loads_yaml` import modules of top-level package ``name``.

    Packages that already define a registered Operator are allowed automatically; call this
    for a plugin package that is not imported yet when its YAML is loaded.
    """
    if not name.isidentifier():
        raise ValueError(f"allow_package expects a top-level package name, got {name!r}")
    _OPERATOR_PACKAGES.add(name)


def lookup(name: str) -> type[Operator] | None:
    """Return the registered class for ``name``, or ``None``; never imports anything."""
    return _REGISTRY.get(name)


def resolve_trusted(name: object, path: str) -> type[Operator]:
    """Resolve a ``_target_`` for the trusted loader, importing operator packages as needed.

    Only names that, after importing their module, are *registered Operator subclasses under
    exactly that name* resolve. Nothing is looked up with ``getattr``, so an alias such as
    ``logging.os.system`` or ``pipekit.os.system`` can never pass.
    """
    if not isinstance(name, str) or not name:
        raise UntrustedTargetError(repr(name), path, "a _target_ must be a non-empty string")
    cls = _REGISTRY.get(name)
    if cls is None:
        top = name.split(".", 1)[0]
        if top not in _OPERATOR_PACKAGES:
            raise UntrustedTargetError(
                name,
                path,
                f"{top!r} is not an operator package; loaders import only "
                f"{sorted(_OPERATOR_PACKAGES)} (use pipekit.registry.allow_package to add one)",
            )
        _import_prefix(name)
        cls = _REGISTRY.get(name)
    if cls is None:
        raise UntrustedTargetError(
            name, path, "not a registered pipekit Operator (check the spelling and the import path)"
        )
    return _check_loadable(cls, name, path)


def resolve_sandboxed(name: object, path: str, allowed: frozenset[str]) -> type[Operator]:
    """Resolve a ``_target_`` for the sandboxed loader: allow-list and registry only."""
    if not isinstance(name, str) or not name:
        raise UntrustedTargetError(repr(name), path, "a _target_ must be a non-empty string")
    if name not in allowed:
        raise UntrustedTargetError(name, path, "not in the allow-list of this loader")
    cls = _REGISTRY.get(name)
    if cls is None:
        raise UntrustedTargetError(
            name, path, "allow-listed but not registered (the sandbox imports nothing)"
        )
    if cls.side_effects:
        # An untrusted document must not choose where this process writes, whatever the
        # allow-list says.
        raise UntrustedTargetError(
            name,
            path,
            f"{cls.__name__} writes outside the process (side_effects) and is never built "
            "by the sandboxed loader; load trusted YAML with pipekit.loads_yaml, or build "
            "the writer in Python after the sandboxed pipeline",
        )
    return _check_loadable(cls, name, path)


def _check_loadable(cls: type[Operator], name: str, path: str) -> type[Operator]:
    if is_abstract(cls):
        raise UntrustedTargetError(name, path, "an abstract operator base cannot be built")
    if cls.forbid_in_yaml:
        raise UntrustedTargetError(
            name, path, f"{cls.__name__} holds a Python callable and is forbid_in_yaml"
        )
    return cls


def _import_prefix(name: str) -> None:
    parts = name.split(".")
    for stop in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:stop])
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            # Only "this module does not exist" means "try a shorter prefix"; a module that
            # exists but fails to import is a real bug and must surface.
            if err.name is not None and (module == err.name or module.startswith(err.name + ".")):
                continue
            raise
        return


def public_operators(
    include_modules: Iterable[str] | None = None,
    exclude_classes: Iterable[str | type] = (),
    *,
    include_forbidden: bool = False,
) -> dict[str, type[Operator]]:
    """Build an allow-list for :func:`pipekit.loads_yaml_sandboxed`.

    Args:
        include_modules: top-level packages or modules (``"geotoolz"``, ``"pipekit"``) whose
            operators to include; they are imported first (this runs at trusted start-up,
            never inside the sandbox). ``None`` keeps every registered package.
        exclude_classes: classes, class names (``"Lambda"``) or full targets to leave out.
        include_forbidden: keep ``forbid_in_yaml`` and ``side_effects`` classes (writers);
            the sandbox refuses both anyway. Without it, an allow-list built from this
            never names an operator that writes files.

    Returns:
        ``{target: class}``, sorted by target, of concrete, public operators.

    Example:
        >>> import pipekit as pk
        >>> allowed = pk.registry.public_operators(include_modules=["pipekit"])
        >>> "pipekit.Sequential" in allowed, "pipekit.Lambda" in allowed
        (True, False)
    """
    prefixes: list[str] | None = None
    if include_modules is not None:
        prefixes = []
        for module in include_modules:
            importlib.import_module(module)
            prefixes.append(module)
    excluded = {c if isinstance(c, str) else target_name(c) for c in exclude_classes}
    out: dict[str, type[Operator]] = {}
    for name in sorted(_REGISTRY):
        cls = _REGISTRY[name]
        if prefixes is not None and not any(
            name == p or name.startswith(p + ".") for p in prefixes
        ):
            continue
        if "<locals>" in name or any(part.startswith("_") for part in name.split(".")):
            continue
        if is_abstract(cls) or ((cls.forbid_in_yaml or cls.side_effects) and not include_forbidden):
            continue
        if name in excluded or cls.__name__ in excluded:
            continue
        out[name] = cls
    return out
