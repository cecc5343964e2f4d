"""A small parser of Asterisk's config syntax, for tests of generated files.

Understands `[section]`, `key => value`, `key = value`, `#include file`, and `;` comments.
Lines it cannot read raise ValueError, so a malformed generated file fails the test.
"""

from __future__ import annotations


def parse(text: str) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    includes: list[str] = []
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("#include"):
            includes.append(line.split(None, 1)[1].strip().strip('"'))
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            if not current or current in sections:
                raise ValueError(f"line {number}: empty or repeated section {line!r}")
            sections[current] = []
            continue
        if current is None:
            raise ValueError(f"line {number}: key outside a section: {raw!r}")
        if "=>" in line:
            key, value = line.split("=>", 1)
        elif "=" in line:
            key, value = line.split("=", 1)
        else:
            raise ValueError(f"line {number}: not a key/value line: {raw!r}")
        key = key.strip()
        if not key or " " in key:
            raise ValueError(f"line {number}: bad key {key!r}")
        sections[current].append((key, value.strip()))
    return sections, includes


def as_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"repeated key {key!r}")
        out[key] = value
    return out
