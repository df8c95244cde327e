"""Reading files: formats, encodings, line ends, delimiters, and the files we refuse."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from salesml.errors import FileFormatError
from salesml.ingest.reading import read_table

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
        (csv_text().encode(), "x.csv", None),
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
    options = {"encoding": "klingon"} if message is None else {}
    with pytest.raises(FileFormatError, match=message or "unknown encoding"):
        read_table(data, name=name, **options)


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


# --------------------------------------------------------------------------- encodings

NAMES = {
    "french": ["Café crème", "Crème brûlée à la pâte", "Pâté de forêt, 2ème"],
    "german": ["Müller Größe XL", "Äpfel süß"],
    "spanish": ["Jalapeño añejo", "Café Olé"],
    "quotes": ["“Deluxe” box – large", "8 1/16” x 11” pad"],
    "russian": ["Молоко пастеризованное", "Хлеб ржаной"],
    "polish": ["Żółć gęślą jaźń", "Łódź"],
}


def names_csv(names: list[str]) -> str:
    return "date;product_name;quantity;revenue\n" + "".join(
        f"2024-01-0{day};{name};1;2,50\n" for day, name in enumerate(names, start=1)
    )


@pytest.mark.parametrize(
    ("language", "encoding"),
    [
        ("french", "cp1252"),
        ("french", "mac_roman"),
        ("german", "cp1252"),
        ("german", "mac_roman"),
        ("german", "cp850"),
        ("spanish", "cp437"),
        ("quotes", "cp1252"),
        ("quotes", "mac_roman"),
        ("russian", "cp1251"),
        ("polish", "cp1250"),
        ("french", "utf-16"),
        ("russian", "utf-8"),
    ],
)
def test_the_encoding_is_the_one_whose_text_reads_plausibly(language, encoding):
    names = NAMES[language]
    table = read_table(names_csv(names).encode(encoding), name="x.csv")
    assert table.frame["product_name"].tolist() == names
    assert table.encoding_detected


def test_a_file_cp1252_decodes_without_error_can_still_be_mac_roman():
    # 0xCA is a no-break space in Mac Roman and 'Ê' in Windows-1252: both decode.
    data = names_csv(["Conference\xa0phone", "8 1/16” x 11”"]).encode("mac_roman")
    data.decode("cp1252")
    assert read_table(data, name="x.csv").encoding == "mac_roman"


def test_an_explicit_encoding_is_used_as_given():
    data = names_csv(["Café"]).encode("mac_roman")
    table = read_table(data, name="x.csv", encoding="cp1252")
    assert table.frame["product_name"].tolist() == ["Caf\u017d"]  # é in Mac Roman, Ž in cp1252
    assert (table.encoding, table.encoding_detected) == ("cp1252", False)


@pytest.mark.realdata
def test_the_superstore_export_is_read_as_mac_roman(shared_data):
    table = read_table(shared_data / "superstore_raw.csv")
    assert table.encoding == "mac_roman"
    names = table.frame["Product Name"]
    assert "Konftel 250 Conference\xa0phone\xa0- Charcoal black" in set(names)
    assert "Adams Phone Message Book, Professional, 400 Message Capacity, 5 3/6” x 11”" in set(
        names
    )
    garbled = names[names.str.contains("[ÊÒÓŽ]", regex=True)]
    assert garbled.empty, garbled.head().tolist()


# --------------------------------------------------------------------------- layout


def test_column_names_are_stripped_and_made_unique():
    table = read_table(b" date ,Sales,Sales,\n2024-01-01,1,2,3\n", name="x.csv")
    assert list(table.frame.columns) == ["date", "Sales", "Sales.1", "Unnamed: 3"]


def test_a_line_with_more_fields_than_the_header_is_refused_with_the_line():
    data = b"date,product_name,quantity,revenue\n2024-01-01,Pen,1,2\n2024-01-02,Pen,1,2,9\n"
    with pytest.raises(FileFormatError, match="Expected 4 columns, got 5"):
        read_table(data, name="x.csv")


def test_a_quote_left_open_does_not_swallow_the_rest_of_the_file():
    data = b'date,product_name,quantity,revenue\n2024-01-01,"Pen,1,2\n2024-01-02,Ink,1,2\n'
    with pytest.raises(FileFormatError, match=r"never closed|Expected"):
        read_table(data, name="x.csv")


def test_quoted_line_breaks_stay_inside_their_cell():
    data = b'date,product_name,quantity,revenue\n2024-01-01,"Pen\nblue",1,2\n2024-01-02,Ink,1,2\n'
    assert read_table(data, name="x.csv").frame["product_name"].tolist() == ["Pen\nblue", "Ink"]


def test_xlsx_cells_keep_their_values(tmp_path):
    path = tmp_path / "sales.xlsx"
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-02"]), "sku": [12345], "revenue": [7.5], "note": [None]}
    )
    frame.to_excel(path, index=False)
    table = read_table(path)
    row = table.frame.iloc[0]
    assert (row["sku"], row["revenue"], row["note"]) == (12345, 7.5, "")
    assert pd.Timestamp(row["date"]) == pd.Timestamp("2024-01-02")


# --------------------------------------------------------------------------- limits
# Each file is small or legal on its face and would take gigabytes or minutes if read
# naively; each is refused in a child process that may use at most 2 GB of address space.

READER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from salesml.errors import FileFormatError
from salesml.ingest.reading import read_table
try:
    table = read_table(sys.argv[1], max_bytes=200 * 2**20)
except FileFormatError as exc:
    print(exc)
    sys.exit(3)
print(f"read {len(table.frame)} rows")
"""


