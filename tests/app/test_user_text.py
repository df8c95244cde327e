"""Names, file names, raw values and error text from users are shown as text, never as Markdown."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from salesml import predictions, registry, ui
from salesml.db import create_engine_for, init_db
from salesml.demo import generate_demo
from salesml.ingest import ingest_file
from tests.app.driver import click, open_page, rerun

HOSTILE = "[click](https://evil.example)"
HOSTILE_FILE = "[x](http://e).csv"
# A database file in a folder whose path reads as a link: the Overview names the file.
HOSTILE_DIR = ("[db](http:", "evil)")
UNESCAPED_LINK = "](http"
SMALL_CSV = b"Order Date,Product Name,Category,Quantity,Sales\n2024-01-01,Pen,Office,2,4.00\n"
# Elements whose text Streamlit renders as Markdown, and the proto fields holding it.
BODIES = ("markdown", "caption", "title", "header", "subheader")
BODIES += ("success", "info", "warning", "error")
LABELLED = ("metric", "status", "expander", "page_link", "progress", "button", "download_button")
LABELLED += ("selectbox", "multiselect", "radio", "slider", "checkbox", "toggle", "text_input")
LABELLED += ("number_input", "date_input", "file_uploader")
MARKDOWN_FIELDS = ("label", "help", "body", "delta", "text")


def markdown_texts(at: AppTest) -> list[str]:
    """Every string the page handed Streamlit to render as Markdown."""
    texts = [str(element.value) for kind in BODIES for element in at.get(kind)]
    for kind in LABELLED:
        for element in at.get(kind):
            fields = element.proto.DESCRIPTOR.fields_by_name
            texts += [getattr(element.proto, name) for name in MARKDOWN_FIELDS if name in fields]
    texts += [option for radio in at.get("radio") for option in radio.proto.options]
    return texts


def assert_shown_as_text(at: AppTest, shown: str | None = HOSTILE) -> None:
    """No Markdown of the page holds a link, and `shown` (when given) appears escaped."""
    texts = markdown_texts(at)
    assert not [text for text in texts if UNESCAPED_LINK in text]
    if shown is not None:
        assert any(ui.plain(shown) in text for text in texts), f"{shown!r} is not shown"


@pytest.fixture(scope="module")
def hostile_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo-like sales whose Outdoor category and Stapler product are named as a link."""
    folder = tmp_path_factory.mktemp("hostile")
    frame = generate_demo(start=dt.date(2023, 1, 1))
    frame["Category"] = frame["Category"].replace("Outdoor", HOSTILE)
    frame["Product Name"] = frame["Product Name"].replace("Stapler", HOSTILE)
    engine = create_engine_for(f"sqlite:///{folder / 'app.db'}")
    init_db(engine)
    ingest_file(engine, frame.to_csv(index=False).encode(), name=HOSTILE_FILE)
    record = registry.save_model(engine, {"any": "model"}, hostile_spec(), model_dir=folder)
    predictions.store_forecast(engine, hostile_forecast(), record)
    engine.dispose()
    return folder / "app.db"


def hostile_spec() -> registry.ModelSpec:
    """A saved model named as a link."""
    return registry.ModelSpec(
        name=HOSTILE,
        level="category",
        freq="M",
        target="revenue",
        horizon=1,
        series_count=1,
        data_start=dt.date(2023, 1, 1),
        data_end=dt.date(2025, 12, 1),
    )


def hostile_forecast() -> pd.DataFrame:
    """One forecast period of the series named as a link."""
    return pd.DataFrame(
        {
            "series": [HOSTILE],
            "target_period": ["2025-12-01"],
            "predicted_sales": [100.0],
            **{bound: [100.0] for bound in predictions.BOUNDS},
            "model_used": [HOSTILE],
        }
    )


