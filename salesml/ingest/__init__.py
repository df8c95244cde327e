"""Ingest: a sales file (or rows sent as records) into the database as one batch, with every
row accounted for. The modules, in the order a file goes through them:

- reading: a file's bytes into a table of raw text values (CSV, XLSX via workbooks, Parquet
  via parquet_files), within set limits; a large CSV file as a stream of blocks; columns:
  how many a file may have, their names made unique
- encodings: which text encoding a file is in
- mapping: which column holds each field
- numbers, dates: numbers and dates written as text, their decimal mark and day order
  decided from the data
- validate: each row checked and cleaned, or rejected with a reason
- repeats: lines repeating one before them; identity: the key each loaded line carries
- summary: the options a load is given and the summary of how every row went
- load: the batch loaded in one transaction (ingest_file, ingest_records), whole or a
  block at a time after a first reading (survey) and through temporary files (spill)
- progress, background: how far a load has come; a load in a thread of its own
"""

from salesml.choices import FIELDS
from salesml.ingest.background import BackgroundLoad
from salesml.ingest.load import (
    ingest_file,
    ingest_records,
    load_prepared,
    load_stream,
    records_table,
)
from salesml.ingest.mapping import REQUIRED, check_mapping, detect_mapping, missing_fields
from salesml.ingest.progress import LoadProgress
from salesml.ingest.reading import CsvStream, RawTable, open_stream, read_table
from salesml.ingest.summary import IngestOptions, IngestSummary, PreparedBatch
from salesml.ingest.validate import prepare

__all__ = [
    "FIELDS",
    "REQUIRED",
    "BackgroundLoad",
    "CsvStream",
    "IngestOptions",
    "IngestSummary",
    "LoadProgress",
    "PreparedBatch",
    "RawTable",
    "check_mapping",
    "detect_mapping",
    "ingest_file",
    "ingest_records",
    "load_prepared",
    "load_stream",
    "missing_fields",
    "open_stream",
    "prepare",
    "read_table",
    "records_table",
]
