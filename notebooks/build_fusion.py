"""Build ``fusion.ipynb`` from ``fusion_source.py`` (Case 11 trained), outputs embedded.

    uv run python -m notebooks.build_fusion [OUT.ipynb] [STEPS]

Uses the percent-format runner of ``build_patching.py``; ``STEPS`` (default 300) is the
number of training steps of every model the notebook trains.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from notebooks.build_patching import HERE, run


def main(out: str | None = None, steps: int = 300) -> Path:
    notebook = run((HERE / "fusion_source.py").read_text(), {"STEPS": steps})
    path = Path(out) if out else HERE / "fusion.ipynb"
    path.write_text(json.dumps(notebook, indent=1) + "\n")
    return path


if __name__ == "__main__":
    args = sys.argv[1:]
    print(main(args[0] if args else None, int(args[1]) if len(args) > 1 else 300))
