"""Errors a setting can fix name that setting (error.setting) and speak no face's language:
the Data page names its fields, the command line its flags."""

from __future__ import annotations

import pytest

from salesml.errors import AmbiguousDateError, AmbiguousNumberError, FileFormatError, SchemaError
from salesml.ingest import IngestOptions, detect_mapping, encodings, ingest_file, prepare
from salesml.ingest.dates import parse_dates
from salesml.ingest.reading import read_table
from tests.test_ingest import csv_bytes

AMBIGUOUS_DATES = csv_bytes("03/04/2024,Pen,O,1,2", "05/06/2024,Pen,O,1,2")
MIXED_DATES = csv_bytes("25/04/2024,Pen,O,1,2", "04/25/2024,Pen,O,1,2")
UNDECIDED_DECIMAL = csv_bytes(
    '2024-01-01,Pen,O,1,"1,234"', header="Order Date,Product Name,Category,Quantity,Sales"
)
MIXED_DECIMAL = csv_bytes(
    "2024-01-01;Pen;O;1;12,50",
    "2024-01-02;Pen;O;1;7.25",
    header="Order Date;Product Name;Category;Quantity;Sales",
)
NO_DATE = csv_bytes("Pen,Office,1,2", header="Product Name,Category,Quantity,Sales")
MAC_ROMAN = "Order Date,Product Name,Quantity,Sales\n2024-01-02,Café,1,2\n".encode("mac_roman")


def refusal(content: bytes, **read) -> Exception:
    """What validating this file raises, as the Data page validates it."""
    with pytest.raises((SchemaError, FileFormatError)) as caught:
        table = read_table(content, name="sales.csv", **read)
        prepare(table, detect_mapping(list(table.frame.columns)), IngestOptions())
    return caught.value


@pytest.mark.parametrize(
    ("content", "read", "kind", "setting"),
    [
        (AMBIGUOUS_DATES, {}, AmbiguousDateError, "date_format"),
        (MIXED_DATES, {}, AmbiguousDateError, "date_format"),
        (UNDECIDED_DECIMAL, {}, AmbiguousNumberError, "decimal"),
        (MIXED_DECIMAL, {}, AmbiguousNumberError, "decimal"),
        (NO_DATE, {}, SchemaError, "mapping"),
        (MAC_ROMAN, {"encoding": "utf-8"}, FileFormatError, "encoding"),
    ],
    ids=[
        "ambiguous-dates",
        "mixed-dates",
        "undecided-decimal",
        "mixed-decimal",
        "no-date",
        "wrong-encoding",
    ],
)
def test_an_error_a_setting_fixes_names_the_setting_not_a_flag(content, read, kind, setting):
    error = refusal(content, **read)
    assert isinstance(error, kind)
    assert error.setting == setting
    assert "--" not in str(error)


def test_an_undetectable_encoding_names_the_encoding_setting(monkeypatch):
    monkeypatch.setattr(encodings, "_IMPLAUSIBLE", -1.0)  # no decoding reads as text
    with pytest.raises(FileFormatError, match="text encoding") as caught:
        read_table(MAC_ROMAN, name="sales.csv")
    assert caught.value.setting == "encoding"
    assert "--" not in str(caught.value)


def test_a_bad_date_format_names_the_date_format_setting():
    import pandas as pd

    with pytest.raises(SchemaError, match="date format '%Q' is not valid") as caught:
        parse_dates(pd.Series(["2024-01-01"]), "%Q")
    assert caught.value.setting == "date_format"


def test_an_error_no_setting_fixes_names_none():
    with pytest.raises(FileFormatError) as caught:
        read_table(b"", name="empty.csv")
    assert caught.value.setting is None


# --------------------------------------------------------------------------- binary files


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"hello wo\x00\x00rld" * 10, "'hello wo'"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "an image (PNG)"),
        (b"%PDF-1.7\n" + b"\x00\x01" * 100, "a PDF document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an old Excel workbook (.xls)"),
        (bytes(range(256)) * 4, "00 01 02 03 04 05 06 07"),
    ],
    ids=["text-then-nul", "png", "pdf", "xls", "bytes"],
)
def test_a_binary_file_is_described_in_words_not_as_python_bytes(content, shown):
    with pytest.raises(FileFormatError, match="binary") as caught:
        read_table(content, name="sales.csv")
    assert shown in str(caught.value)
    assert "b'" not in str(caught.value)
    assert "\\x" not in str(caught.value)


def test_an_old_excel_workbook_is_asked_for_as_xlsx_or_csv():
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    with pytest.raises(FileFormatError, match=r"save it as \.xlsx or CSV"):
        read_table(content, name="sales.xls")


def test_an_unknown_field_in_a_mapping_is_listed_without_python_brackets(tmp_path):
    with pytest.raises(SchemaError) as caught:
        ingest_file(None, csv_bytes("2024-01-01,Pen,O,1,2"), mapping={"when": "Order Date"})
    assert caught.value.setting == "mapping"
    assert "[" not in str(caught.value)
    assert "when" in str(caught.value)
    assert "product_name" in str(caught.value)


# --------------------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    ("content", "flag"),
    [
        (AMBIGUOUS_DATES, "(--date-format)"),
        (UNDECIDED_DECIMAL, "(--decimal . or --decimal ,)"),
        (NO_DATE, "(--map FIELD=COLUMN)"),
    ],
    ids=["dates", "decimal", "mapping"],
)
def test_the_command_line_names_its_flag_for_the_setting(cli, tmp_path, content, flag):
    path = tmp_path / "sales.csv"
    path.write_bytes(content)
    status, _, err = cli("ingest", str(path))
    assert status == 1
    assert err.count("\n") == 1
    assert err.rstrip().endswith(flag)


def test_the_command_line_names_the_encoding_flag(cli, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(MAC_ROMAN)
    status, _, err = cli("ingest", str(path), "--encoding", "utf-8")
    assert status == 1
    assert err.rstrip().endswith("(--encoding)")
