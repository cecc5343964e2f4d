"""Spreadsheet-safe CSV cells.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula ("CSV
injection"). Exports put a leading apostrophe on such cells, which spreadsheets show as text;
imports take it off again, so an export imports back unchanged.
"""

_FORMULA_STARTS = ("=", "+", "-", "@")


def defuse(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def restore(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text
