"""What starting up imports: the command line's help and the light pages stay off the heavy stack.

Each check runs in a fresh interpreter (this test process has imported everything already)
and reads sys.modules after the fact, so it fails on a new eager import, not on a slow machine.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_STACK = ("pandas", "sqlalchemy", "numpy")
FORECASTING_STACK = ("sklearn", "mlforecast", "statsforecast", "utilsforecast")
# Pages that never train or forecast: they must not pay for the forecasting stack.
LIGHT_PAGES = ("overview", "explorer", "data", "predictions", "team")


def loaded_after(code: str, heavy: tuple[str, ...]) -> list[str]:
    """The `heavy` top-level packages a fresh interpreter holds after running `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(n for n in {heavy!r} if n in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def run_cli(*args: str) -> str:
    """Code running `python -m salesml ARGS` as the command line does, up to its exit."""
    return (
        "import runpy, sys\n"
        f"sys.argv = ['salesml', *{list(args)!r}]\n"
        "try:\n"
        "    runpy.run_module('salesml', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--help",), id="--help"),
        pytest.param(("train", "--help"), id="train --help"),
        pytest.param(("ingest", "--help"), id="ingest --help"),
        pytest.param(("users", "add", "--help"), id="users add --help"),
        pytest.param(("serve", "--help"), id="serve --help"),
    ],
)
def test_the_command_line_help_imports_neither_the_data_nor_the_forecasting_stack(args):
    assert loaded_after(run_cli(*args), DATA_STACK + FORECASTING_STACK) == []


def test_the_help_still_names_every_choice():
    done = subprocess.run(
        [sys.executable, "-m", "salesml", "train", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "{total,category,product}" in done.stdout
    assert "{D,W,M,Q}" in done.stdout
    assert "{revenue,quantity}" in done.stdout


def test_the_light_choices_are_the_ones_the_library_checks():
    from salesml import auth, choices, ingest, series
    from salesml.frequencies import FREQUENCIES

    assert choices.FREQS == tuple(FREQUENCIES) == series.FREQS
    assert (choices.LEVELS, choices.TARGETS) == (series.LEVELS, series.TARGETS)
    assert choices.ROLES == auth.ROLES
    assert choices.FIELDS == ingest.FIELDS


def page_imports(path: Path) -> str:
    """The module-level import statements of a page, as code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    statements = [
        node
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and getattr(node, "module", None) != "__future__"
    ]
    return "\n".join(ast.unparse(node) for node in statements)


@pytest.mark.slow
@pytest.mark.parametrize("page", LIGHT_PAGES)
def test_a_light_page_imports_nothing_of_the_forecasting_stack(page):
    code = page_imports(ROOT / "app.py") + "\n" + page_imports(ROOT / "pages" / f"{page}.py")
    assert "salesml" in code
    assert loaded_after(code, FORECASTING_STACK) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "module",
    [
        "salesml.predictions",
        "salesml.scenarios",
        "salesml.series",
        "salesml.metrics",
        "salesml.training",
        "salesml.report",
        "salesml.server",
    ],
)
def test_a_library_module_loads_the_forecasting_stack_only_to_train_or_forecast(module):
    assert loaded_after(f"import {module}", FORECASTING_STACK) == []


@pytest.mark.slow
def test_the_server_imports_what_the_overview_draws_with_before_it_listens():
    """The first visitor's page does not wait for pandas, Altair or Streamlit's emoji table."""
    warmed = "from salesml import server\nserver.import_page_libraries()\n"
    overview = page_imports(ROOT / "app.py") + "\n" + page_imports(ROOT / "pages" / "overview.py")
    code = (
        f"{warmed}import sys\nbefore = set(sys.modules)\n{overview}\n"
        "import streamlit.emojis\n"  # what the navigation's page icons import on the first run
        "new = sorted(set(sys.modules) - before)\n"
        "import json\nprint(json.dumps(new))\n"
    )
    after_warming = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.splitlines()[-1]
    )
    heavy = ("pandas", "numpy", "pyarrow", "altair", "narwhals", "sqlalchemy", "streamlit.emojis")
    assert [name for name in after_warming if name.startswith(heavy)] == []
    assert loaded_after(warmed, FORECASTING_STACK) == []


def salesml_modules(root: Path) -> dict[str, Path]:
    """Every module under root/salesml by its dotted name (a package by its own name)."""
    modules = {}
    for path in (root / "salesml").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _runs_only_for_type_checkers(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and ast.unparse(test).endswith("TYPE_CHECKING")


def _import_statements(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements anywhere in node, in functions too, but not under TYPE_CHECKING
    (never run, so they cannot make a cycle)."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [node]
    found = []
    for child in ast.iter_child_nodes(node):
        if _runs_only_for_type_checkers(child):
            found.extend(s for branch in child.orelse for s in _import_statements(branch))
        else:
            found.extend(_import_statements(child))
    return found


def _module_named(name: str, modules: dict[str, Path]) -> str | None:
    """The salesml module a dotted name is in: itself, or its nearest enclosing package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The salesml modules one module imports, wherever in it the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for statement in _import_statements(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(statement, ast.Import):
            found.update(_module_named(alias.name, modules) for alias in statement.names)
            continue
        base = statement.module or ""
        if statement.level:
            anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in statement.names:
            # `from salesml import db` names a module; `from salesml.db import User` does not.
            named = f"{base}.{alias.name}"
            found.add(named if named in modules else _module_named(base, modules))
    return found - {None, name}


def import_cycles(root: Path) -> list[list[str]]:
    """Each group of salesml modules that import one another round a ring, sorted."""
    modules = salesml_modules(root)
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(name: str) -> None:  # Tarjan's strongly connected components
        order[name] = low[name] = len(order)
        stack.append(name)
        for other in graph[name]:
            if other not in order:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], order[other])
        if low[name] == order[name]:
            group = stack[stack.index(name) :]
            del stack[stack.index(name) :]
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(graph):
        if name not in order:
            visit(name)
    return sorted(groups)


def test_no_salesml_module_imports_one_that_imports_it_back():
    """A module imported inside a function to dodge a cycle is a cycle all the same."""
    cycles = import_cycles(ROOT)
    assert cycles == [], "modules importing one another: " + "; ".join(map(" <-> ".join, cycles))


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path):
    package = tmp_path / "salesml"
    (package / "store").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "store" / "__init__.py").write_text("from salesml.store.tables import Row\n")
    (package / "store" / "tables.py").write_text("class Row: ...\n")
    (package / "log.py").write_text(
        "from typing import TYPE_CHECKING\nfrom salesml.store import Row\n"
        "if TYPE_CHECKING:\n    from salesml import purge\n"
    )
    (package / "purge.py").write_text("def purge():\n    from salesml import log\n")
    assert import_cycles(tmp_path) == []
    (package / "store" / "tables.py").write_text("def rows():\n    from .. import log\n")
    assert import_cycles(tmp_path) == [["salesml.log", "salesml.store", "salesml.store.tables"]]
