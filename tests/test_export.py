"""Spreadsheet-safe CSV: text a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from salesml import export


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Pen", "Pen"),
        ("a=b", "a=b"),
        ("", ""),
        ("'=already quoted", "'=already quoted"),
    ],
)
def test_a_text_cell_that_starts_a_formula_gets_a_leading_quote(cell: str, written: str) -> None:
    assert export.escape_cell(cell) == written


@pytest.mark.parametrize("value", [-5, -2.5, None, np.nan, dt.date(2024, 1, 1)])
def test_values_that_are_not_text_are_left_alone(value: object) -> None:
    assert export.escape_cell(value) is value


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_text_columns_of_every_dtype_are_escaped(dtype: object) -> None:
    frame = pd.DataFrame({"name": pd.Series(["=1+1", "Pen"], dtype=dtype)})
    assert export.csv_bytes(frame).decode().splitlines() == ["name", "'=1+1", "Pen"]


def test_numbers_stay_numbers_and_missing_cells_stay_empty() -> None:
    frame = pd.DataFrame(
        {
            "quantity": [-1, 2],
            "revenue": [-5.5, np.nan],
            "raw_value": ["-1", None],
            "mixed": [-3, "-3"],
        }
    )
    assert export.csv_bytes(frame).decode().splitlines() == [
        "quantity,revenue,raw_value,mixed",
        "-1,-5.5,'-1,-3",
        "2,,,'-3",
    ]


def test_a_header_that_starts_a_formula_is_escaped_too() -> None:
    frame = pd.DataFrame({"=cmd": ["x"]})
    assert export.csv_bytes(frame).decode().splitlines() == ["'=cmd", "x"]


def test_the_table_handed_in_is_not_changed() -> None:
    frame = pd.DataFrame({"name": ["=1+1"]})
    export.csv_bytes(frame)
    assert frame["name"].tolist() == ["=1+1"]


def test_write_csv_writes_the_same_text_as_csv_bytes() -> None:
    frame = pd.DataFrame({"reason": ["not a date"], "raw_value": ["@x"], "row": [3]})
    stream = io.StringIO()
    export.write_csv(frame, stream)
    assert stream.getvalue().encode() == export.csv_bytes(frame)
    assert stream.getvalue() == "reason,raw_value,row\nnot a date,'@x,3\n"


def test_a_table_with_a_currency_says_it_on_every_line() -> None:
    frame = pd.DataFrame({"series": ["Tools", "Toys"], "predicted_sales": [1.5, 2.0]})
    assert export.csv_bytes(frame, currency="GBP").decode().splitlines() == [
        "series,predicted_sales,currency",
        "Tools,1.5,GBP",
        "Toys,2.0,GBP",
    ]
