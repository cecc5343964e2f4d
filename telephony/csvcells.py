"""Spreadsheet-safe CSV cells.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula ("CSV
injection"), and some also after a leading tab or carriage return. Exports put a leading
apostrophe on such cells, which spreadsheets show as text; imports take it off again, so an
export imports back unchanged.

Every export writes through `writer()`, which defuses every text cell of every row, so a new
column (a username, a campaign name) cannot be forgotten.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def restore(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


class SafeWriter:
    """csv.writer whose rows have every str cell defused (numbers are written as numbers)."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([defuse(cell) if isinstance(cell, str) else cell
                                      for cell in row])


def writer(out: Any, **options: Any) -> SafeWriter:
    return SafeWriter(out, **options)
