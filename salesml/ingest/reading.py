"""Read an uploaded file (CSV, XLSX or Parquet) into a table of raw values, within set limits.

Every limit is checked before the part of the file it guards is parsed, so a small file
that would expand to gigabytes (a gzip bomb, a sheet whose one cell sits at XFD1048576, a
line of 190 MB) is refused in a moment instead of exhausting the machine.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesml.config import DEFAULT_MAX_UPLOAD_MB
from salesml.errors import FileFormatError
from salesml.ingest import encodings
from salesml.ingest.columns import MAX_COLUMNS, unique_names

DELIMITERS = (",", ";", "\t", "|")
# Limits on what a file may hold (README: "Input limits"); MAX_COLUMNS is in columns.
MAX_LINE_BYTES = 1024 * 1024
_SCAN_BLOCK = 4 * 1024 * 1024
_SNIFF_LINES = 50
# A plain CSV file larger than this is read a block of lines at a time, never whole
# (see open_stream), in blocks of about this size.
STREAM_BYTES = 64 * 1024 * 1024
STREAM_BLOCK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any mapping or validation."""

    name: str
    sha256: str
    format: str
    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    encoding_detected: bool = False


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
    limit = max_bytes or DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    data = _unwrap(data, name, limit)
    if not data.strip():
        raise FileFormatError(f"{name}: the file is empty")
    kind = _detect_format(data, name)
    # Imported here: only a workbook or Parquet file needs them.
    from salesml.ingest import parquet_files, workbooks

    if kind == "xlsx":
        frame = workbooks.read_xlsx(data, name, decoded_limit(limit))
        table = RawTable(name, digest, kind, frame)
    elif kind == "parquet":
        frame = parquet_files.read_parquet(data, name, decoded_limit(limit))
        table = RawTable(name, digest, kind, frame)
    else:
        table = _read_text(data, name, digest, encoding, delimiter)
    if len(table.frame.columns) == 0:
        raise FileFormatError(f"{name}: the file has no columns")
    if table.frame.empty:
        raise FileFormatError(f"{name}: the file has a header but no data rows")
    return table


def decoded_limit(upload_limit: int) -> int:
    """How much a workbook or Parquet file may decode to: what a CSV file at the upload
    limit does (its text, and an offset or a number per cell)."""
    return 2 * upload_limit


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


# --------------------------------------------------------------------------- containers


def _unwrap(data: bytes, name: str, limit: int) -> bytes:
    """The CSV inside a .gz file or a .zip holding one CSV, at most `limit` bytes unpacked."""
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                inner = handle.read(limit + 1)
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise FileFormatError(f"{name}: the gzip file is damaged: {exc}") from None
        if len(inner) > limit:
            raise _expands_too_much(name, limit)
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
            with archive.open(tables[0]) as handle:
                inner = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise FileFormatError(f"{name}: the file is not a valid zip or xlsx file") from None
    if len(inner) > limit:
        raise _expands_too_much(name, limit)
    return inner


def _expands_too_much(name: str, limit: int) -> FileFormatError:
    return FileFormatError(
        f"{name}: the compressed file unpacks to more than {limit / 2**20:,.0f} MB, the "
        "upload limit; refusing a file that expands this much (split it)"
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
            f"({_describe_start(data)})"
        )
    return "csv"


# Files people upload by mistake, known by their first bytes.
_SIGNATURES = {
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "an old Excel workbook (.xls): save it as .xlsx or CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "an image (PNG)",
    b"\xff\xd8\xff": "an image (JPEG)",
}


def _describe_start(data: bytes) -> str:
    """What a binary file looks like, in words: its kind when known, else its first bytes."""
    kind = next((kind for sig, kind in _SIGNATURES.items() if data.startswith(sig)), None)
    if kind:
        return f"it looks like {kind}"
    head = data[:8]
    if head.isascii() and head.decode().isprintable():
        return f"it starts with '{head.decode()}'"
    return f"its first bytes are {head.hex(' ')}"


