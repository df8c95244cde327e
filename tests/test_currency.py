"""A batch's currency: stated at load, named by a column, shown by the amounts' signs, or the
default; on SQLite and MySQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import analytics, currency, training
from salesml.analytics import Filters
from salesml.db import IngestBatch
from salesml.errors import SchemaError
from salesml.ingest import IngestOptions, ingest_file, reading

HEADER = "Order Date,Product Name,Category,Quantity,Sales"


def csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *lines)) + "\n").encode()


def batch_currency(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(IngestBatch.currency)).scalar_one()


@pytest.fixture(params=["whole", "blocks"])
def reading_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Files read whole, and read a block at a time as large files are."""
    if request.param == "blocks":
        monkeypatch.setattr(reading, "STREAM_BYTES", 0)
        monkeypatch.setattr(reading, "STREAM_BLOCK_BYTES", 64)
    return request.param


def test_a_batch_records_the_currency_stated_at_load(engine: Engine, reading_mode: str) -> None:
    options = IngestOptions(currency="gbp", default_currency="EUR")
    summary = ingest_file(engine, csv("2024-01-02,Mug,Home,1,4.50"), options=options)
    assert summary.currency == "GBP"
    assert batch_currency(engine) == "GBP"


def test_a_currency_column_gives_the_batch_its_currency(engine: Engine, reading_mode: str) -> None:
    lines = ("2024-01-02,Mug,Home,1,4.50,USD", "2024-01-03,Cup,Home,2,9.00,USD")
    ingest_file(engine, csv(*lines, header=HEADER + ",Currency"))
    assert batch_currency(engine) == "USD"


@pytest.mark.parametrize("sign", ["$", "£", "€"])
def test_the_sign_on_the_amounts_gives_the_batch_its_currency(
    engine: Engine, reading_mode: str, sign: str
) -> None:
    ingest_file(engine, csv(f'2024-01-02,Mug,Home,1,"{sign}1,234.50"'))
    assert batch_currency(engine) == sign


def test_without_any_currency_the_default_setting_is_recorded(
    engine: Engine, reading_mode: str
) -> None:
    ingest_file(
        engine, csv("2024-01-02,Mug,Home,1,4.50"), options=IngestOptions(default_currency="CHF")
    )
    assert batch_currency(engine) == "CHF"


def test_without_any_currency_or_default_none_is_recorded(engine: Engine) -> None:
    ingest_file(engine, csv("2024-01-02,Mug,Home,1,4.50"))
    assert batch_currency(engine) == ""


@pytest.mark.parametrize(
    ("header", "lines"),
    [
        (HEADER, ('2024-01-02,Mug,Home,1,"$4.50"', '2024-01-03,Cup,Home,1,"£3.00"')),
        (HEADER + ",Currency", ("2024-01-02,Mug,Home,1,4.50,USD", "2024-01-03,Cup,Home,1,3,GBP")),
    ],
    ids=["signs", "column"],
)
def test_a_file_of_two_currencies_is_refused_in_one_line(
    engine: Engine, reading_mode: str, header: str, lines: tuple[str, ...]
) -> None:
    with pytest.raises(SchemaError, match=r"2 currencies \(.*\); load each currency"):
        ingest_file(engine, csv(*lines, header=header))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(IngestBatch)).scalar_one() == 0


@pytest.mark.parametrize("value", ["US dollars", "1$", "<b>", "EURO"])
def test_a_currency_that_is_not_a_code_or_symbol_is_refused(value: str) -> None:
    with pytest.raises(SchemaError, match="currency code or symbol"):
        currency.check(value)


def test_the_stated_currency_wins_over_the_file_and_the_default() -> None:
    assert currency.decide(stated="EUR", named={"USD"}, signs={"$"}, default="GBP") == "EUR"
    assert currency.decide(stated=None, named={"USD"}, signs={"£"}, default="GBP") == "USD"
    assert currency.decide(stated="", named=(), signs={"£"}, default="GBP") == "£"
    assert currency.decide(stated=None, default="GBP") == "GBP"


# --------------------------------------------------------------------------- views of one currency


@pytest.fixture
def two_currencies(engine: Engine) -> Engine:
    """A dollar file of two lines and a pound file of one, on the same days."""
    dollars = csv("2024-01-02,Mug,Home,1,10.00", "2024-02-03,Cup,Home,2,20.00")
    ingest_file(engine, dollars, name="us.csv", options=IngestOptions(currency="USD"))
    ingest_file(
        engine,
        csv("2024-01-02,Tea,Food,1,7.00"),
        name="uk.csv",
        options=IngestOptions(currency="GBP"),
    )
    return engine


def test_the_currencies_are_listed_with_the_most_lines_first(two_currencies: Engine) -> None:
    assert analytics.currencies(two_currencies) == {"USD": ("USD",), "GBP": ("GBP",)}


