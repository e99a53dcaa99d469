"""The manifest: member hashes and sizes, the pipeline hash, the allow-list; self-hashed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ._errors import ReproError

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "ORDER", "build_manifest", "check_manifest"]

FORMAT = "pipekit.repro.artifact"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Every member an artifact may hold, in the order they are written.
ORDER = (
    MANIFEST,
    "pipeline.yaml",
    "leaves.eqx",
    "inputs.json",
    "metadata.json",
    "environment.json",
    "deps.lock",
)
REQUIRED = ("pipeline.yaml", "inputs.json", "metadata.json", "environment.json")
_SELF = "manifest_sha256"


def dump_json(obj: Any, what: str) -> bytes:
    """Canonical JSON bytes: sorted keys, one-space indent, ASCII, no NaN, trailing newline."""
    try:
        text = json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ReproError(f"{what} must be JSON-able (str, numbers, lists, dicts): {err}") from None
    return (text + "\n").encode("ascii")


def _self_hash(body: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(dump_json(body, MANIFEST)).hexdigest()


def build_manifest(fields: dict[str, Any], members: dict[str, bytes]) -> bytes:
    """Return the manifest bytes for ``members`` (everything but the manifest itself)."""
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **fields,
        "members": {
            name: {"sha256": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in members.items()
        },
    }
    return dump_json({**body, _SELF: _self_hash(body)}, MANIFEST)


def check_manifest(members: dict[str, bytes]) -> dict[str, Any]:
    """Verify the manifest and every member against it; return the manifest's fields."""
    if MANIFEST not in members:
        raise ReproError(f"member {MANIFEST!r} is missing: not a pipekit artifact")
    raw = members[MANIFEST]
    try:
        manifest = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ReproError(f"member {MANIFEST!r} is not valid JSON: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ReproError(f"member {MANIFEST!r} does not describe a {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ReproError(
            f"member {MANIFEST!r}: format_version {manifest.get('format_version')!r} is not "
            f"supported (this pipekit reads {FORMAT_VERSION})"
        )
    body = {k: v for k, v in manifest.items() if k != _SELF}
    expected, found = manifest.get(_SELF), _self_hash(body)
    if expected != found or dump_json(manifest, MANIFEST) != raw:
        raise ReproError(
            f"member {MANIFEST!r} was edited: its self-hash expected {expected}, found {found}"
        )
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise ReproError(f"member {MANIFEST!r} has no 'members' table")
    present = set(members) - {MANIFEST}
    for name in sorted(set(listed) - present):
        raise ReproError(f"member {name!r} is listed in the manifest but missing from the file")
    for name in sorted(present - set(listed)):
        raise ReproError(f"member {name!r} is in the file but not listed in the manifest")
    for name in REQUIRED:
        if name not in listed:
            raise ReproError(f"member {name!r} is required but absent")
    for name in ORDER[1:]:
        if name not in listed:
            continue
        entry, data = listed[name], members[name]
        found_hash = "sha256:" + hashlib.sha256(data).hexdigest()
        if not isinstance(entry, dict) or entry.get("sha256") != found_hash:
            exp = entry.get("sha256") if isinstance(entry, dict) else entry
            raise ReproError(
                f"member {name!r} does not match the manifest: expected {exp}, found {found_hash}"
            )
        if entry.get("size") != len(data):
            raise ReproError(
                f"member {name!r} does not match the manifest: expected {entry.get('size')} "
                f"bytes, found {len(data)}"
            )
    return manifest
