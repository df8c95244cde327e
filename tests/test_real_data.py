"""The real files in ../shared/data load as they are, with exact accounting, on both backends."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from salesml import db
from salesml.cli import main
from salesml.errors import NothingToLoadError
from salesml.ingest import ingest_file
from salesml.ingest.reading import read_table

pytestmark = pytest.mark.realdata


def test_online_retail_loads_with_exact_accounting(engine, shared_data):
    path = shared_data / "online_retail.parquet"
    summary = ingest_file(engine, path)
    assert summary.rows_read == 541_909
    assert summary.mapping == {
        "date": "InvoiceDate",
        "product_name": "Description",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
    }
    # The file's own quirks: 1,454 lines without a description, 5,268 exact duplicates.
    assert summary.rows_rejected == 1_454
    assert summary.rows_duplicate == 5_268
    assert summary.rows_loaded == 541_909 - 1_454 - 5_268
    assert summary.rows_returns > 9_000
    assert db.overview(engine).rows == summary.rows_loaded
    revenue = pd.read_parquet(path).eval("Quantity * UnitPrice")
    assert revenue.abs().max() < float(db.REVENUE_LIMIT)
    with pytest.raises(NothingToLoadError):
        ingest_file(engine, path)
    assert db.overview(engine).rows == summary.rows_loaded


def test_superstore_loads_through_the_cli_as_distributed(database_url, shared_data, capsys):
    path = shared_data / "superstore_raw.csv"
    assert main(["--database-url", database_url, "ingest", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"]) == (
        9_994,
        9_994,
        0,
    )
    assert summary["date_order"] == "day-month-year"
    assert summary["mapping"]["revenue"] == "Sales"
    engine = db.create_engine_for(database_url)
    overview = db.overview(engine)
    assert (str(overview.first_date), str(overview.last_date)) == ("2014-01-03", "2017-12-30")
    assert overview.categories == 3
    # Loading the same file again is a success that loads nothing (a nightly job must not fail).
    assert main(["--database-url", database_url, "ingest", str(path)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["rows_loaded"], again["rows_already_present"]) == (0, 9_994)
    assert db.overview(engine).rows == 9_994
    engine.dispose()


def test_superstore_reexported_as_xlsx_and_reordered_csv_adds_nothing(
    engine, shared_data, tmp_path
):
    path = shared_data / "superstore_raw.csv"
    first = ingest_file(engine, path)
    frame = read_table(path).frame.astype(str)
    xlsx = tmp_path / "superstore.xlsx"
    frame.assign(
        **{
            "Order Date": pd.to_datetime(frame["Order Date"], format="%d-%m-%y"),
            "Sales": frame["Sales"].astype(float),
            "Quantity": frame["Quantity"].astype(int),
        }
    ).to_excel(xlsx, index=False)
    reordered = frame[frame.columns[::-1]].assign(
        Sales=frame["Sales"].astype(float).map("{:.4f}".format)
    )
    for again, name in ((xlsx, None), (reordered.to_csv(index=False).encode(), "reordered.csv")):
        with pytest.raises(NothingToLoadError, match="already in the database"):
            ingest_file(engine, again, name=name)
    revenue = float(sales_revenue(engine))
    assert db.overview(engine).rows == first.rows_loaded == 9_994
    assert round(revenue) == round(pd.to_numeric(frame["Sales"]).sum())


def sales_revenue(engine) -> float:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT SUM(revenue) FROM sales_data")).scalar_one()
