"""How the ``pipekit`` CLI reads inputs and writes results without knowing any file format.

pipekit sits below the carrier packages, so it never imports them. A carrier package
declares a plug-in under the entry-point group ``pipekit.io`` (geocatalog declares one for
GeoTensors and GeoTIFF/COG files); the CLI loads the first one it finds.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ._errors import PipekitError

__all__ = ["CarrierIO", "load_io"]

GROUP = "pipekit.io"


@runtime_checkable
class CarrierIO(Protocol):
    """What a ``pipekit.io`` plug-in provides to the CLI."""

    name: str

    def demo(self) -> Any:
        """A generated demo input, used by ``pipekit run`` when no INPUT is given."""
        ...

    def read(self, path: str) -> Any:
        """Read an input file into a carrier."""
        ...

    def write(self, result: Any, path: Path) -> list[Path]:
        """Write a result to ``path`` (plus previews beside it); return every file written."""
        ...

    def describe(self, result: Any) -> str:
        """A few lines summarising a result (shape, georeferencing, value statistics)."""
        ...


def load_io() -> CarrierIO:
    """Load the first installed ``pipekit.io`` plug-in."""
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise PipekitError(
            f"no '{GROUP}' plug-in is installed, so `pipekit run` cannot read or write data; "
            "install geocatalog (it provides GeoTIFF/COG input and output)"
        )
    plugin = found[0].load()
    if not isinstance(plugin, CarrierIO):
        raise PipekitError(f"'{GROUP}' plug-in {found[0].value} lacks demo/read/write/describe")
    return plugin
