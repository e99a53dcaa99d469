"""Conformance examples: model operators (merged into examples.EXAMPLES)."""

from __future__ import annotations

from ._case import Case

EXAMPLES: dict[str, list[Case]] = {}