def read_capped(path) -> tuple[int, str]:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", READER, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=root,
        env={"PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def far_cell_xlsx() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"date": ["2024-01-01"], "product": ["a"], "revenue": [1]}).to_excel(
        buffer, index=False
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(
                    b'<dimension ref="A1:C2"/>', b'<dimension ref="A1:XFD1048576"/>'
                )
                body = body.replace(
                    b"</sheetData>",
                    b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>',
                )
            target.writestr(info.filename, body)
    return out.getvalue()


def entity_xlsx() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"date": ["2024-01-01"], "product": ["a"]}).to_excel(buffer, index=False)
    laughs = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">'
            % (i, b"".join(b"&lol%d;" % (i - 1) if i > 1 else b"&lol;" for _ in range(10)))
            for i in range(1, 10)
        )
        + b"]>"
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = laughs + body.replace(b">a<", b">&lol9;<")
            target.writestr(info.filename, body)
    return out.getvalue()


def write_gzip_bomb(path) -> None:
    import gzip

    line = b"2024-01-01,a,1\n" * 100_000
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"date,product,revenue\n")
        for _ in range(1_000_000_000 // len(line)):
            handle.write(line)


def write_struct_parquet(path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"date": ["2024-01-01"], "product": [{"name": "a", "size": 1}], "revenue": [1]}),
        path,
    )