def test_batches_without_a_currency_are_counted_in_the_default(engine: Engine) -> None:
    ingest_file(engine, csv("2024-01-02,Mug,Home,1,10.00"), options=IngestOptions(currency="EUR"))
    ingest_file(engine, csv("2024-01-03,Cup,Home,1,10.00", "2024-01-04,Cup,Home,1,9.00"))
    assert analytics.currencies(engine, default="EUR") == {"EUR": ("", "EUR")}
    assert analytics.currencies(engine) == {"": ("",), "EUR": ("EUR",)}


@pytest.mark.parametrize(("unit", "revenue", "lines"), [("USD", 30.0, 2), ("GBP", 7.0, 1)])
def test_a_view_of_one_currency_adds_up_only_its_batches(
    two_currencies: Engine, unit: str, revenue: float, lines: int
) -> None:
    filters = Filters(currencies=[unit])
    kpis = analytics.kpis(two_currencies, filters)
    assert (kpis.revenue, kpis.lines) == (revenue, lines)
    month = Filters(dt.date(2024, 1, 1), dt.date(2024, 1, 31), currencies=[unit])
    top = analytics.top_products(two_currencies, month)
    assert top["product_name"].tolist() == (["Mug"] if unit == "USD" else ["Tea"])


def test_the_headline_of_one_currency_adds_up_only_its_batches(two_currencies: Engine) -> None:
    headline = analytics.headline(two_currencies, currencies=["USD"])
    assert (headline.kpis.revenue, headline.kpis.lines) == (30.0, 2)


def test_the_downloaded_lines_say_their_currency(two_currencies: Engine) -> None:
    lines = analytics.sales_csv(two_currencies, Filters()).decode().splitlines()
    assert lines[0] == "date,product_name,category,quantity,revenue,currency"
    assert sorted(line.rsplit(",", 1)[1] for line in lines[1:]) == ["GBP", "USD", "USD"]


def test_downloaded_lines_without_a_currency_say_the_default(engine: Engine) -> None:
    ingest_file(engine, csv("2024-01-02,Mug,Home,1,10.00"))
    lines = analytics.sales_csv(engine, Filters(), default_currency="CHF").decode().splitlines()
    assert lines[1].endswith(",CHF")


def test_revenue_over_two_currencies_is_not_trained(two_currencies: Engine) -> None:
    request = training.TrainRequest(level="total", freq="M", horizon=1, models=("snaive",))
    with pytest.raises(SchemaError, match=r"2 currencies \(USD, GBP\).*forecast quantity"):
        training.train(two_currencies, request)


@pytest.mark.parametrize("default", ["", "USD"])
def test_revenue_over_a_currency_and_batches_shown_in_another_is_not_trained(
    engine: Engine, default: str
) -> None:
    ingest_file(engine, csv("2024-01-02,Mug,Home,1,10.00"), options=IngestOptions(currency="EUR"))
    ingest_file(engine, csv("2024-02-03,Cup,Home,1,9.00"))  # no currency stated
    request = training.TrainRequest(level="total", freq="M", horizon=1, models=("snaive",))
    shown = "USD" if default else "not stated"
    with pytest.raises(SchemaError, match=rf"2 currencies \(.*{shown}.*\).*forecast quantity"):
        training.train(engine, request, default_currency=default)


@pytest.mark.slow
def test_a_comparison_of_revenue_titles_its_chart_with_the_currency(engine: Engine) -> None:
    from salesml import report, runs

    lines = [
        f"{year}-{month:02d}-03,Mug,Home,1,{month}.00"
        for year in (2022, 2023, 2024)
        for month in range(1, 13)
    ]
    ingest_file(engine, csv(*lines), options=IngestOptions(currency="EUR"))
    request = training.TrainRequest(level="total", freq="M", horizon=1, models=("snaive",))
    result = training.train(engine, request)
    kept = runs.load_run(engine, runs.save_run(engine, result.comparison, request)).comparison
    for comparison in (result.comparison, kept):
        chart = report.comparison_chart(comparison, "Total", [result.comparison.chosen])
        assert '"title": "Revenue (EUR)"' in chart.to_json()
        # The leaderboard's money columns say their currency in the page and in the report.
        assert report.money_headers(comparison)["MAE"] == "MAE (EUR)"
        page = report.comparison_html(comparison, request)
        assert "<th>MAE (EUR)</th>" in page and "<th>Bias (EUR)</th>" in page


def test_the_headline_of_one_currency_is_of_that_currencys_latest_month(engine: Engine) -> None:
    dollars = csv("2024-01-02,Mug,Home,1,10.00", "2024-02-03,Cup,Home,2,20.00")
    ingest_file(engine, dollars, name="us.csv", options=IngestOptions(currency="USD"))
    pounds = csv("2024-01-02,Tea,Food,1,7.00", "2024-06-20,Tea,Food,1,8.00")
    ingest_file(engine, pounds, name="uk.csv", options=IngestOptions(currency="GBP"))
    headline = analytics.headline(engine, currencies=["USD"])
    assert headline.filters.end <= dt.date(2024, 2, 3)
    assert headline.kpis.lines > 0
