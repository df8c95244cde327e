"""Read an uploaded file (CSV, XLSX or Parquet) into a table of raw values."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesml.errors import FileFormatError

DELIMITERS = (",", ";", "\t", "|")
TEXT_ENCODINGS = ("utf-8", "cp1252")
# An xlsx is a zip of XML; real sheets compress about 5-20x. A far higher ratio, or more
# uncompressed bytes than this, is a decompression bomb and is refused before it is opened.
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
UNPACKED_LIMIT = XLSX_MAX_UNCOMPRESSED  # the same bound for .csv.gz and .zip
XLSX_MAX_RATIO = 200
_SNIFF_LINES = 50


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any mapping or validation."""

    name: str
    sha256: str
    format: str
    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None


def read_table(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> RawTable:
    """Read CSV, XLSX or Parquet from a path or bytes; refuse what is not a sales table."""
    data, name = _load_bytes(source, name, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    data = _unwrap(data, name)
    if not data.strip():
        raise FileFormatError(f"{name}: the file is empty")
    kind = _detect_format(data, name)
    if kind == "xlsx":
        frame = _read_xlsx(data, name)
        table = RawTable(name, digest, kind, frame)
    elif kind == "parquet":
        table = RawTable(name, digest, kind, _read_parquet(data, name))
    else:
        text, used = _decode(data, name, encoding)
        sep = delimiter or _sniff_delimiter(text)
        table = RawTable(name, digest, kind, _read_csv(text, sep, name), used, sep)
    if len(table.frame.columns) == 0:
        raise FileFormatError(f"{name}: the file has no columns")
    if table.frame.empty:
        raise FileFormatError(f"{name}: the file has a header but no data rows")
    return table


def _load_bytes(source: str | Path | bytes, name: str | None, max_bytes: int | None):
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise FileFormatError(f"{path}: no such file")
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise FileFormatError(_too_large(name, path.stat().st_size, max_bytes))
        data = path.read_bytes()
    if max_bytes is not None and len(data) > max_bytes:
        raise FileFormatError(_too_large(name, len(data), max_bytes))
    return data, name


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: the file is {size / 2**20:,.1f} MB, over the upload limit of "
        f"{limit / 2**20:,.0f} MB; split it or raise SALESML_MAX_UPLOAD_MB"
    )


def _unwrap(data: bytes, name: str) -> bytes:
    """The CSV inside a .gz file or a .zip holding one CSV; other data as it is."""
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                inner = handle.read(UNPACKED_LIMIT + 1)
        except (OSError, EOFError) as exc:
            raise FileFormatError(f"{name}: the gzip file is damaged: {exc}") from None
        if len(inner) > UNPACKED_LIMIT:
            raise _expands_too_much(name)
        return inner
    if data[:4] != b"PK\x03\x04":
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                return data  # an xlsx workbook
            tables = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt"))]
            if len(tables) != 1:
                raise FileFormatError(
                    f"{name}: a zip file must hold exactly one CSV file (it holds {len(tables)})"
                )
            if archive.getinfo(tables[0]).file_size > UNPACKED_LIMIT:
                raise _expands_too_much(name)
            return archive.read(tables[0])
    except zipfile.BadZipFile:
        raise FileFormatError(f"{name}: the file is not a valid zip or xlsx file") from None


def _expands_too_much(name: str) -> FileFormatError:
    return FileFormatError(
        f"{name}: the compressed file unpacks to more than {UNPACKED_LIMIT / 2**20:,.0f} MB; "
        "refusing a file that expands this much"
    )


def _detect_format(data: bytes, name: str) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:4] == b"PAR1":
        return "parquet"
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".parquet"):
        raise FileFormatError(f"{name}: the file is named {suffix} but is not a valid {suffix}")
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 with a byte-order mark
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    if b"\x00" in head or controls > len(head) // 100:
        raise FileFormatError(
            f"{name}: this is binary data, not a CSV, XLSX or Parquet file "
            f"(it starts with {data[:8]!r})"
        )
    return "csv"


def _decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = (encoding,) if encoding else TEXT_ENCODINGS
    error: UnicodeDecodeError | None = None
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError as exc:
            error = exc
            continue
        except LookupError:
            raise FileFormatError(f"{name}: unknown encoding {candidate!r}") from None
        text = text.removeprefix("\ufeff")
        # Windows (CRLF) and old-Mac (CR-only) line ends become LF before parsing.
        return text.replace("\r\n", "\n").replace("\r", "\n"), candidate
    assert error is not None
    raise FileFormatError(
        f"{name}: the text is not {' or '.join(candidates)} (byte 0x{error.object[error.start]:02x}"
        f" at offset {error.start}); save it as UTF-8 or pass --encoding"
    )


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into the same number (>1) of fields."""
    sample = text[:200_000].split("\n", _SNIFF_LINES)[:_SNIFF_LINES]
    sample = [line for line in sample if line.strip()]
    if len(sample) > 2:
        sample = sample[:-1]  # the last line of the sample may be cut short
    best, best_width = ",", 1
    for sep in DELIMITERS:
        try:
            widths = {len(row) for row in csv.reader(sample, delimiter=sep)}
        except csv.Error:
            continue
        if len(widths) == 1 and (width := widths.pop()) > best_width:
            best, best_width = sep, width
    return best


def _read_csv(text: str, sep: str, name: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise FileFormatError(f"{name}: the file is empty") from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[-1]
        raise FileFormatError(f"{name}: the CSV is malformed: {reason}") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.fillna("")


def _read_xlsx(data: bytes, name: str) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileFormatError(f"{name}: the file is not a valid xlsx workbook") from None
    if unpacked > XLSX_MAX_UNCOMPRESSED or unpacked > XLSX_MAX_RATIO * max(len(data), 1):
        raise FileFormatError(
            f"{name}: the workbook unpacks to {unpacked / 2**20:,.0f} MB from "
            f"{len(data) / 2**20:,.1f} MB; refusing a file that expands this much "
            "(export the sheet as CSV instead)"
        )
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl")
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{name}: the workbook cannot be read: {exc}") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.dropna(how="all").fillna("")


def _read_parquet(data: bytes, name: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many unrelated types for a corrupt file
        raise FileFormatError(f"{name}: the Parquet file cannot be read: {exc}") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.reset_index(drop=True)
