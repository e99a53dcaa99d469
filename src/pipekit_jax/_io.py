"""Trained pipelines on disk: ``pipeline.yaml`` + ``weights.eqx`` + a manifest with both hashes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

import pipekit as pk

__all__ = ["LoadError", "load", "save", "weights_hash"]

FORMAT = "pipekit_jax.saved_pipeline"
FORMAT_VERSION = 1
PIPELINE, WEIGHTS, MANIFEST = "pipeline.yaml", "weights.eqx", "manifest.json"


class LoadError(pk.PipekitError, ValueError):
    """A saved pipeline is incomplete, edited or corrupt; the message names the file."""


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _weights_bytes(op: Any) -> bytes:
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, op)
    return buf.getvalue()


def weights_hash(op: Any) -> str:
    """``"sha256:" + hex`` of the bytes :func:`save` writes to ``weights.eqx`` for ``op``."""
    return _sha256(_weights_bytes(op))


def _manifest_bytes(body: dict[str, Any]) -> bytes:
    return (json.dumps(body, sort_keys=True, indent=1, ensure_ascii=True) + "\n").encode()


def save(op: pk.Operator, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``op`` as ``directory/{pipeline.yaml, weights.eqx, manifest.json}``.

    ``pipeline.yaml`` is :func:`pipekit.dumps_yaml` (the config: constructor arguments,
    networks built from config with their seed); ``weights.eqx`` the array leaves,
    ``eqx.tree_serialise_leaves``; ``manifest.json`` the ``config_hash``, the
    ``weights_hash`` (SHA-256 of ``weights.eqx``) and the file sizes. The directory is
    written under a temporary name beside it and renamed into place, so a failure leaves
    nothing behind and readers never see half a save.

    Raises:
        pipekit.ConfigError: ``op`` holds a step that cannot be written as YAML.
        FileExistsError: ``directory`` exists and ``overwrite`` is false.
    """
    if not isinstance(op, pk.Operator):
        raise TypeError(f"pipekit_jax.save expects a pipekit Operator, got {type(op).__name__}")
    target = Path(directory)
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"pipekit_jax.save: {target} exists; pass overwrite=True to replace it"
        )
    text = pk.dumps_yaml(op).encode("utf-8")
    weights = _weights_bytes(op)
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config_hash": pk.config_hash(op),
        "weights_hash": _sha256(weights),
        "files": {PIPELINE: len(text), WEIGHTS: len(weights)},
        "jax": jax.__version__,
        "equinox": eqx.__version__,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        for name, data in ((PIPELINE, text), (WEIGHTS, weights), (MANIFEST, _manifest_bytes(body))):
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        if target.exists():  # overwrite: move the old one aside first, drop it after
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _read(directory: Path, name: str) -> bytes:
    try:
        return (directory / name).read_bytes()
    except FileNotFoundError:
        raise LoadError(
            f"pipekit_jax.load: {directory / name} is missing; a saved pipeline holds "
            f"{PIPELINE}, {WEIGHTS} and {MANIFEST} (written by pipekit_jax.save)"
        ) from None


def load(
    directory: str | os.PathLike[str], allowed: Iterable[str | type] | None = None
) -> pk.Operator:
    """Rebuild a pipeline written by :func:`save`, checking both hashes first.

    The skeleton is built from ``pipeline.yaml`` (with :func:`pipekit.loads_yaml_sandboxed`
    when ``allowed`` is given: only those targets, nothing imported; otherwise
    :func:`pipekit.loads_yaml`), its ``config_hash`` must equal the manifest's, the SHA-256
    of ``weights.eqx`` must equal the manifest's ``weights_hash``, and only then are the
    weights read into the skeleton (``eqx.tree_deserialise_leaves``).

    Raises:
        LoadError: a file is missing, or ``pipeline.yaml`` / ``weights.eqx`` does not match
            the manifest (edited or corrupt); the message names the file.
        pipekit.UntrustedTargetError: ``allowed`` refuses a target of the YAML.
    """
    root = Path(directory)
    try:
        manifest = json.loads(_read(root, MANIFEST))
    except json.JSONDecodeError as err:
        raise LoadError(f"pipekit_jax.load: {root / MANIFEST} is not JSON: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LoadError(f"pipekit_jax.load: {root / MANIFEST} is not a {FORMAT} manifest")
    text = _read(root, PIPELINE).decode("utf-8")
    skeleton = (pk.loads_yaml(text) if allowed is None
                else pk.loads_yaml_sandboxed(text, allowed))  # fmt: skip
    if pk.config_hash(skeleton) != manifest.get("config_hash"):
        raise LoadError(
            f"pipekit_jax.load: {root / PIPELINE} does not match the manifest's config_hash "
            f"({pk.config_hash(skeleton)} != {manifest.get('config_hash')}): the YAML was "
            "edited after saving. Save the pipeline again instead of editing its YAML."
        )
    weights = _read(root, WEIGHTS)
    if _sha256(weights) != manifest.get("weights_hash"):
        raise LoadError(
            f"pipekit_jax.load: {root / WEIGHTS} does not match the manifest's weights_hash "
            f"({_sha256(weights)} != {manifest.get('weights_hash')}): the file is corrupt "
            "or was replaced."
        )
    try:
        return eqx.tree_deserialise_leaves(io.BytesIO(weights), skeleton)
    except (ValueError, RuntimeError, OSError) as err:
        raise LoadError(
            f"pipekit_jax.load: {root / WEIGHTS} does not fit the pipeline of {PIPELINE}: {err}"
        ) from err
