"""Recorded inputs: ``<stem>_uri`` / ``<stem>_sha256`` pairs, and checking them on rerun."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._errors import ReproError
from ._hashing import file_sha256, normalise_sha256

__all__ = ["input_hashes", "input_uris", "local_path", "verify_input"]

URI, SHA = "_uri", "_sha256"


def local_path(uri: str) -> Path | None:
    """The local file a URI names (a bare path or ``file://``), or ``None`` for remote URIs."""
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    if "://" in uri:
        return None
    return Path(uri)


def input_uris(inputs: Mapping[str, Any]) -> dict[str, str]:
    """``{stem: uri}`` for every ``<stem>_uri`` key, in recorded order."""
    out: dict[str, str] = {}
    for key, value in inputs.items():
        if key.endswith(URI):
            if not isinstance(value, str):
                raise ReproError(f"input {key!r} must be a string URI, got {type(value).__name__}")
            out[key.removesuffix(URI)] = value
    return out


def input_hashes(inputs: Mapping[str, Any]) -> dict[str, str]:
    """``{stem: "sha256:..."}`` for every ``<stem>_sha256`` key; each needs its ``<stem>_uri``."""
    out: dict[str, str] = {}
    for key, value in inputs.items():
        if key.endswith(SHA):
            stem = key.removesuffix(SHA)
            if stem + URI not in inputs:
                raise ReproError(
                    f"input hash {key!r} has no URI: add {stem + URI!r} naming the file it hashes"
                )
            out[stem] = normalise_sha256(value, f"input {key!r}")
    return out


def verify_input(
    stem: str,
    uri: str,
    expected: str,
    read_bytes: Callable[[str], bytes] | None,
) -> None:
    """Hash the bytes behind ``uri`` and compare them with the recorded ``expected`` hash."""
    path = local_path(uri)
    if read_bytes is not None:
        found = "sha256:" + hashlib.sha256(read_bytes(uri)).hexdigest()
    elif path is not None:
        if not os.path.isfile(path):
            raise ReproError(f"input {stem!r}: {uri!r} is not a file on this machine")
        found = file_sha256(path)
    else:
        raise ReproError(
            f"input {stem!r}: cannot verify remote {uri!r} against the recorded {expected}; "
            "pass read_bytes=<function uri -> bytes> to rerun, or verify_inputs=False to "
            "run without the check"
        )
    if found != expected:
        raise ReproError(
            f"input {stem!r} ({uri!r}) changed since the freeze: expected {expected}, found {found}"
        )
