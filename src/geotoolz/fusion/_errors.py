"""Errors of the fusion operators: the geotoolz ones, re-exported where users look for them."""

from __future__ import annotations

from .._errors import CRSMismatchError, InputsDoNotOverlapError

__all__ = ["CRSMismatchError", "InputsDoNotOverlapError"]
