"""The app's pages, driven by Streamlit's AppTest against a temporary database (SQLite, and
MySQL too where a page reads or writes the data)."""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from salesml import db
from salesml.db import create_engine_for, init_db
from salesml.ingest import ingest_file
from tests.app.driver import APP, click, metric, open_page, texts

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/overview.py", "pages/data.py"]
UNREACHABLE_MYSQL = "mysql+pymysql://nobody@127.0.0.1:1/none"
SALES_CSV = (
    b"Order Date,Product Name,Category,Quantity,Sales\n"
    b"2024-01-01,Widget,Tools,2,20.00\n"
    b"2024-01-02,Gadget,Toys,1,15.50\n"
    b"2024-01-03,Widget,Tools,3,30.00\n"
    b"not a date,Gadget,Toys,1,15.50\n"
)
FORMULA = '=HYPERLINK("http://x")'
FORMULA_CSV = SALES_CSV + b'"=HYPERLINK(""http://x"")",Gadget,Toys,1,15.50\n'


@pytest.fixture
def app_database_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app's (empty) database, once on SQLite and once on MySQL: the pages read and write
    through the same code on both."""
    monkeypatch.setenv("SALESML_DATABASE_URL", database_url)
    return database_url


def load_sales(url: str) -> Iterator[Engine]:
    """The database at url with SALES_CSV loaded as batch 1 (three rows, one rejected)."""
    engine = create_engine_for(url)
    init_db(engine)
    ingest_file(engine, SALES_CSV, name="sales.csv")
    yield engine
    engine.dispose()


@pytest.fixture
def loaded(app_database_url: str) -> Iterator[Engine]:
    """The app's database with SALES_CSV loaded, once per backend."""
    yield from load_sales(app_database_url)


@pytest.fixture
def loaded_sqlite(app_dir: Path) -> Iterator[Engine]:
    """The app's SQLite file with SALES_CSV loaded: for what the page says only of SQLite."""
    yield from load_sales(f"sqlite:///{app_dir / 'app.db'}")


def raw_values(data: bytes) -> list[str]:
    """The raw_value column of a downloaded rejection report."""
    return [row["raw_value"] for row in csv.DictReader(io.StringIO(data.decode()))]


def upload(at: AppTest, content: bytes = SALES_CSV, name: str = "upload.csv") -> AppTest:
    """Put a file in the Data page's uploader."""
    at.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_database(page: str) -> None:
    at = open_page(page)
    assert not at.error


def test_overview_of_an_empty_database_says_how_to_load_data() -> None:
    at = open_page("pages/overview.py")
    assert "database is empty" in texts(at.info)
    assert "python -m salesml demo" in texts(at.info)
    assert not at.metric


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_data(page: str, loaded: Engine) -> None:
    at = open_page(page)
    assert not at.error
    assert "database is empty" not in texts(at.info)


def test_overview_shows_what_the_database_holds(loaded_sqlite: Engine) -> None:
    at = open_page("pages/overview.py")
    assert metric(at, "Sales lines") == "3"
    assert metric(at, "Products") == "2"
    assert metric(at, "Categories") == "2"
    assert metric(at, "Files loaded") == "1"
    assert metric(at, "First sale") == "01 Jan 2024"
    assert metric(at, "Last sale") == "03 Jan 2024"
    assert "SQLite file" in texts(at.caption)


def test_data_page_lists_loaded_batches(loaded: Engine) -> None:
    at = open_page("pages/data.py")
    history = at.dataframe[0].value
    assert history.loc[0, "file"] == "sales.csv"
    assert (history.loc[0, "loaded"], history.loc[0, "rejected"]) == (3, 1)


def test_data_page_shows_a_batch_rejection_report(loaded: Engine) -> None:
    at = open_page("pages/data.py")
    report = at.dataframe[1].value
    assert report.to_dict("records") == [
        {
            "row_number": 5,
            "column_name": "Order Date",
            "reason": report.loc[0, "reason"],
            "raw_value": "not a date",
        }
    ]
    assert "not a valid date" in report.loc[0, "reason"]
    assert at.download_button(key="download_batch_rejections")


def test_a_batch_rejection_report_downloads_formulas_as_text(
    app_database_url: str, downloads: dict[str, bytes]
) -> None:
    engine = create_engine_for(app_database_url)
    init_db(engine)
    ingest_file(engine, FORMULA_CSV, name="sales.csv")
    engine.dispose()
    open_page("pages/data.py")
    assert raw_values(downloads["batch-1-rejections.csv"]) == ["not a date", "'" + FORMULA]


# --------------------------------------------------------------------------- database problems


