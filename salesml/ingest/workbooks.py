"""Read the first sheet of an XLSX workbook, refusing a bomb before it is opened and a sheet
past the limits while its rows are read."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from salesml.errors import FileFormatError
from salesml.ingest.columns import MAX_COLUMNS, unique_names

MAX_SHEET_CELLS = 10_000_000
# An xlsx is a zip of XML; real sheets compress about 5-20x. A far higher ratio, or more
# XML than this, is a decompression bomb and is refused before it is opened.
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200
# openpyxl holds a workbook's shared strings in memory, each as a Python object.
XLSX_MAX_SHARED_STRINGS = 100 * 1024 * 1024
_EXCEL_MAX_ROWS = 1_048_576


def read_xlsx(data: bytes, name: str, limit: int) -> pd.DataFrame:
    """The first sheet, streamed row by row with the cell and column limits enforced and
    at most `limit` bytes decoded."""
    import openpyxl

    _check_workbook(data, name)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (ValueError, KeyError, OSError, TypeError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{name}: the workbook cannot be read: {exc}") from None
    try:
        rows = _sheet_rows(book.worksheets[0], name, limit)
    except FileFormatError:
        raise
    except (ValueError, KeyError, TypeError, SyntaxError) as exc:
        raise FileFormatError(f"{name}: the workbook cannot be read: {exc}") from None
    finally:
        book.close()
    if not rows:
        raise FileFormatError(f"{name}: the first sheet is empty")
    header, *body = rows
    width = max(len(row) for row in rows)
    names = [_cell_text(value).strip() for value in header]
    columns = unique_names(names + [""] * (width - len(names)))
    frame = pd.DataFrame([row + (None,) * (width - len(row)) for row in body], columns=columns)
    return frame.astype(object).where(frame.notna(), "")


def _check_workbook(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = [i for i in archive.infolist() if i.filename.endswith((".xml", ".rels"))]
            _check_expansion(xml, name)
            for info in xml:
                with archive.open(info) as handle:
                    _refuse_declarations(handle.read(65536), name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise FileFormatError(f"{name}: the file is not a valid xlsx workbook") from None


def _check_expansion(xml: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse XML parts that unpack to too much, in total or for their own compressed size."""
    unpacked = sum(info.file_size for info in xml)
    # Each part on its own: padding the zip with incompressible bytes must not hide a bomb.
    swollen = [
        info
        for info in xml
        if info.file_size > 2**20 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1)
    ]
    strings = sum(i.file_size for i in xml if i.filename.endswith("sharedStrings.xml"))
    if unpacked > XLSX_MAX_UNCOMPRESSED or swollen or strings > XLSX_MAX_SHARED_STRINGS:
        raise FileFormatError(
            f"{name}: the workbook's XML unpacks to {unpacked / 2**20:,.0f} MB "
            f"({strings / 2**20:,.0f} MB of shared text); refusing a file that expands this much "
            "(export the sheet as CSV instead)"
        )


def _refuse_declarations(head: bytes, name: str) -> None:
    """Workbooks never declare a DTD; one that does may expand entities without end."""
    lowered = head.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise FileFormatError(
            f"{name}: the workbook declares XML entities, which spreadsheets never do; "
            "refusing it (export the sheet as CSV instead)"
        )


def _sheet_rows(sheet, name: str, limit: int) -> list[tuple]:
    sheet.reset_dimensions()  # the declared size may be a lie (A1:XFD1048576)
    rows: list[tuple] = []
    width = decoded = 0
    # Rows the sheet skips come as empty tuples, so the count is the sheet's row number.
    rows_seen = enumerate(sheet.iter_rows(max_row=_EXCEL_MAX_ROWS, values_only=True), start=1)
    for number, row in rows_seen:
        values = _trimmed(row)
        if not values:
            continue
        if len(values) > MAX_COLUMNS:
            raise FileFormatError(
                f"{name}: row {number:,} of the sheet reaches column {len(values):,}, over "
                f"the limit of {MAX_COLUMNS:,} columns; delete the stray cells or export as CSV"
            )
        width = max(width, len(values))
        if (len(rows) + 1) * width > MAX_SHEET_CELLS:
            raise FileFormatError(
                f"{name}: the sheet holds more than {MAX_SHEET_CELLS:,} cells, the limit for "
                "a workbook; export it as CSV (or split it)"
            )
        # A shared string is held once however many cells show it, but every later step
        # copies it per cell: count what the cells decode to.
        decoded += sum(len(value) if isinstance(value, str) else 8 for value in values)
        if decoded > limit:
            raise FileFormatError(
                f"{name}: the sheet's cells decode to more than {limit / 2**20:,.0f} MB of "
                "text, twice the upload limit; export it as CSV (or split it)"
            )
        rows.append(values)
    return rows


def _trimmed(row: tuple) -> tuple:
    end = len(row)
    while end and (row[end - 1] is None or row[end - 1] == ""):
        end -= 1
    return row[:end]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
