"""A stand-in for tqdm that records what a bar was told: injected with ``monkeypatch``.

The real tqdm redraws at most every 0.1 s, so its text cannot show *when* a bar moved;
this fake keeps every ``update`` and ``set_postfix`` call, and the count, for the tests
that check a bar advances as work finishes (not all at once at the end).
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

import pytest


class FakeBar:
    """Records ``total``, ``desc``, ``initial``, every update and postfix, and closing."""

    def __init__(self, total=None, desc=None, initial=0, unit="it", file=None, **kw: Any):
        self.total, self.desc, self.initial, self.unit = total, desc, initial, unit
        self.n = initial
        self.updates: list[int] = []
        self.postfixes: list[dict[str, Any]] = []
        self.closed = False
        self._lock = threading.Lock()

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.updates.append(n)
            self.n += n

    def set_postfix(self, **values: Any) -> None:
        self.postfixes.append(values)

    def __enter__(self) -> FakeBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.closed = True


def install_fake_tqdm(monkeypatch: pytest.MonkeyPatch) -> list[FakeBar]:
    """Make ``import tqdm`` / ``from tqdm.auto import tqdm`` give :class:`FakeBar`.

    Returns the list every bar created from now on is appended to.
    """
    bars: list[FakeBar] = []

    class Recorded(FakeBar):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            bars.append(self)

    package = types.ModuleType("tqdm")
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = Recorded  # type: ignore[attr-defined]
    package.auto = auto  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", package)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    return bars