@pytest.mark.parametrize("page", PAGES)
def test_unreachable_database_shows_an_error_not_a_traceback(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_DATABASE_URL", UNREACHABLE_MYSQL)
    at = open_page(page)
    assert "cannot reach the database" in texts(at.error)
    assert "SALESML_DATABASE_URL" in texts(at.info)


@pytest.mark.parametrize("page", PAGES)
def test_unsupported_database_url_shows_an_error(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_DATABASE_URL", "postgresql://someone@localhost/sales")
    at = open_page(page)
    assert "not supported" in texts(at.error)


def test_the_committed_config_shows_users_no_traceback_or_server_path() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_the_committed_config_offers_a_light_and_a_dark_theme() -> None:
    """The menu's theme choice appears when there are two themes; the browser keeps it."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert {"light", "dark"} <= set(theme)
    assert "base" not in theme  # a base would force one theme and hide the choice


def test_the_presenter_address_shows_no_sidebar(loaded: Engine) -> None:
    """?view=present: no navigation and nothing in the sidebar, so the content is full width."""
    normal = open_page("app.py")
    assert "Single-user mode" in texts(normal.sidebar.caption)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {"SALESML_TEST": "isolated"}
    at.query_params["view"] = "present"
    at.run()
    assert not at.exception, at.exception
    assert not at.sidebar.children
    assert at.title[0].value == "Overview"


def test_secrets_file_sets_the_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SALESML_DATABASE_URL")
    url = f"sqlite:///{tmp_path / 'from-secrets.db'}"
    at = open_page("pages/overview.py", secrets={"salesml": {"database_url": url}})
    assert "from-secrets.db" in texts(at.caption)


# --------------------------------------------------------------------------- loading a file


def test_upload_presets_the_column_mapping_from_the_headers() -> None:
    at = upload(open_page("pages/data.py"))
    assert at.selectbox(key="map_date").value == "Order Date"
    assert at.selectbox(key="map_product_name").value == "Product Name"
    assert at.selectbox(key="map_quantity").value == "Quantity"
    assert at.selectbox(key="map_revenue").value == "Sales"
    assert at.selectbox(key="map_unit_price").value == "(none)"


def test_validate_counts_the_rows_and_lists_the_rejected_one() -> None:
    at = click(upload(open_page("pages/data.py")), "validate")
    assert (metric(at, "Rows read"), metric(at, "To load"), metric(at, "Rejected")) == (
        "4",
        "3",
        "1",
    )
    assert at.dataframe[1].value["raw_value"].tolist() == ["not a date"]
    assert at.download_button(key="download_rejections")


def test_the_validation_rejection_report_downloads_formulas_as_text(
    downloads: dict[str, bytes],
) -> None:
    click(upload(open_page("pages/data.py"), content=FORMULA_CSV), "validate")
    assert raw_values(downloads["upload-rejections.csv"]) == ["not a date", "'" + FORMULA]


@pytest.mark.slow
def test_load_stores_the_rows_and_adds_the_batch_to_the_history(app_database_url: str) -> None:
    at = click(click(upload(open_page("pages/data.py")), "validate"), "load")
    assert "Loaded 3 rows as batch 1" in texts(at.success)
    assert at.dataframe[-2].value.loc[0, "file"] == "upload.csv"
    engine = create_engine_for(app_database_url)
    assert db.overview(engine).rows == 3
    engine.dispose()


def test_loading_the_same_file_again_warns_that_nothing_is_new(loaded: Engine) -> None:
    at = click(click(upload(open_page("pages/data.py")), "validate"), "load")
    assert "nothing new to load" in texts(at.warning)
    assert db.overview(loaded).batches == 1


def test_changing_an_option_after_validating_asks_to_validate_again() -> None:
    at = click(upload(open_page("pages/data.py")), "validate")
    at.checkbox(key="drop_returns").check().run()
    assert not at.button(key="validate").disabled
    assert not any(b.key == "load" for b in at.button)


def test_missing_required_column_is_explained() -> None:
    at = upload(open_page("pages/data.py"))
    at.selectbox(key="map_date").set_value("(none)").run()
    assert at.button(key="validate").disabled
    assert "Choose the column for Date to validate." in texts(at.caption)


def test_invalid_date_format_is_explained() -> None:
    at = upload(open_page("pages/data.py"))
    at.text_input(key="date_format").input("%Q").run()
    click(at, "validate")
    assert "date format '%Q' is not valid" in texts(at.error)


def test_unreadable_file_is_explained() -> None:
    at = upload(open_page("pages/data.py"), content=b"\n\n", name="empty.csv")
    assert "the file is empty" in texts(at.error)


# --------------------------------------------------------------------------- deleting a batch


def test_delete_button_waits_for_the_confirmation(loaded: Engine) -> None:
    at = open_page("pages/data.py")
    assert at.button(key="delete").disabled
    at.checkbox(key="confirm_delete").check().run()
    assert not at.button(key="delete").disabled


def test_deleting_a_batch_removes_it_and_its_rows(loaded: Engine) -> None:
    at = open_page("pages/data.py")
    at.selectbox(key="delete_batch").set_value(1)
    at.checkbox(key="confirm_delete").check().run()
    click(at, "delete")
    assert "Deleted batch 1 and its 3 sales lines" in texts(at.success)
    assert "No file has been loaded yet" in texts(at.info)
    assert db.overview(loaded).rows == 0
    assert db.list_batches(loaded) == []


def test_overview_is_fresh_after_a_delete(loaded: Engine) -> None:
    at = open_page("pages/overview.py")
    assert metric(at, "Sales lines") == "3"
    at.switch_page("pages/data.py").run()
    at.checkbox(key="confirm_delete").check().run()
    click(at, "delete")
    at.switch_page("pages/overview.py").run()
    assert "database is empty" in texts(at.info)


# --------------------------------------------------------------------------- demo data


@pytest.mark.slow
def test_demo_button_fills_an_empty_database(app_database_url: str) -> None:
    at = open_page("pages/overview.py")
    at.button(key="load_demo").click().run(timeout=120)
    assert not at.exception, at.exception
    assert "demo sales lines" in texts(at.success)
    assert "ready model" in texts(at.success)
    lines = next(m for m in at.metric if m.label == "Sales lines")
    assert int(lines.proto.help.replace(",", "")) > 1000
    at.switch_page("pages/forecast.py").run(timeout=60)
    assert not at.exception
    assert "no saved model" not in texts(at.info)
    assert at.slider(key="horizon").value == 12


# --------------------------------------------------------------------------- failures


def every_text(at: AppTest) -> str:
    """Everything a page shows as text: messages, markdown, captions, titles, metrics."""
    parts = [at.error, at.warning, at.info, at.success, at.markdown, at.caption, at.title]
    parts += [at.header, at.subheader]
    shown = [str(element.value) for group in parts for element in group]
    shown += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(shown)


@pytest.mark.parametrize(
    "url",
    [
        "mysql+pymysql://sales:s3cret@127.0.0.1:1/sales",
        "mysql+pymysql://sales@127.0.0.1:1/sales?password=s3cret",
        "mysql+pymysql://sales:s3cret@db.example:abc/sales",
        "://sales:s3cret@nowhere",
    ],
    ids=["unreachable", "password-in-query", "port-not-a-number", "malformed"],
)
@pytest.mark.parametrize("page", ["pages/overview.py", "pages/data.py", "pages/explorer.py"])
def test_a_bad_database_setting_is_explained_without_the_password(monkeypatch, page, url):
    monkeypatch.setenv("SALESML_DATABASE_URL", url)
    at = open_page(page)
    assert at.error, every_text(at)
    assert "s3cret" not in every_text(at)


@pytest.mark.parametrize(
    "failure",
    ["integrity", "data", "lost-connection", "deadlock"],
)
def test_a_database_failure_on_a_page_is_a_message_not_a_traceback(monkeypatch, failure):
    from tests.test_cli import database_failures

    def fail(*args, **kwargs):
        raise database_failures()[failure]

    monkeypatch.setattr(db, "overview", fail)
    at = open_page("pages/overview.py")
    assert len(at.error) == 1
    assert "Traceback" not in every_text(at)


# --------------------------------------------------------------------------- encodings, numbers

EUROPEAN_CSV = (
    "Order Date;Product Name;Category;Quantity;Sales\n"
    "02/01/2024;Konftel 250 Conference\xa0phone;Office;1;1.234,50\n"
    "13/01/2024;Café crème;Kitchen;2;7,5\n"
).encode("mac_roman")


def test_the_data_page_shows_the_detected_encoding_with_a_preview(app_database_url: str) -> None:
    at = upload(open_page("pages/data.py"), content=EUROPEAN_CSV, name="eu.csv")
    assert "text in Mac Roman (detected)" in texts(at.caption)
    assert "fields separated by semicolons" in texts(at.caption)
    names = at.dataframe[0].value["Product Name"].tolist()
    assert names == ["Konftel 250 Conference\xa0phone", "Café crème"]
    click(click(at, "validate"), "load")
    assert "numbers with a decimal comma" in texts(at.caption)
    engine = create_engine_for(app_database_url)
    with engine.connect() as conn:
        revenue = conn.exec_driver_sql("SELECT revenue FROM sales_data ORDER BY date").scalars()
        assert [float(value) for value in revenue] == [1234.5, 7.5]
    engine.dispose()


def test_choosing_another_encoding_reads_the_file_again() -> None:
    at = upload(open_page("pages/data.py"), content=EUROPEAN_CSV, name="eu.csv")
    at.selectbox(key="encoding").set_value("latin-1").run()
    assert "text in ISO-8859-1 (Latin-1)" in texts(at.caption)
    assert at.dataframe[0].value["Product Name"].tolist()[0] == "Konftel 250 ConferenceÊphone"


def test_an_encoding_that_cannot_read_the_file_says_so() -> None:
    at = upload(open_page("pages/data.py"), content=EUROPEAN_CSV, name="eu.csv")
    at.selectbox(key="encoding").set_value("cp1252").run()
    assert "the text is not Windows-1252 (Western European) (byte 0x8f" in texts(at.error)


def test_the_decimal_mark_can_be_chosen_when_the_data_cannot_tell() -> None:
    content = b'Order Date,Product Name,Quantity,Sales\n2024-01-02,Pen,1,"1,234"\n'
    at = click(upload(open_page("pages/data.py"), content=content), "validate")
    assert "--decimal" in texts(at.error) or "decimal mark" in texts(at.error)
    at.selectbox(key="decimal").set_value(",").run()
    click(at, "validate")
    assert metric(at, "To load") == "1"
    assert "rounded to cents" in texts(at.info)
