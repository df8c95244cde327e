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


@pytest.mark.parametrize("page", LIGHT_PAGES)
def test_a_light_page_imports_nothing_of_the_forecasting_stack(page):
    code = page_imports(ROOT / "app.py") + "\n" + page_imports(ROOT / "pages" / f"{page}.py")
    assert "salesml" in code
    assert loaded_after(code, FORECASTING_STACK) == []


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
