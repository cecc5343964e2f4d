"""scripts/check_imports.py (run by `make lint`) finds import circles, and our modules have none."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_imports.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_finds_a_circle_and_leaves_a_chain_alone(checker):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert checker.cycles(graph) == [["a", "b", "c"]]
    assert checker.cycles({"a": {"b"}, "b": set()}) == []


def test_it_counts_imports_in_functions_but_not_type_checking_ones(checker, tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n"
                    "    from pkg.hinted import Thing\n"
                    "def f():\n"
                    "    from pkg.late import helper\n"
                    "from pkg import sub\n")
    modules = {"pkg": None, "pkg.hinted": None, "pkg.late": None, "pkg.sub": None, "mod": path}
    assert checker.imports_of("mod", path, modules) == {"pkg.late", "pkg.sub"}


def test_our_modules_import_each_other_in_no_circle(checker):
    modules = checker.find_modules()
    graph = {name: checker.imports_of(name, path, modules) for name, path in modules.items()}
    assert "telephony.realtime.phones" in graph
    assert checker.cycles(graph) == []
