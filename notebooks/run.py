"""Execute notebooks with a real Jupyter kernel (nbclient), the way CI and readers run them.

    uv run python -m notebooks.run notebooks/case01_ndvi.ipynb [...] [--inplace | --out DIR]
        [--timeout SECONDS] [--env NAME=VALUE ...]

Every code cell runs in a fresh IPython kernel of *this* interpreter (``sys.executable``),
in the notebook's own folder, as Jupyter does when the notebook is opened; the first cell
error stops the run and raises :class:`nbclient.exceptions.CellExecutionError` (exit code 1
on the command line). ``--inplace`` writes the outputs back into the notebook (how the
committed notebooks get their pictures); ``--out`` writes executed copies elsewhere.

Why a private kernelspec: the name ``python3`` resolves to whichever kernel is installed
first on the machine (``~/.local/share/jupyter``, a conda env, ...), which may be another
Python without our packages. ``ipykernel.kernelspec.write_kernel_spec`` writes a spec whose
``argv`` is ``sys.executable`` into a temporary folder, and a ``KernelSpecManager`` that
looks only there starts it: no ``ipykernel install --user``, nothing left behind.

Figures: matplotlib's inline backend (``matplotlib_inline``, an Agg canvas; no display is
needed) is forced through ``MPLBACKEND`` so that ``plt.show()`` in a cell becomes an
``image/png`` output even where the caller's environment names a GUI backend. Plain
``"Agg"`` would render nothing into the notebook.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
KERNEL_NAME = "pipekit-notebooks"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def notebooks(folder: str | os.PathLike[str] = HERE) -> list[Path]:
    """The ``*.ipynb`` files directly in ``folder`` (not ``.ipynb_checkpoints/``), by name."""
    return sorted(Path(folder).glob("*.ipynb"))


def execute(
    path: str | os.PathLike[str],
    *,
    timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> nbformat.NotebookNode:
    """Run every code cell of the notebook at ``path`` in a fresh kernel; return it executed.

    Arguments:
        path: the ``.ipynb`` file; the kernel's working directory is its folder.
        timeout: seconds any one cell may run before the run fails.
        env: variables added to this process's environment for the kernel (how notebooks
            take parameters, e.g. ``{"FUSION_STEPS": "3"}``, read in their first cell).
        out: where to write the executed notebook (may be ``path`` itself); not written
            when ``None``.

    Returns:
        The executed notebook (nbformat 4), outputs in every code cell.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised; the message names the cell
            and carries the traceback.
        nbclient.exceptions.CellTimeoutError: a cell ran longer than ``timeout``.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    kernel_env = {**os.environ, **(env or {}), "MPLBACKEND": INLINE_BACKEND}
    with tempfile.TemporaryDirectory(prefix="nbkernel-") as tmp:
        write_kernel_spec(Path(tmp) / KERNEL_NAME, overrides={"display_name": "Python 3"})
        manager = KernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[tmp]),
            transport="ipc",  # Unix sockets in tmp: no TCP ports to race for, none exposed
            ip=str(Path(tmp) / "kernel-ipc"),
            connection_file=str(Path(tmp) / "kernel.json"),
        )
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=timeout,
            startup_timeout=120,
            allow_errors=False,
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        logger.info("executing %s (cell timeout %ss)", path, timeout)
        client.execute(env=kernel_env, cleanup_kc=True)  # shut down: we own `manager`
    # Readers' Jupyter should open it with its own default Python kernel, not our temp one.
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}  # fmt: skip
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, Path(out))
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all here)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--inplace", action="store_true", help="write outputs into each file")
    where.add_argument("--out", type=Path, help="folder for the executed copies")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per cell")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    env = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--env expects NAME=VALUE, got {item!r}")
        env[name] = value
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in args.paths or notebooks():
        out = path if args.inplace else (args.out / path.name if args.out else None)
        try:
            execute(path, timeout=args.timeout, env=env, out=out)
        except CellExecutionError as error:
            logger.error("%s failed:\n%s", path, error)
            return 1
        logger.info("%s ran%s", path, f", written to {out}" if out else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