# --------------------------------------------------------------------------- text (CSV)


def _read_text(
    data: bytes, name: str, digest: str, encoding: str | None, delimiter: str | None
) -> RawTable:
    _check_line_lengths(data, name)
    if encoding:
        chosen, detected = encodings.normalise(encoding), False
        if chosen == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
    else:
        chosen, detected = encodings.guess(data, name).encoding, True
    body = _strip_leading_blank_lines(data, chosen)
    header_line = _first_line(body, chosen, name)
    sep = delimiter or _sniff_delimiter(_decoded_head(body, chosen))
    columns = _header(header_line, sep, name)
    frame = _parse_csv(body, columns, sep, chosen, name)
    return RawTable(name, digest, "csv", frame, chosen, sep, detected)


def _check_line_lengths(data: bytes, name: str) -> None:
    """Refuse a line longer than MAX_LINE_BYTES before any parser buffers it."""
    if len(data) <= MAX_LINE_BYTES:
        return
    _refuse_long_lines(name, _longest_line(data))


def _refuse_long_lines(name: str, longest: int) -> None:
    if longest > MAX_LINE_BYTES:
        raise FileFormatError(
            f"{name}: a line is {longest / 2**20:,.1f} MB long, over the limit of "
            f"{MAX_LINE_BYTES / 2**20:,.0f} MB per line; is this really a CSV file?"
        )


def _longest_line(data: bytes) -> int:
    """The length in bytes of the longest line, scanned a block at a time (flat memory)."""
    scan = _LongestLine()
    for start in range(0, len(data), _SCAN_BLOCK):
        scan.feed(
            np.frombuffer(data, np.uint8, count=min(_SCAN_BLOCK, len(data) - start), offset=start)
        )
    return scan.longest


class _LongestLine:
    """The longest line of a text fed a block at a time."""

    def __init__(self) -> None:
        self.longest = self.carry = 0

    def feed(self, raw: np.ndarray) -> None:
        ends = np.flatnonzero((raw == 10) | (raw == 13))
        if ends.size == 0:
            self.carry += raw.size
        else:
            inside = int(np.diff(ends).max()) - 1 if ends.size > 1 else 0
            self.longest = max(self.longest, self.carry + int(ends[0]), inside)
            self.carry = raw.size - int(ends[-1]) - 1
        self.longest = max(self.longest, self.carry)


def _strip_leading_blank_lines(data: bytes, encoding: str) -> bytes:
    if encoding.startswith(("utf-16", "utf-32")):
        return data  # the parser transcodes these; a newline there is not the byte 0x0a
    start = len(data) - len(data.lstrip(b" \t\r\n"))
    if start == 0:
        return data
    line_start = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
    return data[line_start:]


def _first_line(data: bytes, encoding: str, name: str) -> str:
    text = _decoded_head(data, encoding)
    for line in text.splitlines():
        if line.strip():
            return line
    raise FileFormatError(f"{name}: the file is empty")


def _decoded_head(data: bytes, encoding: str) -> str:
    """The first ~200 KB of the file as text (a character cut in half is dropped)."""
    text = data[: 200_000 + 4].decode(encoding, errors="ignore")
    return text.removeprefix("\ufeff")


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into the same number (>1) of fields."""
    sample = [line for line in text.splitlines()[:_SNIFF_LINES] if line.strip()]
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


def _header(line: str, sep: str, name: str) -> list[str]:
    """Column names from the header line, stripped and made unique ('Sales', 'Sales.1')."""
    fields = next(csv.reader([line], delimiter=sep), [])
    if len(fields) > MAX_COLUMNS:
        raise FileFormatError(
            f"{name}: the header has {len(fields):,} columns, over the limit of "
            f"{MAX_COLUMNS:,}; keep the sales columns and save again"
        )
    return unique_names([field.strip() for field in fields])


def _parse_csv(data: bytes, columns: list[str], sep: str, encoding: str, name: str):
    """Every cell as text, held by pyarrow: a 200 MB file stays well under a gigabyte."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    read, parse, convert = _csv_options(columns, sep, encoding, 4 * MAX_LINE_BYTES)
    with _csv_errors(name, encoding, columns):
        table = pa_csv.read_csv(pa.BufferReader(data), read, parse, convert)
    frame = _arrow_frame(table)
    _check_quotes_closed(frame, data.endswith, encoding, name)
    return frame


