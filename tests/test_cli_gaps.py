"""`python -m salesml train` warns of a long stretch without sales in the data it trains on."""

from __future__ import annotations

import pytest

from salesml.cli import main

HEADER = "Order Date,Product Name,Category,Quantity,Sales\n"
EARLY = HEADER + "".join(f"2017-{m:02d}-15,Pen,Office,1,2.00\n" for m in range(1, 13))
LATE = HEADER + "".join(f"2022-{m:02d}-15,Pen,Office,1,3.00\n" for m in range(1, 13))
TRAIN = ("train", "--models", "snaive", "--horizon", "1", "--windows", "1")


@pytest.fixture
def cli(database_url, capsys, tmp_path, monkeypatch):
    """Run a command against the test database; return (exit status, stdout, stderr)."""
    monkeypatch.setenv("SALESML_MODEL_DIR", str(tmp_path / "models"))

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--database-url", database_url, *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def load(cli, tmp_path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert cli("ingest", str(path))[0] == 0


def test_training_over_a_gap_warns_on_stderr_with_the_flags_around_it(cli, tmp_path):
    load(cli, tmp_path, "2017.csv", EARLY)
    load(cli, tmp_path, "2022.csv", LATE)
    _, _, err = cli(*TRAIN)
    [warning] = [line for line in err.splitlines() if line.startswith("warning:")]
    assert "No sales between Jan 2018 and Dec 2021 (48 months)" in warning
    assert "--start 2022-01-15" in warning
    assert "--end 2017-12-15" in warning


def test_training_after_the_gap_says_nothing_of_it(cli, tmp_path):
    load(cli, tmp_path, "2017.csv", EARLY)
    load(cli, tmp_path, "2022.csv", LATE)
    _, _, err = cli(*TRAIN, "--start", "2022-01-01")
    assert "No sales between" not in err
