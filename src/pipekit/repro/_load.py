"""``load``: read an artifact, verify every byte of it, rebuild the pipeline in the sandbox."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from typing import Any

import equinox as eqx

from .._budget import DEFAULT_MAX_PARAMETERS
from .._errors import PipekitError
from .._hash import config_hash
from .._registry import lookup, operator_packages, resolve_trusted, target_name
from .._yaml import dumps_yaml, loads_yaml_sandboxed
from ._archive import check_canonical, unpack
from ._artifact import Artifact
from ._errors import ReproError
from ._manifest import ORDER, check_manifest

__all__ = ["load"]


def _json_member(members: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(members[name].decode("ascii"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ReproError(f"member {name!r} is not valid JSON: {err}") from None


def _import_operator_packages(targets: Iterable[str]) -> None:
    # Recorded targets from the family's operator packages (geotoolz, ...) are imported so
    # they register; the sandbox itself imports nothing and refuses anything else.
    packages = operator_packages()
    for name in targets:
        if lookup(name) is None and name.split(".", 1)[0] in packages:
            try:
                resolve_trusted(name, "manifest.allowed")
            except PipekitError:
                continue


def load(
    path: str | os.PathLike[str],
    *,
    allowed: Iterable[str | type] | None = None,
    max_member_bytes: int = 1 << 30,
    max_parameters: int | None = DEFAULT_MAX_PARAMETERS,
) -> Artifact:
    """Read an artifact written by :meth:`Artifact.save`, verifying all of it.

    Checks, in order: the file is a readable tar of known, regular, bounded members; the
    manifest is intact (self-hash) and lists exactly the members present; each member's
    SHA-256 and size match the manifest; the pipeline is rebuilt with
    :func:`pipekit.loads_yaml_sandboxed` under the recorded allow-list (nothing is imported
    or run beyond allow-listed, registered operators); its ``config_hash`` and YAML equal
    the recorded ones; array leaves are restored; the file is byte for byte the canonical
    packing of its members.

    Args:
        path: the artifact file.
        allowed: an allow-list to use instead of the recorded one (e.g. to narrow it).
        max_member_bytes: refuse any member larger than this.
        max_parameters: refuse a pipeline whose operators hold more array elements (see
            :func:`pipekit.loads_yaml_sandboxed`; checked before allocating).

    Raises:
        ReproError: naming the member (and expected and found hashes) that failed.

    Note:
        The manifest's hashes make the artifact tamper-*evident* against accidental or naive
        edits only: there is no signature, so whoever can rewrite the file can recompute
        every hash. Sign the file (or publish its SHA-256, e.g. in the paper) for that.
    """
    size = os.path.getsize(path)
    limit = (max_member_bytes + 1024) * len(ORDER) + 20480
    if size > limit:
        raise ReproError(
            f"{os.fspath(path)!r} is {size} bytes, over the bound of {limit} for an artifact "
            "(set by max_member_bytes)"
        )
    with open(path, "rb") as f:
        data = f.read()
    members = unpack(data, ORDER, max_member_bytes)
    manifest = check_manifest(members)
    names = manifest.get("allowed") if allowed is None else allowed
    if not isinstance(names, list | tuple | set | frozenset | dict):
        raise ReproError("member 'manifest.json' has no 'allowed' list of targets")
    allow = tuple(sorted({a if isinstance(a, str) else target_name(a) for a in names}))
    _import_operator_packages(allow)
    try:
        text = members["pipeline.yaml"].decode("utf-8")
        pipeline = loads_yaml_sandboxed(
            text, allowed=allow, max_bytes=max_member_bytes, max_parameters=max_parameters
        )
    except (UnicodeDecodeError, PipekitError) as err:
        raise ReproError(f"member 'pipeline.yaml' cannot be rebuilt: {err}") from None
    recorded, found = manifest.get("pipeline_hash"), config_hash(pipeline)
    if found != recorded:
        raise ReproError(
            f"member 'pipeline.yaml' does not match the recorded pipeline hash: expected "
            f"{recorded}, found {found}"
        )
    if dumps_yaml(pipeline) != text:
        raise ReproError("member 'pipeline.yaml' is not the canonical YAML of its pipeline")
    leaves = members.get("leaves.eqx")
    if leaves is not None:
        try:
            pipeline = eqx.tree_deserialise_leaves(io.BytesIO(leaves), like=pipeline)
        except Exception as err:  # equinox/numpy raise many types on malformed data
            raise ReproError(
                f"member 'leaves.eqx' does not fit the pipeline's array leaves: {err}"
            ) from None
    check_canonical(data, members, ORDER)
    return Artifact(
        pipeline=pipeline,
        config_yaml=text,
        pipeline_hash=found,
        inputs=_json_member(members, "inputs.json"),
        metadata=_json_member(members, "metadata.json"),
        environment=_json_member(members, "environment.json"),
        output_sha256=manifest.get("output_sha256"),
        allowed=allow,
        deps_lock=members.get("deps.lock"),
        deps_lock_source=manifest.get("deps_lock_source"),
        created=str(manifest.get("created")),
        leaves=leaves,
    )
