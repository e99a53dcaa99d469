"""Trained pipelines on disk: ``pipeline.yaml`` + ``weights.eqx`` + a manifest with both hashes."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

import pipekit as pk

__all__ = ["LoadError", "SaveError", "load", "save", "weights_hash"]

logger = logging.getLogger("pipekit_jax.save")

FORMAT = "pipekit_jax.saved_pipeline"
FORMAT_VERSION = 1
PIPELINE, WEIGHTS, MANIFEST = "pipeline.yaml", "weights.eqx", "manifest.json"


class LoadError(pk.PipekitError, ValueError):
    """A saved pipeline is incomplete, edited or corrupt; the message names the file."""


class SaveError(pk.PipekitError, FileExistsError):
    """:func:`save` refused its target: it exists and is not an earlier save to replace."""


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


def _is_save(directory: Path) -> bool:
    """Whether ``directory`` holds a manifest written by :func:`save` (its format tag)."""
    manifest = directory / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return False
    try:
        body = json.loads(manifest.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("format") == FORMAT


def _check_target(target: Path, overwrite: bool) -> bool:
    """Refuse a target save may not replace; true when it holds an earlier save to replace.

    Only what :func:`save` wrote is ever replaced: an empty directory, or a directory
    holding exactly an earlier save's three files (its manifest names the format).
    """
    if target.is_symlink():
        raise SaveError(
            f"pipekit_jax.save: {target} is a symbolic link; save writes a directory in its "
            "place and replaces neither the link nor what it points to. Pass the real path, "
            "or another one."
        )
    if not target.exists():
        return False
    if not target.is_dir():
        raise SaveError(
            f"pipekit_jax.save: {target} is a file, not a directory; save writes a directory "
            f"of {PIPELINE}, {WEIGHTS} and {MANIFEST} and never replaces a file (whatever "
            "overwrite says). Pass a directory path, e.g. "
            f"{target.with_name(target.stem + '_saved')}."
        )
    if not overwrite:
        raise SaveError(
            f"pipekit_jax.save: {target} exists; pass overwrite=True to replace an earlier "
            "save there"
        )
    entries = sorted(os.listdir(target))
    if not entries:
        return False  # an empty directory: nothing to lose, renamed over as it is
    if not _is_save(target):
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise SaveError(
            f"pipekit_jax.save: {target} is not an earlier pipekit_jax save (no {MANIFEST} "
            f"of format {FORMAT!r}) and is not empty: it holds {shown}. overwrite=True "
            "replaces only an earlier save and never deletes what save did not write; "
            "choose another directory or empty this one."
        )
    extra = [e for e in entries if e not in (PIPELINE, WEIGHTS, MANIFEST)]
    if extra:
        raise SaveError(
            f"pipekit_jax.save: {target} holds an earlier save plus files save did not "
            f"write ({', '.join(extra)}); overwrite=True replaces the whole directory and "
            "never deletes those. Move them out of the directory, or save elsewhere."
        )
    return True


def _remove_save(directory: Path) -> None:
    """Delete an earlier save moved aside: its three files, then the (then empty) folder."""
    for name in (PIPELINE, WEIGHTS, MANIFEST):
        (directory / name).unlink(missing_ok=True)
    try:
        os.rmdir(directory)
    except OSError as err:  # a file appeared in it meanwhile: keep it, say where
        logger.warning(
            "pipekit_jax.save: kept %s, the replaced save's folder, because it is not "
            "empty (%s); its files were not written by save",
            directory,
            err,
        )


def save(op: pk.Operator, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``op`` as ``directory/{pipeline.yaml, weights.eqx, manifest.json}``.

    ``pipeline.yaml`` is :func:`pipekit.dumps_yaml` (the config: constructor arguments,
    networks built from config with their seed); ``weights.eqx`` the array leaves,
    ``eqx.tree_serialise_leaves``; ``manifest.json`` the ``config_hash``, the
    ``weights_hash`` (SHA-256 of ``weights.eqx``) and the file sizes. The directory is
    written under a temporary name beside it and renamed into place, so a failure leaves
    nothing behind and readers never see half a save.

    ``overwrite=True`` replaces only what save wrote: an earlier save (a directory holding
    exactly the three files, its manifest naming this format) or an empty directory. The
    earlier save is renamed aside, the new one renamed into place (the old one is put back
    if that fails), then the old one's three files are deleted. Anything else at
    ``directory`` (a file, a link, a folder of other files, an earlier save with a file of
    yours added) is refused before anything is written: save never deletes what it did not
    write.

    Raises:
        pipekit.ConfigError: ``op`` holds a step that cannot be written as YAML.
        SaveError: (a ``FileExistsError``) ``directory`` exists and ``overwrite`` is false,
            or it holds something other than an earlier save; the message names it.
    """
    if not isinstance(op, pk.Operator):
        raise TypeError(f"pipekit_jax.save expects a pipekit Operator, got {type(op).__name__}")
    target = Path(directory)
    replace_earlier = _check_target(target, overwrite)
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
        if replace_earlier:  # move the earlier save aside (onto an empty dir), then swap
            old = Path(
                tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old")
            )
            try:
                os.replace(target, old)
            except BaseException:
                os.rmdir(old)
                raise
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)  # put the earlier save back
                raise
            _remove_save(old)
        else:  # nothing there, or an empty directory (a rename replaces it)
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
