"""The ingest pipeline, on SQLite and MySQL: validation, cleaning, accounting, atomicity."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from salesml import db, ingest
from salesml.deletion import delete_batch
from salesml.errors import (
    AmbiguousDateError,
    AmbiguousNumberError,
    FileFormatError,
    NothingToLoadError,
    SalesMLError,
    SchemaError,
)
from salesml.ingest import IngestOptions, ingest_file

HEADER = "Order Date,Product Name,Category,Quantity,Sales"
GOOD = [
    "2024-01-02,Desk Lamp,Office,2,40.00",
    "2024-01-02,Stapler,Office,1,9.50",
    "2024-01-03,Desk Lamp,Office,1,20.00",
    "2024-01-04,Kettle,Kitchen,3,75.00",
]


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in db.Base.metadata.tables.items()
        }


def sales(engine) -> pd.DataFrame:
    query = "SELECT date, product_name, category, quantity, revenue FROM sales_data"
    with engine.connect() as conn:
        frame = pd.read_sql(query + " ORDER BY transaction_id", conn)
    frame["date"] = frame["date"].astype(str)
    frame["revenue"] = frame["revenue"].astype(float)
    return frame


def accounted(summary) -> int:
    return (
        summary.rows_loaded
        + summary.rows_rejected
        + summary.rows_duplicate
        + summary.rows_already_present
    )


def test_a_clean_file_loads_every_row_with_its_batch(engine):
    summary = ingest_file(engine, csv_bytes(*GOOD), name="jan.csv")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (4, 4, 0)
    rows = sales(engine)
    assert rows.iloc[3].to_dict() == {
        "date": "2024-01-04",
        "product_name": "Kettle",
        "category": "Kitchen",
        "quantity": 3,
        "revenue": 75.0,
    }
    [batch] = db.list_batches(engine)
    assert (batch.id, batch.file_name, batch.rows_loaded, batch.status) == (
        summary.batch_id,
        "jan.csv",
        4,
        "loaded",
    )


def test_every_row_read_is_loaded_rejected_or_counted_as_a_duplicate(engine):
    data = csv_bytes(*GOOD, GOOD[0], "2024-13-45,Bad,Office,1,1.00", "2024-01-05,Pen,Office,x,1")
    summary = ingest_file(engine, data, name="mixed.csv")
    assert summary.rows_read == 7
    assert (summary.rows_loaded, summary.rows_rejected, summary.rows_duplicate) == (4, 2, 1)
    assert accounted(summary) == summary.rows_read


def test_ingest_rejects_rows_with_unparsable_dates_and_reports_them(engine):
    summary = ingest_file(engine, csv_bytes(*GOOD, "2024-02-30,Pen,Office,1,2.00"), name="x.csv")
    assert summary.rows_rejected == 1
    [rejection] = db.batch_rejections(engine, summary.batch_id)
    assert (rejection.row_number, rejection.column_name, rejection.raw_value) == (
        6,
        "Order Date",
        "2024-02-30",
    )
    assert "not a valid date" in rejection.reason


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        (",Pen,Office,1,2.00", "Order Date", "date is missing"),
        ("2024-01-05,,Office,1,2.00", "Product Name", "product name is missing"),
        ("2024-01-05,Pen,Office,two,2.00", "Quantity", "not a number"),
        ("2024-01-05,Pen,Office,1.5,2.00", "Quantity", "not a whole number"),
        ("2024-01-05,Pen,Office,1,cheap", "Sales", "not a number"),
        ("2024-01-05,Pen,Office,1,123456789012.00", "Sales", "too large"),
        ("2024-01-05,Pen,Office,99999999999,2.00", "Quantity", "outside"),
        ("2024-01-05," + "P" * 300 + ",Office,1,2.00", "Product Name", "longer than 255"),
    ],
    ids=[
        "no-date",
        "no-product",
        "text-quantity",
        "fractional-quantity",
        "text-revenue",
        "revenue-too-large",
        "quantity-too-large",
        "name-too-long",
    ],
)
def test_invalid_values_reject_their_row_with_a_reason(engine, line, column, reason):
    summary = ingest_file(engine, csv_bytes(*GOOD, line), name="x.csv")
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 1)
    [rejection] = db.batch_rejections(engine, summary.batch_id)
    assert rejection.column_name == column
    assert reason in rejection.reason


def test_missing_quantity_and_revenue_are_imputed_with_the_mean(engine):
    data = csv_bytes(
        "2024-01-01,A,X,2,10.00",
        "2024-01-02,A,X,4,30.00",
        "2024-01-03,A,X,,20.00",
        "2024-01-04,A,X,3,",
    )
    summary = ingest_file(engine, data, name="gaps.csv")
    assert (summary.imputed_quantity, summary.imputed_revenue, summary.rows_imputed) == (1, 1, 2)
    rows = sales(engine)
    assert rows["quantity"].tolist() == [2, 4, 3, 3]
    assert rows["revenue"].tolist() == [10.0, 30.0, 20.0, 20.0]


def test_missing_values_are_rejected_when_imputation_is_off(engine):
    data = csv_bytes(*GOOD, "2024-01-03,A,X,,20.00")
    summary = ingest_file(engine, data, name="x.csv", options=IngestOptions(impute_missing=False))
    assert (summary.rows_loaded, summary.rows_rejected, summary.rows_imputed) == (4, 1, 0)


def test_negative_quantities_are_kept_as_returns_that_net_against_sales(engine):
    summary = ingest_file(engine, csv_bytes(*GOOD, "2024-01-05,Kettle,Kitchen,-1,-25.00"))
    assert summary.rows_returns == 1
    assert sales(engine)["quantity"].sum() == 6


def test_returns_are_dropped_and_reported_when_the_user_chooses(engine):
    data = csv_bytes(*GOOD, "2024-01-05,Kettle,Kitchen,-1,-25.00")
    summary = ingest_file(engine, data, options=IngestOptions(drop_returns=True))
    assert (summary.rows_loaded, summary.rows_rejected, summary.rows_returns) == (4, 1, 0)
    [rejection] = db.batch_rejections(engine, summary.batch_id)
    assert "return" in rejection.reason


def test_exact_duplicate_lines_are_dropped_and_counted_by_default(engine):
    summary = ingest_file(engine, csv_bytes(*GOOD, GOOD[1], GOOD[1]))
    assert (summary.rows_loaded, summary.rows_duplicate) == (4, 2)


def test_duplicate_lines_are_loaded_when_the_user_keeps_them(engine):
    data = csv_bytes(*GOOD, GOOD[1])
    summary = ingest_file(engine, data, options=IngestOptions(keep_duplicates=True))
    assert (summary.rows_loaded, summary.rows_duplicate) == (5, 0)
    again = data.replace(b"Sales\n", b"Sales\n" + GOOD[1].encode() + b"\n")
    assert ingest_file(engine, again, options=IngestOptions(keep_duplicates=True)).rows_loaded == 1


def test_reloading_the_same_file_changes_nothing(engine):
    data = csv_bytes(*GOOD, "bad,Pen,Office,1,1")
    ingest_file(engine, data, name="jan.csv")
    before = table_counts(engine)
    with pytest.raises(NothingToLoadError, match="already in the database") as caught:
        ingest_file(engine, data, name="jan.csv")
    assert caught.value.summary.rows_already_present == 4
    assert table_counts(engine) == before


def test_overlapping_files_only_add_the_new_rows(engine):
    ingest_file(engine, csv_bytes(*GOOD[:3]), name="first.csv")
    summary = ingest_file(engine, csv_bytes(*GOOD[1:]), name="second.csv")
    assert (summary.rows_loaded, summary.rows_already_present) == (1, 2)
    assert len(sales(engine)) == 4


def test_unit_price_gives_revenue_as_quantity_times_price(engine):
    data = csv_bytes("2024-01-01,Pen,3,1.25", header="InvoiceDate,Description,Quantity,UnitPrice")
    summary = ingest_file(engine, data)
    assert summary.mapping["unit_price"] == "UnitPrice"
    row = sales(engine).iloc[0]
    assert (row["revenue"], row["category"]) == (3.75, db.DEFAULT_CATEGORY)


def test_an_explicit_mapping_overrides_the_detected_one(engine):
    data = csv_bytes("2024-01-01,Pen,Blue pen,3,9.00", header="when,code,label,qty,amount")
    mapping = {"date": "when", "product_name": "label", "revenue": "amount"}
    ingest_file(engine, data, mapping=mapping)
    assert sales(engine).iloc[0]["product_name"] == "Blue pen"


def test_a_mapping_to_a_column_the_file_lacks_names_it():
    with pytest.raises(SchemaError, match="no column 'Amount'"):
        ingest.detect_mapping(["date", "product"], {"revenue": "Amount"})


def xlsx_bomb_bytes() -> bytes:
    from tests.test_reading import xlsx_bomb

    return xlsx_bomb()


BAD_FILES = [
    ("empty", b"", {}, FileFormatError, "empty"),
    ("header-only", csv_bytes(), {}, FileFormatError, "no data rows"),
    ("binary", bytes(range(256)) * 40, {}, FileFormatError, "binary"),
    (
        "wrong-delimiter",
        b"date product quantity revenue\n2024-01-01 Pen 1 2\n",
        {},
        SchemaError,
        "delimiter",
    ),
    ("unknown-encoding", csv_bytes(*GOOD), {"encoding": "klingon"}, FileFormatError, "encoding"),
    (
        "undecidable-decimal-mark",
        csv_bytes(
            '2024-01-01,Pen,O,1,"1,234"', header="Order Date,Product Name,Category,Quantity,Sales"
        ),
        {},
        AmbiguousNumberError,
        "choose the decimal mark",
    ),
    (
        "mixed-decimal-marks",
        csv_bytes(
            "2024-01-01;Pen;O;1;12,50", "2024-01-02;Pen;O;1;7.25", header=HEADER.replace(",", ";")
        ),
        {},
        AmbiguousNumberError,
        "mix",
    ),
    (
        "missing-column",
        csv_bytes("Pen,Office,1,2", header="Product Name,Category,Quantity,Sales"),
        {},
        SchemaError,
        "missing required column.*date",
    ),
    (
        "price-without-quantity",
        csv_bytes("2024-01-01,Pen,2", header="Order Date,Product Name,UnitPrice"),
        {},
        SchemaError,
        "quantity",
    ),
    (
        "unparsable-dates",
        csv_bytes("someday,Pen,Office,1,2", "later,Pen,Office,1,2"),
        {},
        NothingToLoadError,
        "rejected",
    ),
    (
        "ambiguous-dates",
        csv_bytes("03/04/2024,Pen,O,1,2", "05/06/2024,Pen,O,1,2"),
        {},
        AmbiguousDateError,
        "give the date format",
    ),
    (
        "mixed-dates",
        csv_bytes("25/04/2024,Pen,O,1,2", "04/25/2024,Pen,O,1,2"),
        {},
        AmbiguousDateError,
        "mix",
    ),
    ("text-in-numbers", csv_bytes("2024-01-01,Pen,O,one,two"), {}, NothingToLoadError, "rejected"),
    ("too-large", csv_bytes("2024-01-01,Pen,O,1,1e15"), {}, NothingToLoadError, "rejected"),
    ("xlsx-bomb", None, {"name": "bomb.xlsx"}, FileFormatError, "expands"),
    ("over-limit", csv_bytes(*GOOD * 100), {"max_bytes": 1000}, FileFormatError, "upload limit"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("data", "kwargs", "error", "message"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_input_gives_a_clear_error_and_changes_nothing(engine, data, kwargs, error, message):
    ingest_file(engine, csv_bytes(*GOOD), name="earlier.csv")
    before = table_counts(engine)
    data = xlsx_bomb_bytes() if data is None else data
    with pytest.raises(error, match=message) as caught:
        ingest_file(engine, data, **{"name": "bad.csv", **kwargs})
    assert isinstance(caught.value, SalesMLError)
    assert "\n" not in str(caught.value)
    assert table_counts(engine) == before


def test_a_database_error_half_way_leaves_no_row_of_the_batch(engine, monkeypatch):
    ingest_file(engine, csv_bytes(*GOOD), name="earlier.csv")
    before = table_counts(engine)
    monkeypatch.setattr("salesml.ingest.load.CHUNK_ROWS", 2)
    real_insert = db.insert_sales
    calls = []

    def failing_insert(conn, rows, batch_id):
        calls.append(len(rows))
        if len(calls) == 2:
            conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")  # a real DB error
        return real_insert(conn, rows, batch_id)

    monkeypatch.setattr(db, "insert_sales", failing_insert)
    lines = [f"2024-02-{day:02d},Pen,Office,1,2.00" for day in range(1, 8)]
    with pytest.raises(sa.exc.DBAPIError):
        ingest_file(engine, csv_bytes(*lines), name="feb.csv")
    assert len(calls) == 2
    assert table_counts(engine) == before


def test_deleting_a_batch_removes_its_rows_and_lets_the_file_load_again(engine):
    first = ingest_file(engine, csv_bytes(*GOOD[:2]), name="a.csv")
    ingest_file(engine, csv_bytes(*GOOD[2:], "bad,Pen,Office,1,1"), name="b.csv")
    assert delete_batch(engine, first.batch_id) == 2
    assert len(sales(engine)) == 2
    again = ingest_file(engine, csv_bytes(*GOOD[:2]), name="a.csv")
    assert again.rows_loaded == 2


def test_deleting_an_unknown_batch_is_a_clear_error(engine):
    from salesml.errors import BatchNotFoundError

    with pytest.raises(BatchNotFoundError, match="42"):
        delete_batch(engine, 42)


def test_text_survives_the_round_trip_exactly(engine):
    names = ['Mug "Large"', "Back\\slash", "Ünïcödé ☕", "Semi;colon", "case", "Case"]
    lines = [
        f'2024-01-0{i + 1},"{n.replace(chr(34), chr(34) * 2)}",Gifts,1,1.00'
        for i, n in enumerate(names)
    ]
    ingest_file(engine, csv_bytes(*lines))
    assert sales(engine)["product_name"].tolist() == names


def test_the_overview_counts_rows_products_and_the_date_range(engine):
    ingest_file(engine, csv_bytes(*GOOD))
    summary = db.overview(engine)
    assert (summary.rows, summary.products, summary.categories, summary.batches) == (4, 3, 2, 1)
    assert (str(summary.first_date), str(summary.last_date)) == ("2024-01-02", "2024-01-04")


def test_batch_ids_are_never_reused_after_a_delete(engine):
    ingest_file(engine, csv_bytes(*GOOD[:2]), name="a.csv")
    second = ingest_file(engine, csv_bytes(*GOOD[2:]), name="b.csv")
    delete_batch(engine, second.batch_id)
    third = ingest_file(engine, csv_bytes(*GOOD[2:]), name="b.csv")
    assert third.batch_id > second.batch_id


def test_a_file_without_quantities_loads_revenue_with_quantity_zero(engine):
    data = csv_bytes(
        "2024-01,Food retailing,NSW,412.5",
        header="Month,Series ID,Industry,Turnover",
    )
    summary = ingest_file(engine, data, mapping={"product_name": "Series ID"})
    assert summary.notes == ["the file has no quantity column: quantity is recorded as 0"]
    row = sales(engine).iloc[0]
    assert (row["date"], row["quantity"], row["revenue"]) == ("2024-01-01", 0, 412.5)


# --------------------------------------------------------------------------- numbers


SEMICOLON_HEADER = "Order Date;Product Name;Category;Quantity;Sales"


@pytest.mark.parametrize(
    ("lines", "revenues"),
    [
        (["2024-01-02;Pen;O;1;12,50", "2024-01-03;Ink;O;1;7,5"], [12.5, 7.5]),
        (["2024-01-02;Pen;O;1;12,50", "2024-01-03;Desk;O;1;1.234,56"], [12.5, 1234.56]),
        (["2024-01-02;Pen;O;1;12.50", "2024-01-03;Desk;O;1;1,234.56"], [12.5, 1234.56]),
        (["2024-01-02;Pen;O;1;€ 12,50", "2024-01-03;Desk;O;1;1 234,56"], [12.5, 1234.56]),
        (["2024-01-02;Pen;O;1;(12,50)", "2024-01-03;Desk;O;-1;-7,50"], [-12.5, -7.5]),
    ],
    ids=["decimal-comma", "comma-and-dot-groups", "point-and-comma-groups", "currency", "negative"],
)
def test_the_decimal_mark_is_read_from_the_data(engine, lines, revenues):
    ingest_file(engine, csv_bytes(*lines, header=SEMICOLON_HEADER), name="eu.csv")
    assert sales(engine)["revenue"].tolist() == revenues


def test_a_decimal_comma_decides_how_thousands_like_values_read(engine):
    data = csv_bytes(
        "2024-01-02;Pen;O;1;12,50", "2024-01-03;Desk;O;1.000;1.234", header=SEMICOLON_HEADER
    )
    summary = ingest_file(engine, data, name="eu.csv")
    assert summary.decimal_mark == ","
    rows = sales(engine)
    assert rows["quantity"].tolist() == [1, 1000]
    assert rows["revenue"].tolist() == [12.5, 1234.0]


def test_the_decimal_mark_can_be_given(engine):
    data = csv_bytes('2024-01-02,Pen,O,1,"1,234"', '2024-01-03,Ink,O,1,"2,5"')
    summary = ingest_file(engine, data, options=IngestOptions(decimal=","))
    assert summary.decimal_mark == ","
    assert sales(engine)["revenue"].tolist() == [1.23, 2.5]
    assert any("rounded to cents" in note for note in summary.notes)


def test_a_value_against_the_given_decimal_mark_is_rejected_not_misread(engine):
    data = csv_bytes("2024-01-02,Pen,O,1,12.50", '2024-01-03,Ink,O,1,"12,50"')
    summary = ingest_file(engine, data, options=IngestOptions(decimal="."))
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)
    [rejection] = db.batch_rejections(engine, summary.batch_id)
    assert (rejection.raw_value, rejection.reason) == ("12,50", "revenue is not a number")


# --------------------------------------------------------------------------- identity


def reexports(tmp_path) -> dict[str, object]:
    """The same four sales as CSV, with reordered and extra columns, as XLSX, reformatted."""
    frame = pd.DataFrame(
        {
            "Order Date": ["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04"],
            "Product Name": ["Desk Lamp", "Stapler", "Desk Lamp", "Kettle"],
            "Category": ["Office", "Office", "Office", "Kitchen"],
            "Quantity": ["2", "1", "1", "3"],
            "Sales": ["40.00", "9.50", "20.00", "75.00"],
        }
    )
    xlsx = tmp_path / "sales.xlsx"
    frame.assign(
        Quantity=frame["Quantity"].astype(int), Sales=frame["Sales"].astype(float)
    ).to_excel(xlsx, index=False)
    reformatted = frame.assign(
        **{
            "Order Date": ["2 Jan 2024", "2 Jan 2024", "3 Jan 2024", "4 Jan 2024"],
            "Sales": ["40", "9.5", "20.0", "75"],
        }
    )
    return {
        "csv": frame.to_csv(index=False).encode(),
        "reordered": frame[frame.columns[::-1]].to_csv(index=False).encode(),
        "extra-column": frame.assign(Region="West").to_csv(index=False).encode(),
        "xlsx": xlsx,
        "reformatted": reformatted.to_csv(index=False).encode(),
        "semicolons": frame.assign(Sales=["40,00", "9,50", "20,00", "75,00"])
        .to_csv(index=False, sep=";")
        .encode(),
    }


@pytest.mark.parametrize(
    "again", ["reordered", "extra-column", "xlsx", "reformatted", "semicolons"]
)
def test_a_reexport_of_loaded_sales_adds_nothing(engine, tmp_path, again):
    files = reexports(tmp_path)
    ingest_file(engine, files["csv"], name="sales.csv")
    before = table_counts(engine)
    with pytest.raises(NothingToLoadError, match="already in the database") as caught:
        ingest_file(engine, files[again], name=f"again-{again}")
    assert caught.value.summary.rows_already_present == 4
    assert table_counts(engine) == before


def test_identical_lines_of_different_orders_are_separate_sales(engine):
    data = csv_bytes(
        "A1,2024-01-02,Pen,O,1,2.00",
        "A2,2024-01-02,Pen,O,1,2.00",
        "A2,2024-01-02,Pen,O,1,2.00",
        header="Invoice," + HEADER,
    )
    summary = ingest_file(engine, data, name="orders.csv")
    assert (summary.rows_loaded, summary.rows_duplicate) == (2, 1)
    again = data.replace(b"A1,", b"B1,").replace(b"A2,", b"B2,")
    with pytest.raises(NothingToLoadError):
        ingest_file(engine, again, name="renumbered.csv")


def test_a_later_file_with_one_more_identical_line_adds_that_line(engine):
    ingest_file(engine, csv_bytes("2024-01-02,Pen,O,1,2.00"), name="first.csv")
    summary = ingest_file(
        engine,
        csv_bytes("2024-01-02,Pen,O,1,2.00", "2024-01-02,Pen,O,1,2.00"),
        options=IngestOptions(keep_duplicates=True),
    )
    assert (summary.rows_loaded, summary.rows_already_present) == (1, 1)


# --------------------------------------------------------------------------- cleaning


def test_imputation_learns_only_from_accepted_rows(engine):
    data = csv_bytes("2024-01-01,A,X,1,10", "2024-01-02,A,X,1,", "2024-01-03,A,X,1,99999999.995")
    summary = ingest_file(engine, data, name="poisoned.csv")
    assert (summary.rows_loaded, summary.rows_rejected, summary.imputed_revenue) == (2, 1, 1)
    assert sales(engine)["revenue"].tolist() == [10.0, 10.0]


def test_imputation_ignores_returns_that_are_dropped(engine):
    data = csv_bytes("2024-01-01,A,X,2,10", "2024-01-02,A,X,-40,-200", "2024-01-03,A,X,,10")
    ingest_file(engine, data, options=IngestOptions(drop_returns=True))
    assert sales(engine)["quantity"].tolist() == [2, 2]


@pytest.mark.parametrize(
    "line", ["2024-01-05,Pen,O,1,-50.00", "2024-01-05,Pen,O,-3,40.00"], ids=["sale", "return"]
)
def test_quantity_and_revenue_of_opposite_signs_are_loaded_with_a_note(engine, line):
    summary = ingest_file(engine, csv_bytes(*GOOD, line), name="x.csv")
    assert (summary.rows_loaded, summary.rows_sign_mismatch) == (5, 1)
    [note] = [note for note in summary.notes if "opposite signs" in note]
    assert "row 6" in note


def test_revenue_is_rounded_to_the_nearest_cent_with_a_note(engine):
    data = csv_bytes("2024-01-01,A,X,1,177.225", "2024-01-02,B,X,1,-0.125", "2024-01-03,C,X,1,2.5")
    summary = ingest_file(engine, data, name="x.csv")
    # 177.225 is 177.22499... in binary; -0.125 is a tie, to the even cent: as always stored.
    assert sales(engine)["revenue"].tolist() == [177.22, -0.12, 2.5]
    assert summary.rows_rounded == 2
    assert any("rounded to cents" in note and "row 2" in note for note in summary.notes)


def test_unit_price_times_quantity_is_not_a_rounding(engine):
    data = csv_bytes("2024-01-01,Pen,3,2.55", header="InvoiceDate,Description,Quantity,UnitPrice")
    summary = ingest_file(engine, data)
    assert sales(engine)["revenue"].tolist() == [7.65]
    assert summary.rows_rounded == 0


@pytest.mark.mysql
def test_a_mysql_bulk_load_never_names_a_file_a_crash_could_leave_behind(
    mysql_server_url, tmp_path, monkeypatch
):
    import os
    import tempfile

    from tests.conftest import _empty_mysql

    engine = _empty_mysql(mysql_server_url)
    db.init_db(engine)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    during_load = []

    def look(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("LOAD DATA"):
            during_load.append(sorted(os.listdir(tmp_path)))

    sa.event.listen(engine, "before_cursor_execute", look)
    summary = ingest_file(engine, csv_bytes(*GOOD), name="jan.csv")
    engine.dispose()
    assert summary.rows_loaded == 4
    # The lines, then the totals of each rollup: no file named for any of them.
    assert during_load == [[], [], []]


@pytest.mark.parametrize("value", ["12 50", "1 2", "(-5)", "12-", "1.234 567", "12.5.0"])
def test_values_that_are_not_numbers_in_any_convention_are_rejected(engine, value):
    data = csv_bytes("2024-01-02,Pen,O,1,2.50", f'2024-01-03,Ink,O,1,"{value}"')
    summary = ingest_file(engine, data, name="x.csv")
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)


def test_cents_are_what_every_release_has_stored_so_reloads_match():
    import numpy as np

    from salesml.ingest.identity import cents

    amounts = np.array([177.225, 0.125, 1.005, 2.675, 3 * 2.55, -0.125, 99999999.99])
    assert cents(amounts).tolist() == np.rint(np.round(amounts, 2) * 100).astype(int).tolist()


@pytest.mark.slow
def test_a_huge_rejected_value_is_reported_within_the_memory_limits(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "long-names.csv"
    lines = ["2024-01-02," + "P" * 900_000 + ",O,1,2"] + [
        "2024-01-02," + "Q" * 300 + ",O,1,2"
    ] * 20_000
    path.write_bytes(csv_bytes(*lines))
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from salesml.ingest import IngestOptions, detect_mapping, prepare\n"
        "from salesml.ingest.reading import read_table\n"
        "table = read_table(sys.argv[1])\n"
        "prepared = prepare(table, detect_mapping(list(table.frame.columns)), IngestOptions())\n"
        "print(prepared.summary.rows_rejected, max(map(len, prepared.rejections.raw_value)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={"PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.split() == ["20001", "255"], done.stderr[-500:]


# --------------------------------------------------------------------------- interrupted loads


class Stopped(BaseException):
    """What Streamlit raises in a script run stopped mid-way (the user opened another page)."""


def test_a_load_stopped_between_chunks_leaves_no_half_batch(engine, monkeypatch):
    monkeypatch.setattr("salesml.ingest.load.CHUNK_ROWS", 2)
    table = ingest.read_table(csv_bytes(*GOOD), name="jan.csv")
    prepared = ingest.prepare(
        table, ingest.detect_mapping(list(table.frame.columns)), IngestOptions()
    )

    def stop(done: float) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        ingest.load_prepared(engine, prepared, progress=stop)
    assert table_counts(engine)["sales_data"] == 0
    assert table_counts(engine)["ingest_batches"] == 0


def prepared_file(*lines: str):
    table = ingest.read_table(csv_bytes(*lines), name="jan.csv")
    return ingest.prepare(table, ingest.detect_mapping(list(table.frame.columns)), IngestOptions())


def test_a_background_load_finishes_on_its_own_and_keeps_its_summary(engine):
    finished = []
    job = ingest.BackgroundLoad(engine, prepared_file(*GOOD), on_finish=lambda: finished.append(1))
    assert job.wait(30)
    assert (job.summary.rows_loaded, job.error, job.progress) == (4, None, 1.0)
    assert job.latest.rows == 4 and job.latest.describe().startswith("loading: 100%")
    assert finished == [1]
    assert table_counts(engine)["sales_data"] == 4


def test_a_background_load_keeps_its_failure_as_one_error(engine):
    ingest_file(engine, csv_bytes(*GOOD), name="jan.csv")
    job = ingest.BackgroundLoad(engine, prepared_file(*GOOD))
    assert job.wait(30)
    assert job.summary is None
    assert isinstance(job.error, NothingToLoadError)
    assert "nothing new to load" in str(job.error)


def test_progress_reads_as_share_rows_per_second_and_time_left():
    assert (
        ingest.LoadProgress("loading", 0.45, 450_000, 10.0).describe()
        == "loading: 45%, 45,000 rows/s, about 12 s left"
    )
    assert ingest.LoadProgress("checking", 0.08, 0, 0.5).describe() == "checking: 8%"
    assert ingest.LoadProgress("loading", 1.0, 900, 3.0).describe() == "loading: 100%, 300 rows/s"
