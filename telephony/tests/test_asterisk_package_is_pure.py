"""`telephony/asterisk/` knows Asterisk and not our database: no module in it may import the ORM
(`django.db`) or our models, at the top or inside a function. The row code lives in
`telephony/realtime/`; see docs/architecture.md."""

import ast
from pathlib import Path

import pytest

import telephony.asterisk

PACKAGE = Path(telephony.asterisk.__file__).parent
FORBIDDEN = ("django.db", "telephony.models", "users.models", "telephony.realtime",
             "telephony.services")


def imported_modules(source: str) -> list[str]:
    """Every module an import statement in `source` names, wherever the statement is."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def forbidden_imports(source: str) -> list[str]:
    return sorted({name for name in imported_modules(source)
                   if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)})


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_no_asterisk_module_imports_the_orm_or_our_models(path):
    assert forbidden_imports(path.read_text()) == [], (
        f"{path.name} imports the database layer; move that code to telephony/realtime/")


def test_the_walk_sees_imports_inside_functions_and_from_django():
    source = ("from django import db\n"
              "def f():\n"
              "    from telephony.models.phones import Phone\n"
              "    import django.db.models\n")
    assert forbidden_imports(source) == ["django.db", "django.db.models",
                                         "telephony.models.phones",
                                         "telephony.models.phones.Phone"]