def _csv_options(
    columns: list[str], sep: str, encoding: str, block_size: int, include: list[str] | None = None
):
    """pyarrow's options to read every cell (or those of `include`) as text."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    read = pa_csv.ReadOptions(
        column_names=columns,
        skip_rows=1,
        encoding="utf8" if encoding == "utf-8" else encoding,
        block_size=block_size,
    )
    parse = pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True)
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=include or [],
    )
    return read, parse, convert


def _arrow_frame(table) -> pd.DataFrame:
    """An Arrow table of text as a frame that keeps pyarrow's buffers (no Python strings)."""
    import pyarrow as pa

    return table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)


@contextmanager
def _csv_errors(name: str, encoding: str, columns: list[str]) -> Iterator[None]:
    """pyarrow's errors while parsing a CSV, as one line for the user."""
    import pyarrow as pa

    try:
        yield
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise FileFormatError(
            f"{name}: the text is not {encodings.label(encoding)} (byte 0x{byte:02x} has no "
            "meaning in it); choose another encoding or leave it detected",
            setting="encoding",
        ) from None
    except UnicodeError:  # a codec's own complaint, such as UTF-16 without a byte-order mark
        raise FileFormatError(
            f"{name}: the text is not {encodings.label(encoding)}; choose another encoding "
            "or leave it detected",
            setting="encoding",
        ) from None
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise FileFormatError(
                f"{name}: the text is not {encodings.label(encoding)}; choose another encoding "
                "or leave it detected",
                setting="encoding",
            ) from None
        reason = _parse_error(exc)
        if len(columns) == 1:
            reason += "; is the delimiter one of , ; tab | and the header the first line?"
        raise FileFormatError(f"{name}: the CSV is malformed: {reason}") from None


def _parse_error(exc: Exception) -> str:
    reason = str(exc).strip().splitlines()[0].removeprefix("CSV parse error: ")
    if reason.startswith("Expected"):
        return f"{reason[:200]} (each line needs as many fields as the header)"
    return reason[:200]


def _check_quotes_closed(
    frame: pd.DataFrame, ends_with: Callable[[bytes], bool], encoding: str, name: str
) -> None:
    """A quote never closed swallows the rest of the file into one cell: refuse that.

    Such a cell runs to the end of the file, line breaks and all; a quoted cell that was
    closed is followed by its closing quote at least.
    """
    if frame.empty:
        return
    for cell in frame.iloc[-1].astype(str):
        if ("\n" in cell or "\r" in cell) and ends_with(cell.encode(encoding, "replace")):
            raise FileFormatError(
                f"{name}: the CSV is malformed: a quote opened in the last row is never closed"
            )


# --------------------------------------------------------------------------- large CSV


