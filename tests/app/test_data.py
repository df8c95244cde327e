"""The Data page: its messages in the page's own words, validation, loads and gaps in the data."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.driver import click, open_page, texts

SALES_CSV = (
    b"Order Date,Product Name,Category,Quantity,Sales\n"
    b"2024-01-01,Widget,Tools,2,20.00\n"
    b"2024-01-02,Gadget,Toys,1,15.50\n"
    b"2024-01-03,Widget,Tools,3,30.00\n"
)
AMBIGUOUS_DATES = (
    b"Order Date,Product Name,Quantity,Sales\n03/04/2024,Pen,1,2\n05/06/2024,Pen,1,2\n"
)
UNDECIDED_DECIMAL = b'Order Date,Product Name,Quantity,Sales\n2024-01-02,Pen,1,"1,234"\n'
MAC_ROMAN = "Order Date,Product Name,Quantity,Sales\n2024-01-02,Café,1,2\n".encode("mac_roman")


def upload(at: AppTest, content: bytes = SALES_CSV, name: str = "sales.csv") -> AppTest:
    """Put a file in the Data page's uploader."""
    at.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


# --------------------------------------------------------------------------- messages


def test_ambiguous_dates_point_to_the_date_format_field() -> None:
    at = click(upload(open_page("pages/data.py"), AMBIGUOUS_DATES), "validate")
    assert "set it in 'Date format' under Options" in texts(at.error)
    assert "--" not in texts(at.error)


def test_an_undecided_decimal_mark_points_to_the_decimal_mark_field() -> None:
    at = click(upload(open_page("pages/data.py"), UNDECIDED_DECIMAL), "validate")
    assert "choose it in 'Decimal mark' under Options" in texts(at.error)
    assert "--" not in texts(at.error)


def test_a_wrong_encoding_points_to_the_text_encoding_field() -> None:
    at = upload(open_page("pages/data.py"), MAC_ROMAN)
    at.selectbox(key="encoding").set_value("utf-8").run()
    assert "choose it in 'Text encoding' above" in texts(at.error)
    assert "--" not in texts(at.error)


def test_a_binary_upload_is_described_in_words() -> None:
    at = upload(open_page("pages/data.py"), b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "x.csv")
    assert "it looks like an image (PNG)" in texts(at.error)
    assert "b'" not in texts(at.error)


def test_a_currency_that_is_not_one_points_to_the_currency_field() -> None:
    at = upload(open_page("pages/data.py"))
    at.text_input(key="load_currency").set_value("US dollars")
    at = click(at, "validate")
    assert "type it in 'Currency' under Options" in texts(at.error)


def test_a_file_of_two_currencies_points_to_the_currency_field() -> None:
    two = 'Order Date,Product Name,Quantity,Sales\n2024-01-02,Pen,1,"$2"\n2024-01-03,Pen,1,"£3"\n'
    at = click(upload(open_page("pages/data.py"), two.encode()), "validate")
    assert "2 currencies ($, £)" in texts(at.error)
    assert "type it in 'Currency' under Options" in texts(at.error)


# --------------------------------------------------------------------------- validate


def test_validate_waits_until_every_required_field_has_a_column() -> None:
    at = upload(open_page("pages/data.py"))
    at.selectbox(key="map_date").set_value("(none)").run()
    assert at.button(key="validate").disabled
    assert "Choose the column for Date to validate" in texts(at.caption)


def test_the_help_line_names_each_missing_field_by_its_label() -> None:
    at = upload(open_page("pages/data.py"))
    at.selectbox(key="map_product_name").set_value("(none)")
    at.selectbox(key="map_revenue").set_value("(none)").run()
    assert "Choose the column for Product name and Revenue or Unit price" in texts(at.caption)


def test_unit_price_without_quantity_asks_for_the_quantity() -> None:
    at = upload(open_page("pages/data.py"))
    at.selectbox(key="map_revenue").set_value("(none)")
    at.selectbox(key="map_unit_price").set_value("Sales")
    at.selectbox(key="map_quantity").set_value("(none)").run()
    assert at.button(key="validate").disabled
    assert "Choose the column for Quantity to validate" in texts(at.caption)


def test_validate_is_enabled_once_the_fields_are_mapped() -> None:
    at = upload(open_page("pages/data.py"))
    at.selectbox(key="map_date").set_value("(none)").run()
    at.selectbox(key="map_date").set_value("Order Date").run()
    assert not at.button(key="validate").disabled
    assert "Choose the column" not in texts(at.caption)


# --------------------------------------------------------------------------- loading


def test_load_shows_its_summary_and_the_new_batch(app_dir) -> None:
    at = click(click(upload(open_page("pages/data.py")), "validate"), "load")
    assert "Loaded 3 rows as batch 1" in texts(at.success)
    [history] = [d.value for d in at.dataframe if "file" in d.value.columns]
    assert history.loc[0, "file"] == "sales.csv"


def test_the_currency_stated_at_load_is_shown_and_kept_with_the_batch(app_dir) -> None:
    at = upload(open_page("pages/data.py"))
    at.text_input(key="load_currency").set_value("chf")
    at = click(at, "validate")
    assert "amounts in CHF" in texts(at.caption)
    at = click(at, "load")
    [history] = [d.value for d in at.dataframe if "file" in d.value.columns]
    assert history.loc[0, "currency"] == "CHF"


@pytest.mark.slow
def test_a_load_goes_on_when_the_user_opens_another_page(app_dir, monkeypatch) -> None:
    import threading

    import pytest

    from salesml import db

    release, insert = threading.Event(), db.insert_sales

    def slow_insert(*args, **kwargs):
        release.wait(20)  # the load holds here while the user leaves the page
        return insert(*args, **kwargs)

    monkeypatch.setattr(db, "insert_sales", slow_insert)
    at = click(upload(open_page("pages/data.py")), "validate")
    # A script run stopped mid-way, as Streamlit stops it when the user opens another page.
    with pytest.raises(RuntimeError, match="timed out"):
        at.button(key="load").click().run(timeout=2)
    release.set()
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/data.py").run()
    assert "Loaded 3 rows as batch 1" in texts(at.success)
    at.run()
    assert "Loaded 3 rows" not in texts(at.success)  # the result is shown once
    engine = db.create_engine_for(f"sqlite:///{app_dir / 'app.db'}")
    assert db.overview(engine).rows == 3
    engine.dispose()
