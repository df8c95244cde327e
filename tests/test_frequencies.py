"""The frequency table: one entry per code, aliases that agree, unknown codes refused."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from salesml import frequencies
from salesml.errors import SchemaError
from salesml.frequencies import FREQUENCIES


def test_each_entry_is_filed_under_its_own_code():
    assert [f.code for f in FREQUENCIES.values()] == list(FREQUENCIES) == ["D", "W", "M", "Q"]


@pytest.mark.parametrize("code", list(FREQUENCIES))
def test_a_period_alias_starts_where_the_pandas_alias_labels_the_period(code):
    frequency = FREQUENCIES[code]
    starts = pd.date_range("2023-11-13", periods=30, freq=frequency.pandas_alias)
    days = pd.Series(starts + pd.Timedelta(days=1 if code != "D" else 0))
    assert (days.dt.to_period(frequency.period_alias).dt.start_time == starts).all()


@pytest.mark.parametrize("code", list(FREQUENCIES))
def test_one_offset_steps_from_a_period_start_to_the_next(code):
    frequency = FREQUENCIES[code]
    first, second = pd.date_range("2024-02-05", periods=2, freq=frequency.pandas_alias)
    assert first + frequency.offset == second


@pytest.mark.parametrize("code", ["Y", "m", "", None])
def test_an_unknown_code_is_refused_with_the_choices(code):
    with pytest.raises(SchemaError, match=r"freq must be one of D, W, M, Q"):
        frequencies.get(code)


def test_the_table_does_not_need_the_database_layer():
    code = "import sys, salesml.frequencies; print('salesml.db' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