@dataclass(frozen=True)
class CsvStream:
    """A large plain CSV file, read a block of lines at a time and never whole."""

    name: str
    sha256: str
    path: Path
    size: int
    encoding: str
    delimiter: str
    columns: list[str]
    encoding_detected: bool
    estimated_rows: int  # from the length of the first lines

    def frames(self, columns: list[str] | None = None) -> Iterator[tuple[pd.DataFrame, float]]:
        """The rows (of every column, or of `columns`) a block at a time, every cell as text,
        each block with an estimate of the share of the file read by then."""
        import pyarrow.csv as pa_csv

        options = _csv_options(
            self.columns, self.delimiter, self.encoding, STREAM_BLOCK_BYTES, columns
        )
        last, rows = None, 0
        source = _PacedFile(self.path, ahead=2 * STREAM_BLOCK_BYTES)
        try:
            with _csv_errors(self.name, self.encoding, self.columns):
                for batch in pa_csv.open_csv(source, *options):
                    source.allow(STREAM_BLOCK_BYTES)
                    if batch.num_rows:
                        last, rows = _arrow_frame(batch), rows + batch.num_rows
                        yield last, min(0.99, rows / self.estimated_rows)
        finally:
            source.stop()
        if last is not None and columns is None:
            _check_quotes_closed(last, self._ends_with, self.encoding, self.name)

    def _ends_with(self, text: bytes) -> bool:
        if len(text) > self.size:
            return False
        with open(self.path, "rb") as handle:
            handle.seek(self.size - len(text))
            return handle.read() == text


def open_stream(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvStream | None:
    """A CSV file of more than STREAM_BYTES, to be read a block at a time; None for any
    other file (read it whole with read_table).

    Only plain UTF-8 (or ASCII) text streams: a compressed file, a workbook and a legacy
    encoding (whose detection weighs the whole text) are read whole. The whole file is
    scanned once first, a block at a time, for its digest and the line limit. No upload
    limit applies: it bounds what is held whole, and a block at a time memory stays flat.
    """
    if isinstance(source, bytes | bytearray):
        return None
    path = Path(source)
    size = path.stat().st_size if path.is_file() else 0
    if size <= STREAM_BYTES:
        return None
    name = name or path.name
    with open(path, "rb") as handle:
        head = handle.read(200_000 + 4)
    if head[:2] == b"\x1f\x8b" or head[:4] in (b"PK\x03\x04", b"PAR1"):
        return None
    if _detect_format(head, name) != "csv" or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if encoding and encodings.normalise(encoding) != "utf-8":
        return None
    if head.lstrip(b" \t\r\n") != head:
        return None  # leading blank lines: read_table knows where the header starts
    digest = _scan(path, name)
    if digest is None:
        return None
    sep = delimiter or _sniff_delimiter(_decoded_head(head, "utf-8"))
    columns = _header(_first_line(head, "utf-8", name), sep, name)
    estimated = max(1, size * max(1, head.count(b"\n")) // len(head))
    return CsvStream(name, digest, path, size, "utf-8", sep, columns, encoding is None, estimated)


class _PacedFile(io.RawIOBase):
    """A file pyarrow's CSV reader reads only so far ahead of the rows taken from it.

    Its read-ahead (in a thread of its own) would otherwise take in the whole file at the
    first block, holding all of it in memory. A read waits (at most a couple of seconds)
    until the reader is allowed further, one block per block of rows taken; once stopped,
    the file ends.
    """

    def __init__(self, path: Path, *, ahead: int) -> None:
        super().__init__()
        self.handle = open(path, "rb")  # noqa: SIM115 - closed by stop()
        self.position, self.allowed, self.stopped = 0, ahead, False
        self.turn = threading.Condition()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        with self.turn:
            # Waiting is bounded: after a parse error pyarrow may need more of the file
            # before it reports, while the rows are no longer taken.
            self.turn.wait_for(lambda: self.position < self.allowed or self.stopped, timeout=2)
            if self.stopped:
                return 0
            size = self.handle.readinto(buffer)
            self.position += size
            return size

    def allow(self, size: int) -> None:
        with self.turn:
            self.allowed += size
            self.turn.notify_all()

    def stop(self) -> None:
        with self.turn:
            self.stopped = True
            self.handle.close()
            self.turn.notify_all()


def _scan(path: Path, name: str) -> str | None:
    """The file's SHA-256, after checking its lines' length; None unless it is UTF-8."""
    import codecs

    digest, lines = hashlib.sha256(), _LongestLine()
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            digest.update(block)
            lines.feed(np.frombuffer(block, np.uint8))
            if not block.isascii():
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    _refuse_long_lines(name, lines.longest)
    return digest.hexdigest()