@pytest.fixture
def hostile(
    hostile_database: Path, app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """This test's copy of the hostile database, in a folder whose path reads as a link."""
    folder = app_dir.joinpath(*HOSTILE_DIR)
    folder.mkdir(parents=True)
    shutil.copy(hostile_database, folder / "app.db")
    url = f"sqlite:///{folder / 'app.db'}"
    monkeypatch.setenv("SALESML_DATABASE_URL", url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


def upload(at: AppTest, content: bytes, name: str = HOSTILE_FILE) -> AppTest:
    """Put a file in the Data page's uploader."""
    at.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


# --------------------------------------------------------------------------- every page


@pytest.mark.slow
def test_the_overview_names_the_database_file_as_text(hostile: Engine) -> None:
    assert_shown_as_text(open_page("pages/overview.py"), shown="/".join(HOSTILE_DIR))


def test_the_data_page_lists_the_loaded_file_without_markup(hostile: Engine) -> None:
    assert_shown_as_text(open_page("pages/data.py"), shown=None)


@pytest.mark.slow
def test_the_explorer_filtered_to_the_names_shows_no_markup(hostile: Engine) -> None:
    at = open_page("pages/explorer.py")
    at.multiselect(key="categories").set_value([HOSTILE])
    at.multiselect(key="products").set_value([HOSTILE])
    assert_shown_as_text(rerun(at), shown=None)


def test_the_predictions_page_shows_model_and_series_names_without_markup(
    hostile: Engine,
) -> None:
    assert_shown_as_text(open_page("pages/predictions.py"), shown=None)


@pytest.mark.slow
def test_a_comparison_names_its_categories_as_text(hostile: Engine) -> None:
    at = open_page("pages/train.py")
    at.session_state["train_level"] = "category"
    at.session_state["train_horizon"] = 3
    at.session_state["train_models"] = ["snaive"]
    at.session_state["train_windows"] = 1
    at.session_state["train_categories"] = [HOSTILE]
    at = click(at.run(), "train")
    assert_shown_as_text(at)
    at.toggle(key="presenter").set_value(True)
    assert_shown_as_text(rerun(at))


# --------------------------------------------------------------------------- error messages


def test_an_unreadable_upload_is_named_as_text_in_the_error(hostile: Engine) -> None:
    at = upload(open_page("pages/data.py"), b"")
    assert_shown_as_text(at, shown=HOSTILE_FILE)
    assert at.error


@pytest.mark.slow
def test_a_reloaded_file_is_named_as_text_in_the_warning(hostile: Engine) -> None:
    at = click(click(upload(open_page("pages/data.py"), SMALL_CSV), "validate"), "load")
    at = click(click(upload(at, SMALL_CSV), "validate"), "load")
    assert at.warning
    assert_shown_as_text(at, shown=HOSTILE_FILE)


def test_the_columns_of_a_file_are_named_as_text_while_mapping(hostile: Engine) -> None:
    content = b"Order Date,[click](https://evil.example),Quantity,Sales\n2024-01-01,Pen,2,4.00\n"
    at = upload(open_page("pages/data.py"), content, name="columns.csv")
    assert at.button(key="validate").disabled  # no product name column: nothing to validate
    assert_shown_as_text(at, shown=None)


def test_a_typed_date_format_is_echoed_as_text(hostile: Engine) -> None:
    content = b"Order Date,Product Name,Quantity,Sales\n[d](http://e)2024-01-01,Pen,2,4.00\n"
    at = upload(open_page("pages/data.py"), content, name="dates.csv")
    at.text_input(key="date_format").input("[d](http://e)%Y-%m-%d").run()
    at = click(at, "validate")
    assert_shown_as_text(at, shown="[d](http://e)%Y-%m-%d")


def show_error_page() -> None:
    """A page that shows one salesml error naming a file, a column and a raw value."""
    from salesml import ui
    from salesml.errors import SchemaError

    message = "[x](http://e).csv: column '[c](http://e)': 1 value is not a date (first: '**b**')"
    ui.show_error(SchemaError(message))


def test_show_error_shows_the_message_as_text() -> None:
    at = AppTest.from_function(show_error_page).run()
    [error] = at.error
    assert UNESCAPED_LINK not in error.value
    assert ui.plain("[x](http://e).csv") in error.value
    assert ui.plain("'**b**'") in error.value
