"""Reading files: formats, encodings, line ends, delimiters, and the files we refuse."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from salesml.errors import FileFormatError
from salesml.reading import read_table

ROWS = [
    ["date", "product_name", "quantity", "revenue"],
    ["2024-01-02", "Café crème", "2", "7.50"],
    ["2024-01-03", "Tea", "1", "3.00"],
]


def csv_text(sep: str = ",", newline: str = "\n") -> str:
    return newline.join(sep.join(row) for row in ROWS) + newline


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(sep):
    table = read_table(csv_text(sep).encode(), name="x.csv")
    assert table.delimiter == sep
    assert list(table.frame.columns) == ROWS[0]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_text_in_utf8_with_or_without_bom_and_in_windows_1252_is_read(encoding):
    table = read_table(csv_text().encode(encoding), name="x.csv")
    assert table.frame.loc[0, "product_name"] == "Café crème"
    assert table.frame.columns[0] == "date"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_convention_is_read(newline):
    table = read_table(csv_text(newline=newline).encode(), name="x.csv")
    assert len(table.frame) == 2
    assert table.frame.loc[1, "revenue"] == "3.00"


def test_xlsx_is_read(tmp_path):
    path = tmp_path / "sales.xlsx"
    pd.DataFrame(ROWS[1:], columns=ROWS[0]).to_excel(path, index=False)
    table = read_table(path)
    assert table.format == "xlsx"
    assert table.frame.loc[0, "product_name"] == "Café crème"


def test_parquet_is_read(tmp_path):
    path = tmp_path / "sales.parquet"
    pd.DataFrame(ROWS[1:], columns=ROWS[0]).to_parquet(path)
    assert read_table(path).frame.loc[1, "product_name"] == "Tea"


def test_the_file_fingerprint_is_its_sha256():
    import hashlib

    data = csv_text().encode()
    assert read_table(data, name="x.csv").sha256 == hashlib.sha256(data).hexdigest()


def xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<c>0</c>" * (40 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"\n\n  \n", "blank.csv", "empty"),
        (b"date,product_name,quantity,revenue\n", "header.csv", "no data rows"),
        (bytes(range(256)) * 64, "garbage.csv", "binary"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "picture.csv", "binary"),
        ("Müller,1\n".encode("cp437") * 3, "dos.csv", "not utf-8 or cp1252"),
        (b"not a workbook", "sales.xlsx", "not a valid .xlsx"),
        (b"PK\x03\x04 broken zip", "sales.xlsx", "not a valid zip or xlsx"),
        (xlsx_bomb(), "bomb.xlsx", "expands"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "garbage",
        "png",
        "wrong-encoding",
        "fake-xlsx",
        "broken-zip",
        "xlsx-bomb",
    ],
)
def test_unreadable_files_are_refused_with_the_reason(data, name, message):
    with pytest.raises(FileFormatError, match=message):
        read_table(data, name=name)


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(csv_text().encode() * 1000)
    with pytest.raises(FileFormatError, match="over the upload limit"):
        read_table(path, max_bytes=1024)


def test_a_malformed_csv_names_the_line():
    data = b'date,product_name,quantity,revenue\n2024-01-01,"unclosed,1,2\n'
    with pytest.raises(FileFormatError, match="malformed"):
        read_table(data, name="x.csv")


def test_a_gzipped_csv_is_read():
    import gzip

    table = read_table(gzip.compress(csv_text().encode()), name="sales.csv.gz")
    assert table.frame.loc[1, "product_name"] == "Tea"


def test_a_zip_holding_one_csv_is_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/sales.csv", csv_text())
    assert len(read_table(buffer.getvalue(), name="sales.zip").frame) == 2


def test_a_zip_holding_several_files_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", csv_text())
        archive.writestr("b.csv", csv_text())
    with pytest.raises(FileFormatError, match="exactly one CSV"):
        read_table(buffer.getvalue(), name="sales.zip")
