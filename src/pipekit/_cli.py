"""The ``pipekit`` command line: run, show, hash, validate, diff, freeze and verify pipelines.

``pipekit run PIPELINE --inputs A.tif B.tif ... --progress`` runs one pipeline over many
files with a progress bar on stderr; stdout keeps one summary per input.

User errors (bad YAML, unknown operator, missing file) end with exit status 2 and one line
on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from . import _registry
from ._cli_io import load_io
from ._cli_more import UserError, add_commands, failing_step
from ._errors import PipekitError
from ._hash import config_hash
from ._operator import Operator
from ._progress import progress_bar
from ._yaml import loads_yaml, loads_yaml_sandboxed

__all__ = ["main"]

logger = logging.getLogger(__name__)


def _load(path: str, sandbox: bool) -> Operator:
    file = Path(path)
    if not file.is_file():
        raise UserError(f"no such pipeline file: {path}")
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UserError(
            f"pipeline file {path} is not UTF-8 text (byte 0x{raw[err.start]:02x} at line "
            f"{line}); YAML pipelines are UTF-8: re-save the file as UTF-8"
        ) from None
    if sandbox:
        allowed = _registry.public_operators(include_modules=_available_packages())
        return loads_yaml_sandboxed(text, allowed=allowed)
    return loads_yaml(text)


def _available_packages() -> list[str]:
    return [p for p in _registry.FAMILY_PACKAGES if importlib.util.find_spec(p) is not None]


def _run_targets(args: argparse.Namespace) -> list[tuple[str | None, Path]]:
    """``(input path or None for the demo scene, output path)`` for each run of ``run``."""
    out_dir = Path(args.out)
    name = Path(args.pipeline).stem
    if args.inputs:
        if args.input is not None:
            raise UserError(
                f"run: give the input as INPUT ({args.input}) or as --inputs, not both; "
                f"add it to --inputs to run on every file"
            )
        stems = [Path(p).stem for p in args.inputs]
        twice = sorted({s for s in stems if stems.count(s) > 1})
        if twice:
            raise UserError(
                f"run --inputs: several inputs are named {twice[0]!r}, so their outputs "
                f"({twice[0]}_{name}.tif in {out_dir}) would overwrite each other; run "
                "them with different --out folders"
            )
        return [(p, out_dir / f"{Path(p).stem}_{name}.tif") for p in args.inputs]
    if args.input is None:
        return [(None, Path(args.output) if args.output else out_dir / f"{name}.tif")]
    stem = f"{Path(args.input).stem}_{name}"
    return [(args.input, Path(args.output) if args.output else out_dir / f"{stem}.tif")]


def _cmd_run(args: argparse.Namespace) -> int:
    pipeline = _load(args.pipeline, args.sandbox)
    io = load_io()
    targets = _run_targets(args)
    for path, _target in targets:
        if path is not None and not Path(path).exists():
            raise UserError(f"no such input file: {path}")
    fn: Any = pipeline
    if args.jit:
        import equinox as eqx

        fn = eqx.filter_jit(pipeline)
    try:
        bar = progress_bar(len(targets), "pipekit run", args.progress, unit="input")
    except ImportError:  # --progress without tqdm: one line, exit status 2
        raise UserError(
            "run --progress: drawing a progress bar needs tqdm, which is not installed. "
            "Install the extra: pip install 'pipekit-geo[progress]' (or pip install tqdm), "
            "or run without --progress."
        ) from None
    with bar:
        for path, target in targets:
            _run_one(args, pipeline, fn, io, path, target)
            bar.update(1)
    return 0


def _run_one(
    args: argparse.Namespace,
    pipeline: Operator,
    fn: Any,
    io: Any,
    path: str | None,
    target: Path,
) -> None:
    """Run ``fn`` on the input at ``path`` (the demo scene for None); write and summarise."""
    data, source = (io.demo(), "generated demo scene") if path is None else (io.read(path), path)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        result = fn(data)
        if args.jit:
            import jax

            result = jax.block_until_ready(result)
    except (IndexError, KeyError, TypeError, ValueError) as err:
        # The config does not fit the data (a band index past the band count, a missing
        # band): a user error, told in one line naming the step; the traceback is logged.
        logger.debug("pipeline %s failed", args.pipeline, exc_info=True)
        raise UserError(
            f"{failing_step(err, pipeline)} failed on {source}"
            f"{_shape_of(data)}: {' '.join(str(err).split()) or type(err).__name__}"
        ) from err
    elapsed = time.perf_counter() - start

    outputs = result if isinstance(result, dict) else {"": result}
    written: list[Path] = []
    mode = "jit" if args.jit else "eager NumPy"
    lines = [f"pipeline: {args.pipeline} ({type(pipeline).__name__}, {mode})"]
    lines.append(f"input:    {source}")
    for name, value in outputs.items():
        path = target if not name else target.with_name(f"{target.stem}_{name}{target.suffix}")
        written += io.write(value, path)
        lines.append(f"output{f' {name}' if name else ''}:")
        lines += [f"  {line}" for line in io.describe(value).splitlines()]
    lines.append(f"time:     {elapsed:.3f} s{' (includes compilation)' if args.jit else ''}")
    lines.append("written:  " + ", ".join(str(p) for p in written))
    lines.append(f"config_hash: {config_hash(pipeline)}")
    print("\n".join(lines))


def _cmd_show(args: argparse.Namespace) -> int:
    pipeline = _load(args.pipeline, args.sandbox)
    summary = getattr(pipeline, "summary", None)
    print(summary() if callable(summary) else repr(pipeline))
    print(f"config_hash: {config_hash(pipeline)}")
    return 0


def _cmd_hash(args: argparse.Namespace) -> int:
    print(config_hash(_load(args.pipeline, args.sandbox)))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    pipeline = _load(args.pipeline, args.sandbox)
    mode = "sandboxed" if args.sandbox else "trusted"
    print(f"ok: {args.pipeline} builds a {type(pipeline).__name__} ({mode} loader)")
    return 0


def _shape_of(data: Any) -> str:
    shape = getattr(data, "shape", None)
    return f" (shape {tuple(shape)})" if shape is not None else ""


def _cmd_operators(args: argparse.Namespace) -> int:
    modules = args.module or _available_packages()
    try:
        found = _registry.public_operators(include_modules=modules)
    except ModuleNotFoundError as err:
        raise UserError(
            f"operators --module {' '.join(args.module or ())}: no module named {err.name!r}; "
            f"operator packages installed here: {', '.join(_available_packages())}"
        ) from None
    for name, cls in found.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:48s} {doc[0] if doc else ''}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipekit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def with_pipeline(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("pipeline", metavar="PIPELINE.yaml")
        p.add_argument("--sandbox", action="store_true", help="load with the sandboxed loader")
        return p

    run = with_pipeline("run", "run a pipeline on INPUT (default: a generated demo scene)")
    run.add_argument("input", nargs="?", metavar="INPUT")
    run.add_argument("output", nargs="?", metavar="OUTPUT", help="output COG path")
    run.add_argument("--jit", action="store_true", help="compile the pipeline with eqx.filter_jit")
    run.add_argument("--out", default=".", metavar="DIR", help="output folder (default: .)")
    run.add_argument(
        "--inputs",
        nargs="+",
        metavar="FILE",
        help="run on each FILE in turn, writing DIR/<file stem>_<pipeline stem>.tif each",
    )
    run.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar over the inputs on stderr (needs tqdm: "
        "pip install 'pipekit-geo[progress]')",
    )
    run.set_defaults(func=_cmd_run)
    with_pipeline("show", "print the pipeline's steps and config hash").set_defaults(func=_cmd_show)
    with_pipeline("hash", "print the pipeline's config hash").set_defaults(func=_cmd_hash)
    with_pipeline("validate", "check that the pipeline loads").set_defaults(func=_cmd_validate)
    add_commands(sub, with_pipeline)
    parser.set_defaults(load=_load)
    ops = sub.add_parser("operators", help="list the operators YAML may use")
    ops.add_argument("--module", action="append", help="only operators under this module")
    ops.set_defaults(func=_cmd_operators)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pipekit`` command."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, PipekitError, yaml.YAMLError, OSError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"pipekit: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