def write_parquet_bomb(path, *, as_dictionary: bool = True) -> None:
    """6,000,000 lines of one 250-character product name kept once in a dictionary: about
    0.24 MB on disk, 1.5 GB decoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 6_000_000
    zeros = np.zeros(rows, np.int32)
    columns = {
        "date": pa.DictionaryArray.from_arrays(zeros, ["2024-01-01"]),
        "product": pa.DictionaryArray.from_arrays(zeros, ["P" * 250]),
        "quantity": np.ones(rows, np.int64),
    }
    # Without Arrow's schema in the file, a reader sees plain text columns (still one
    # dictionary entry each in the file).
    pq.write_table(pa.table(columns), path, compression="zstd", store_schema=as_dictionary)
    assert path.stat().st_size < 512 * 1024


def write_shared_string_bomb(path) -> None:
    """A workbook of 30,000 rows showing one 30,000-character shared string: 2 MB of XML,
    0.9 GB decoded."""
    buffer = io.BytesIO()
    pd.DataFrame({"date": ["2024-01-01"], "product": ["a"]}).to_excel(buffer, index=False)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}" t="s"><v>1</v></c></row>'
        for n in range(1, 30_001)
    )
    strings = f"<si><t>date</t></si><si><t>{'P' * 30_000}</t></si>"
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts = {
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{rows}'
        "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<sst xmlns="{main}" count="2" uniqueCount="2">{strings}</sst>',
    }
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info).decode()
            if info.filename == "[Content_Types].xml" and "sharedStrings" not in body:
                body = body.replace(
                    "</Types>",
                    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                    'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            if info.filename == "xl/_rels/workbook.xml.rels" and "sharedStrings" not in body:
                body = body.replace(
                    "</Relationships>",
                    '<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships/sharedStrings" '
                    'Target="sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info.filename, parts.pop(info.filename, body))
        for name, body in parts.items():
            target.writestr(name, body)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file_name", "make", "message"),
    [
        ("dictionary-bomb.parquet", write_parquet_bomb, "decodes to more than 400 MB"),
        (
            "text-bomb.parquet",
            lambda path: write_parquet_bomb(path, as_dictionary=False),
            "decodes to more than 400 MB",
        ),
        ("shared-string-bomb.xlsx", write_shared_string_bomb, "decode to more than 400 MB"),
        ("far-cell.xlsx", lambda path: path.write_bytes(far_cell_xlsx()), "column 16,384"),
        ("entities.xlsx", lambda path: path.write_bytes(entity_xlsx()), "XML entities"),
        (
            "wide.csv",
            lambda path: path.write_bytes(b"a," * 10**7 + b"\n" + b"1," * 10**7),
            "MB per line",
        ),
        (
            "one-line.csv",
            lambda path: path.write_bytes(b"date,product," + b"x" * 190 * 10**6),
            "MB per line",
        ),
        ("bomb.csv.gz", write_gzip_bomb, "unpacks to more than 200 MB"),
        ("nested.parquet", write_struct_parquet, "nested values"),
    ],
)
def test_files_that_would_explode_are_refused_within_the_limits(tmp_path, file_name, make, message):
    path = tmp_path / file_name
    make(path)
    status, output = read_capped(path)
    assert status == 3, output
    assert message in output
    assert "\\n" not in output


@pytest.mark.slow
def test_a_large_csv_of_short_cells_reads_within_the_limits(tmp_path):
    path = tmp_path / "short.csv"
    line = b"2024-01-01,a,1,2,3,4,5,6,7,8\n"
    with path.open("wb") as handle:
        handle.write(b"date,product,c1,c2,c3,c4,c5,c6,c7,c8\n" + line * (190 * 10**6 // len(line)))
    status, output = read_capped(path)
    assert (status, output) == (0, f"read {190 * 10**6 // len(line)} rows")


def test_a_quoted_line_break_in_the_last_row_reads():
    data = (
        b'date,product_name,quantity,revenue\n2024-01-02,Ink,1,2\n2024-01-03,"multi\nline",2,20\n'
    )
    assert read_table(data, name="x.csv").frame["product_name"].tolist() == ["Ink", "multi\nline"]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "mac_roman"])
def test_blank_lines_before_the_header_are_skipped_in_any_encoding(encoding):
    data = ("\n\n" + names_csv(["Café crème"])).encode(encoding)
    table = read_table(data, name="x.csv")
    assert list(table.frame.columns) == ["date", "product_name", "quantity", "revenue"]
    assert table.frame["product_name"].tolist() == ["Café crème"]


def test_a_title_line_above_the_header_is_explained():
    data = b"Sales export 2024\ndate,product_name,quantity,revenue\n2024-01-02,Ink,1,2\n"
    with pytest.raises(FileFormatError, match="header the first line"):
        read_table(data, name="x.csv")


def test_parquet_decimal_and_binary_columns_read_as_numbers_and_text(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "typed.parquet"
    amounts = [decimal.Decimal("1.500"), decimal.Decimal("2.250")]
    pq.write_table(
        pa.table(
            {
                "date": ["2024-01-02", "2024-01-03"],
                "product_name": pa.array([b"Caf\xc3\xa9", b"Ink"], pa.binary()),
                "revenue": pa.array(amounts, pa.decimal128(10, 3)),
            }
        ),
        path,
    )
    frame = read_table(path).frame
    assert frame["product_name"].tolist() == ["Café", "Ink"]
    assert frame["revenue"].tolist() == [1.5, 2.25]


def padded_xlsx() -> bytes:
    """A workbook whose 300 MB of shared strings hide behind 3 MB of incompressible padding."""
    import os

    buffer = io.BytesIO()
    pd.DataFrame({"date": ["2024-01-01"], "product": ["a"]}).to_excel(buffer, index=False)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        strings = b"<sst>" + b"<si><t>abcdefgh</t></si>" * (300 * 2**20 // 24) + b"</sst>"
        target.writestr("xl/sharedStrings.xml", strings)
        target.writestr("xl/media/padding.bin", os.urandom(3 * 2**20))
    return out.getvalue()


def write_short_lines(path) -> None:
    with path.open("wb") as handle:
        handle.write(b"n\n" + b"1\n" * (95 * 10**6))


def write_long_accented_lines(path) -> None:
    line = "Café,".encode("cp1252") + b"x" * 100_000 + b"\n"
    with path.open("wb") as handle:
        handle.write(b"product,note\n" + line * 1_900)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file_name", "make", "expected"),
    [
        ("padded.xlsx", lambda path: path.write_bytes(padded_xlsx()), "expands this much"),
        ("accented-line.csv", lambda p: p.write_bytes("é".encode("cp1252") * 10**7), "per line"),
        ("short-lines.csv", write_short_lines, "read 95000000 rows"),
        ("long-accented-lines.csv", write_long_accented_lines, "read 1900 rows"),
    ],
)
def test_files_inside_or_just_outside_the_limits_read_within_them(
    tmp_path, file_name, make, expected
):
    path = tmp_path / file_name
    make(path)
    status, output = read_capped(path)
    assert expected in output, output
    assert status in (0, 3)
