"""A large CSV file is loaded a block at a time, and loads exactly as if it were read whole."""

from __future__ import annotations

import gzip
import threading

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from salesml import db, rollups
from salesml.deletion import delete_batch
from salesml.errors import (
    AmbiguousDateError,
    AmbiguousNumberError,
    FileFormatError,
    NothingToLoadError,
)
from salesml.ingest import IngestOptions, ingest_file, reading

AGREED = {"sales_daily_category": 0, "sales_monthly_product": 0}
# Blocks of about a hundred lines: a file of a few thousand lines is read in dozens.
BLOCK_BYTES = 4096


@pytest.fixture
def streamed(monkeypatch):
    """Every CSV file given by path is read a block at a time."""
    monkeypatch.setattr(reading, "STREAM_BYTES", 0)
    monkeypatch.setattr(reading, "STREAM_BLOCK_BYTES", BLOCK_BYTES)


def messy_lines(count: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Day-first dates whose order only lines after the first blocks decide; decimal commas
    that only later lines show; gaps to impute; bad values; lines repeated far apart."""
    rng = np.random.default_rng(seed)
    day = rng.integers(1, 13, count)  # 1..12: the order cannot be told from these
    month = rng.integers(1, 13, count)
    quantity = rng.integers(1, 9, count).astype(str).astype(object)
    cents = rng.integers(100, 99_999, count)
    revenue = np.array([f"{c // 100}" for c in cents], dtype=object)  # whole: no decimal mark
    frame = pd.DataFrame(
        {
            "Date": [f"{d:02d}/{m:02d}/2024" for d, m in zip(day, month, strict=True)],
            "Product": [f"Item {n}" for n in rng.integers(0, 40, count)],
            "Category": [f"Group {n}" for n in rng.integers(0, 4, count)],
            "Quantity": quantity,
            "Revenue": revenue,
        }
    )
    late = count * 3 // 4
    frame.loc[late, "Date"] = "25/03/2024"  # the first day over 12: day-first
    frame.loc[late + 1, "Revenue"] = "12,50"  # the first decimal comma
    frame.loc[late + 2 :: 97, "Revenue"] = [
        f"{c / 100:.2f}".replace(".", ",") for c in cents[late + 2 :: 97]
    ]
    frame.loc[5::211, "Quantity"] = ""  # gaps, imputed with the whole file's mean
    frame.loc[7::307, "Date"] = "not a date"
    frame.loc[count - 3, "Quantity"] = "lots"
    frame.loc[count - 2] = frame.loc[3]  # repeats a line of the first block exactly
    frame.loc[count - 1] = frame.loc[10]
    return frame


def load(url: str, path, **options) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Load a file into a fresh database: the summary, the lines and the rejections."""
    engine = db.create_engine_for(url)
    db.init_db(engine)
    try:
        summary = ingest_file(engine, path, options=IngestOptions(**options)).as_dict()
        with engine.connect() as conn:
            lines = pd.read_sql(
                "SELECT date, product_name, category, quantity, revenue, row_key FROM sales_data "
                "ORDER BY row_key",
                conn,
            )
            rejected = pd.read_sql(
                "SELECT row_number, column_name, reason, raw_value FROM ingest_rejections "
                "ORDER BY row_number, column_name",
                conn,
            )
        assert rollups.differences(engine) == AGREED
    finally:
        engine.dispose()
    summary.pop("batch_id")
    return summary, lines, rejected


@pytest.mark.slow
def test_a_file_loads_the_same_a_block_at_a_time_as_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "sales.csv"
    messy_lines().to_csv(path, index=False)
    whole = load(f"sqlite:///{tmp_path / 'whole.db'}", path)
    monkeypatch.setattr(reading, "STREAM_BYTES", 0)
    monkeypatch.setattr(reading, "STREAM_BLOCK_BYTES", BLOCK_BYTES)
    assert reading.open_stream(path) is not None
    streamed = load(f"sqlite:///{tmp_path / 'streamed.db'}", path)
    assert streamed[0] == whole[0]
    assert whole[0]["date_order"] == "day-month-year" and whole[0]["decimal_mark"] == ","
    assert whole[0]["rows_duplicate"] == 2 and whole[0]["imputed_quantity"] > 10
    pd.testing.assert_frame_equal(streamed[1], whole[1])
    pd.testing.assert_frame_equal(streamed[2], whole[2])
    assert set(whole[2]["row_number"]) >= {9, 316, 2999}  # rows of the first and last blocks


@pytest.mark.slow
def test_lines_kept_when_duplicates_are_kept_get_their_occurrence_across_blocks(
    tmp_path, monkeypatch
):
    path = tmp_path / "sales.csv"
    messy_lines().to_csv(path, index=False)
    whole = load(f"sqlite:///{tmp_path / 'whole.db'}", path, keep_duplicates=True)
    monkeypatch.setattr(reading, "STREAM_BYTES", 0)
    monkeypatch.setattr(reading, "STREAM_BLOCK_BYTES", BLOCK_BYTES)
    streamed = load(f"sqlite:///{tmp_path / 'streamed.db'}", path, keep_duplicates=True)
    assert streamed[0] == whole[0] and streamed[0]["rows_duplicate"] == 0
    pd.testing.assert_frame_equal(streamed[1], whole[1])


def test_an_order_contradicted_in_a_late_block_is_refused_before_anything_loads(
    engine, tmp_path, streamed
):
    frame = messy_lines()
    frame.loc[len(frame) - 10, "Date"] = "03/25/2024"  # month-first, after a day-first one
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(AmbiguousDateError, match="mix formats"):
        ingest_file(engine, path)
    assert db.overview(engine).rows == 0


def test_a_malformed_line_in_a_late_block_loads_nothing(engine, tmp_path, streamed):
    path = tmp_path / "sales.csv"
    text = messy_lines().to_csv(index=False)
    path.write_text(text + "01/02/2024,Pen,Office,1,2,extra,fields\n")
    with pytest.raises(FileFormatError, match="malformed"):
        ingest_file(engine, path)
    assert db.overview(engine).rows == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ingest_batches")).scalar_one() == 0


@pytest.mark.slow
def test_streamed_loads_deletes_and_reloads_keep_the_rollups_to_the_cent(
    engine, tmp_path, streamed
):
    frame = messy_lines()
    frame.loc[[0, 1000], "Date"] = "25/01/2024"  # each file's dates are day-first
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    frame.iloc[:2000].to_csv(first, index=False)
    frame.iloc[1000:].to_csv(second, index=False)  # overlaps the first file's last 1,000
    loaded = ingest_file(engine, first)
    overlapping = ingest_file(engine, second)
    assert overlapping.rows_already_present > 900
    assert rollups.differences(engine) == AGREED
    with pytest.raises(NothingToLoadError, match="nothing new"):
        ingest_file(engine, first)
    delete_batch(engine, loaded.batch_id)
    assert rollups.differences(engine) == AGREED
    assert db.overview(engine).rows == overlapping.rows_loaded
    again = ingest_file(engine, first)  # the shared lines went with the first batch
    assert again.rows_loaded == loaded.rows_loaded
    assert rollups.differences(engine) == AGREED
    assert db.overview(engine).rows == overlapping.rows_loaded + again.rows_loaded


@pytest.mark.slow
def test_a_long_load_reports_rows_per_second_and_the_time_left(engine, tmp_path, streamed):
    path = tmp_path / "sales.csv"
    messy_lines().to_csv(path, index=False)
    seen = []
    summary = ingest_file(engine, path, progress=seen.append)
    stages = [p.stage for p in seen]
    assert stages[0] == "checking" and stages[-1] == "loading"
    shares = [p.share for p in seen]
    assert shares == sorted(shares) and 0 < shares[0] < shares[-1] <= 1
    assert seen[-1].rows == summary.rows_loaded
    assert "rows/s" in seen[-1].describe()


def test_small_compressed_and_legacy_encoded_files_are_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "sales.csv"
    messy_lines(200).to_csv(path, index=False)
    assert reading.open_stream(path) is None  # under STREAM_BYTES
    monkeypatch.setattr(reading, "STREAM_BYTES", 0)
    assert reading.open_stream(path) is not None
    assert reading.open_stream(path.read_bytes()) is None
    packed = tmp_path / "sales.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert reading.open_stream(packed) is None
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes("Date,Product,Revenue\n2024-01-02,Caf\xe9,3\n".encode("cp1252"))
    assert reading.open_stream(legacy) is None


def test_a_line_over_the_limit_is_refused_before_any_block_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "STREAM_BYTES", 0)
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "sales.csv"
    path.write_text("Date,Product,Revenue\n2024-01-02," + "x" * 2000 + ",3\n")
    with pytest.raises(FileFormatError, match="over the limit"):
        reading.open_stream(path)


