"""The gallery: every seed case has ``examples/caseNN_*`` with a README and one command,
and the project README's gallery table lists the same command.

The commands themselves are run by each case's own test (``tests/cases/test_caseNN_*``),
as a user would; this checks that what the READMEs tell users is what exists.
"""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = range(1, 14)


def command_of(readme: Path) -> str:
    """The one command of a case README: its only line indented four spaces (``uv run``)."""
    lines = [ln[4:] for ln in readme.read_text().splitlines() if ln.startswith("    uv run")]
    assert len(lines) == 1, f"{readme}: expected one '    uv run ...' command line, got {lines}"
    return lines[0]


def folder_of(n: int) -> Path:
    found = sorted((ROOT / "examples").glob(f"case{n:02d}_*"))
    assert len(found) == 1, f"case {n}: expected one examples/case{n:02d}_* folder, got {found}"
    return found[0]


@pytest.mark.parametrize("n", CASES)
def test_every_case_has_a_folder_readme_and_one_command(n):
    folder = folder_of(n)
    command = command_of(folder / "README.md")
    # every file the command names exists (scripts, YAML, notebooks)
    for word in shlex.split(command.replace("&&", " ")):
        if word.startswith(("examples/", "notebooks/")):
            assert (ROOT / word).exists(), f"{folder.name}: the command names {word}, missing"


def test_the_readme_gallery_lists_every_case_with_its_command():
    readme = (ROOT / "README.md").read_text()
    rows = [ln for ln in readme.splitlines() if re.match(r"\|\s*\d+\s*\|", ln)]
    by_case = {int(re.match(r"\|\s*(\d+)", row).group(1)): row for row in rows}
    assert sorted(by_case) == list(CASES), f"gallery rows for cases {sorted(by_case)}"
    for n in CASES:
        folder = folder_of(n)
        row = by_case[n]
        assert f"examples/{folder.name}" in row, f"case {n}: the row does not link {folder.name}"
        assert f"`{command_of(folder / 'README.md')}`" in row, f"case {n}: command differs"
