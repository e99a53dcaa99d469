"""Build ``patching.ipynb`` from ``patching_source.py``: run each cell, embed its outputs.

The project has no Jupyter dependency; this runner executes the percent-format cells in
one namespace, captures printed text and the PNGs passed to ``show(png_bytes)``, and
writes an nbformat-4 notebook with those outputs, so the pictures are in the file.

    uv run python notebooks/build_patching.py [OUT.ipynb]
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def cells(source: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of every ``# %%`` cell; markdown cells lose their ``# `` prefix."""
    out = []
    for block in source.split("# %%")[1:]:
        header, _, body = block.partition("\n")
        if "[markdown]" in header:
            lines = [
                line[2:] if line.startswith("# ") else line.lstrip("#")
                for line in body.strip().splitlines()
            ]
            out.append(("markdown", "\n".join(lines)))
        else:
            out.append(("code", body.strip()))
    return out


def run(source: str, namespace: dict | None = None) -> dict:
    """Execute ``source``'s cells in ``namespace`` (fresh by default) into a notebook dict."""
    namespace = {} if namespace is None else namespace
    notebook_cells = []
    count = 0
    for kind, text in cells(source):
        if kind == "markdown":
            notebook_cells.append({"cell_type": "markdown", "metadata": {}, "source": text})
            continue
        count += 1
        outputs: list[dict] = []
        printed = io.StringIO()

        def show(png: bytes, _outputs: list = outputs) -> None:
            _outputs.append({"output_type": "display_data", "metadata": {},
                             "data": {"image/png": base64.b64encode(png).decode("ascii"),
                                      "text/plain": "<PNG image>"}})  # fmt: skip

        namespace["show"] = show
        with contextlib.redirect_stdout(printed):
            exec(compile(text, f"<cell {count}>", "exec"), namespace)
        if printed.getvalue():
            outputs.insert(0, {"output_type": "stream", "name": "stdout",
                               "text": printed.getvalue()})  # fmt: skip
        notebook_cells.append({"cell_type": "code", "execution_count": count, "metadata": {},
                               "outputs": outputs, "source": text})  # fmt: skip
    return {
        "cells": notebook_cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


def main(out: str | None = None) -> Path:
    notebook = run((HERE / "patching_source.py").read_text())
    path = Path(out) if out else HERE / "patching.ipynb"
    path.write_text(json.dumps(notebook, indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