def test_a_decimal_comma_after_blocks_of_decimal_points_is_refused_as_a_mix(
    engine, tmp_path, streamed
):
    frame = messy_lines()
    frame["Revenue"] = "12.50"
    frame.loc[len(frame) - 5, "Revenue"] = "7,25"
    frame.loc[[0, 1], "Date"] = "25/01/2024"
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(AmbiguousNumberError, match="mix decimal marks"):
        ingest_file(engine, path)
    assert db.overview(engine).rows == 0


@pytest.mark.slow
def test_a_file_that_changes_between_its_readings_loads_nothing(
    engine, tmp_path, streamed, monkeypatch
):
    path = tmp_path / "sales.csv"
    messy_lines().to_csv(path, index=False, date_format=None)
    frames = reading.CsvStream.frames

    def growing(self, columns=None):
        if columns is None:  # the second reading: a line was appended since the first
            with open(path, "a") as handle:
                handle.write("25/01/2024,Pen,Office,1,2\n")
        return frames(self, columns)

    monkeypatch.setattr(reading.CsvStream, "frames", growing)
    with pytest.raises(FileFormatError, match="changed while it was being loaded"):
        ingest_file(engine, path)
    assert db.overview(engine).rows == 0


@pytest.mark.slow
def test_a_malformed_line_in_a_middle_block_is_refused_at_once(engine, tmp_path, streamed):
    lines = messy_lines().to_csv(index=False).splitlines(keepends=True)
    path = tmp_path / "sales.csv"
    path.write_text("".join([*lines[:1500], "01/02/2024,Pen,Office,1,2,extra\n", *lines[1500:]]))
    outcome = []

    def load() -> None:
        try:
            ingest_file(engine, path)
        except FileFormatError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the load hung"
    assert outcome and "malformed" in outcome[0]
    assert db.overview(engine).rows == 0
