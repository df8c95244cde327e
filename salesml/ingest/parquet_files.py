"""Read a Parquet file, a batch of rows at a time, within what it may decode to."""

from __future__ import annotations

import pandas as pd

from salesml.errors import FileFormatError
from salesml.ingest.columns import MAX_COLUMNS, unique_names

# Parquet is decoded this many rows at a time, counting what the rows take (see
# _decoded_batches); a batch of 250-character names takes about 16 MB.
_PARQUET_BATCH_ROWS = 65_536


def read_parquet(data: bytes, name: str, limit: int) -> pd.DataFrame:
    """The file's table, decoded a batch at a time to at most `limit` bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        _check_parquet(parquet, name)
        table = _plain_types(_decoded_batches(parquet, name, limit))
    except FileFormatError:
        raise
    except Exception as exc:  # pyarrow raises many unrelated types for a corrupt file
        raise FileFormatError(f"{name}: the Parquet file cannot be read: {exc}") from None
    frame = table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)
    frame.columns = unique_names([str(column).strip() for column in frame.columns])
    return frame.reset_index(drop=True)


def _decoded_batches(parquet, name: str, limit: int):
    """The file's rows, decoded a batch at a time with a running count of their bytes.

    A file's encoded size says nothing of what it decodes to: one 250-character name kept
    once in a dictionary and repeated over 6 million rows is 0.24 MB on disk and 1.5 GB
    decoded. Dictionaries are decoded here, as any later step would; the reading stops
    as soon as the count passes the limit, holding at most that much.
    """
    import pyarrow as pa

    batches, decoded = [], 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
        batch = pa.RecordBatch.from_arrays(
            [_undictionary(column) for column in batch.columns], names=batch.schema.names
        )
        decoded += batch.nbytes
        if decoded > limit:
            raise FileFormatError(
                f"{name}: the Parquet data decodes to more than {limit / 2**20:,.0f} MB "
                f"({parquet.metadata.num_rows:,} rows), twice the upload limit; split the file"
            )
        batches.append(batch)
    schema = batches[0].schema if batches else _undictionary_schema(parquet.schema_arrow)
    return pa.Table.from_batches(batches, schema=schema)


def _undictionary(column):
    import pyarrow as pa

    return column.dictionary_decode() if pa.types.is_dictionary(column.type) else column


def _undictionary_schema(schema):
    import pyarrow as pa

    return pa.schema(
        [
            field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
            for field in schema
        ]
    )


def _plain_types(table):
    """Decimal columns as floats and binary ones as text, as a CSV of the same data reads."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_decimal(field.type):
            column = pc.cast(column, pa.float64())
        elif pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            text = [None if v is None else v.decode("utf-8", "replace") for v in column.to_pylist()]
            column = pa.array(text, pa.string())
        else:
            continue
        table = table.set_column(index, field.name, column)
    return table


def _check_parquet(parquet, name: str) -> None:
    import pyarrow as pa

    for field in parquet.schema_arrow:
        if pa.types.is_nested(field.type) or pa.types.is_dictionary(field.type):
            if pa.types.is_dictionary(field.type) and not pa.types.is_nested(field.type.value_type):
                continue
            raise FileFormatError(
                f"{name}: column {field.name!r} holds nested values ({field.type}); a sales "
                "table needs one plain value per cell: flatten it before loading"
            )
    if len(parquet.schema_arrow) > MAX_COLUMNS:
        raise FileFormatError(
            f"{name}: the file has {len(parquet.schema_arrow):,} columns, over the limit of "
            f"{MAX_COLUMNS:,}"
        )
