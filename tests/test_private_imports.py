"""No package imports a private (``_x``) module or name of another package of this repository.

Each package's public surface is its ``__init__`` (STYLE.md: "Users never import from an
underscore module"); that includes our own other packages, so a refactor inside one never
breaks another. Same-package private imports are fine; tests are exempt.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").is_file())


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _violations(path: Path, package: str, packages: list[str] = PACKAGES) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [(node.module, [alias.name for alias in node.names])]
        else:
            continue  # relative imports stay inside their own package
        for module, names in targets:
            top, *rest = module.split(".")
            if top == package or top not in packages:
                continue
            bad = [p for p in rest if _private(p)] + [n for n in names if _private(n)]
            if bad:
                where = f"{package}/{path.name}:{node.lineno}"
                found.append(f"{where} imports {module} {names or ''} (private: {bad})")
    return found


def test_packages_are_found():
    assert {"geocatalog", "geopatcher", "pipekit", "geotoolz"} <= set(PACKAGES)


def test_checker_flags_a_cross_package_private_import(tmp_path):
    pkg = tmp_path / "geopatcher"
    pkg.mkdir()
    bad = pkg / "m.py"
    bad.write_text(
        "from geocatalog._io import _fill_from_nodata\nimport geocatalog._storage\n"
        "from geocatalog import _storage\nfrom . import _own\nfrom geopatcher._x import y\n"
    )
    found = _violations(bad, "geopatcher", ["geocatalog", "geopatcher"])
    assert len(found) == 3 and all("geocatalog" in f for f in found)


def test_no_package_imports_another_packages_private_modules():
    found = []
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            found += _violations(path, package)
    assert not found, "cross-package private imports:\n" + "\n".join(found)


#: ARCHITECTURE.md: the infrastructure cores are framework-free; only their
#: ``integrations/`` sub-packages may import the framework and the operator packages.
_FRAMEWORK = {"pipekit", "pipekit_array", "pipekit_jax", "geotoolz", "xr_toolz"}


def _imported_tops(path: Path) -> set[tuple[str, int]]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            tops |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add((node.module.split(".")[0], node.lineno))
    return tops


def test_infrastructure_cores_import_no_framework_package():
    found = []
    for package in ("geocatalog", "geopatcher"):
        for path in sorted((SRC / package).rglob("*.py")):
            if "integrations" in path.relative_to(SRC / package).parts:
                continue
            found += [f"{package}/{path.relative_to(SRC / package)}:{line} imports {top}"
                      for top, line in _imported_tops(path) if top in _FRAMEWORK]  # fmt: skip
    assert not found, "framework imports in framework-free cores:\n" + "\n".join(found)
