"""CLI sub-commands for deployment: ``diff``, ``freeze`` and ``verify``."""

from __future__ import annotations

import argparse
import hashlib
import re
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = ["UserError", "add_commands", "failing_step"]


class UserError(Exception):
    """An error to report in one line (exit status 2)."""


def _key_values(pairs: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"{what} expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def failing_step(err: BaseException, pipeline: Any) -> str:
    """Name the operator an error was raised in, by its place in ``pipeline``.

    The innermost ``_apply`` / ``__call__`` frame of an Operator in the traceback is the
    step that failed; its path (``ops[2]``) comes from the pipeline's tree, and the
    argument the message names, if exactly one, is added (``ops[2].red_idx``).
    """
    from ._operator import Operator
    from ._state import init_params, iter_operators

    step = None
    for frame, _line in traceback.walk_tb(err.__traceback__):
        me = frame.f_locals.get("self")
        if isinstance(me, Operator) and frame.f_code.co_name in ("_apply", "__call__"):
            step = me
    if step is None:
        return type(pipeline).__name__
    path = next((p for op, p in iter_operators(pipeline) if op is step), None)
    text = str(err)
    named = [n for n in init_params(type(step)) if re.search(rf"\b{re.escape(n)}\b", text)]
    if path is not None and len(named) == 1:
        path = f"{path}.{named[0]}" if path else named[0]
    return f"{type(step).__name__} at {path or '<root>'}"


def _local_missing(uri: str) -> bool:
    """Whether ``uri`` names a local file (no scheme, or ``file:``) that does not exist."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return not Path(parsed.path).is_file()
    if parsed.scheme and len(parsed.scheme) > 1:  # s3://, https://: not ours to check
        return False
    return not Path(uri).is_file()  # a plain path (a one-letter "scheme" is a drive, C:)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cmd_diff(args: argparse.Namespace) -> int:
    from .diff import config_diff

    old, new = args.load(args.old, args.sandbox), args.load(args.new, args.sandbox)
    diff = config_diff(old, new)
    print(str(diff) if diff else "no differences")
    # diff(1) convention: 0 = same, 1 = different (2 stays "error").
    return 1 if diff else 0


def _cmd_freeze(args: argparse.Namespace) -> int:
    from ._hash import config_hash
    from .repro import freeze

    pipeline = args.load(args.pipeline, args.sandbox)
    inputs: dict[str, Any] = {}
    for name, uri in _key_values(args.input, "--input").items():
        if _local_missing(uri):
            raise UserError(
                f"freeze --input {name}={uri}: no such file; give an existing local file "
                "(it is hashed into the artifact) or a remote URI such as s3://..."
            )
        inputs[f"{name}_uri"] = uri
        if Path(uri).is_file():
            inputs[f"{name}_sha256"] = _sha256_file(Path(uri))
    metadata = _key_values(args.meta, "--meta")
    artifact = freeze(pipeline, inputs=inputs, deps_lock=args.deps_lock, metadata=metadata)
    path = artifact.save(args.artifact)
    print(f"wrote {path}\npipeline_hash: {config_hash(pipeline)}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .repro import load

    art = load(args.artifact)
    print(f"ok: {args.artifact} verified (every member hash, pipeline hash, sandboxed load)")
    print(f"pipeline_hash: {art.pipeline_hash}")
    return 0


def add_commands(sub: Any, with_pipeline: Any) -> None:
    """Register ``diff``, ``freeze`` and ``verify`` on the CLI's sub-parsers."""
    diff = sub.add_parser("diff", help="structured config diff of two pipelines (exit 1 if any)")
    diff.add_argument("old", metavar="A.yaml")
    diff.add_argument("new", metavar="B.yaml")
    diff.add_argument("--sandbox", action="store_true", help="load with the sandboxed loader")
    diff.set_defaults(func=_cmd_diff)

    freeze = with_pipeline("freeze", "pin a pipeline, its inputs and lock file into an artifact")
    freeze.add_argument("artifact", metavar="ARTIFACT")
    freeze.add_argument(
        "--input", action="append", metavar="NAME=URI", help="input URI (local files are hashed)"
    )
    freeze.add_argument("--deps-lock", metavar="FILE", help="lock file to store (e.g. uv.lock)")
    freeze.add_argument("--meta", action="append", metavar="KEY=VALUE", help="metadata entry")
    freeze.set_defaults(func=_cmd_freeze)

    verify = sub.add_parser("verify", help="check every hash of an artifact and load it")
    verify.add_argument("artifact", metavar="ARTIFACT")
    verify.set_defaults(func=_cmd_verify)
