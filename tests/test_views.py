"""salesml.views: date presets counted back from the last sale, and views in page addresses."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesml import analytics, views
from salesml.analytics import Filters

# --------------------------------------------------------------------------- date presets

FIRST, LAST = dt.date(2023, 1, 10), dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("All", ("2023-01-10", "2024-03-05")),
        ("Last 30 days", ("2024-02-05", "2024-03-05")),
        ("Last 3 months", ("2023-12-06", "2024-03-05")),
        ("Last 12 months", ("2023-03-06", "2024-03-05")),
        ("Year to date", ("2024-01-01", "2024-03-05")),
        ("Last year", ("2023-01-10", "2023-12-31")),  # from the first sale
    ],
)
def test_date_presets_count_back_from_the_last_sale(name: str, expected: tuple[str, str]) -> None:
    presets = views.date_presets(FIRST, LAST)
    assert presets[name] == tuple(dt.date.fromisoformat(day) for day in expected)


def test_a_preset_without_sales_is_not_offered_and_the_others_stop_at_the_first_sale() -> None:
    presets = views.date_presets(dt.date(2024, 1, 3), dt.date(2024, 1, 10))
    assert "Last year" not in presets
    assert presets["Last 12 months"] == (dt.date(2024, 1, 3), dt.date(2024, 1, 10))


def test_last_12_months_from_29_february_start_on_1_march() -> None:
    presets = views.date_presets(dt.date(2020, 1, 1), dt.date(2024, 2, 29))
    assert presets["Last 12 months"] == (dt.date(2023, 3, 1), dt.date(2024, 2, 29))


# --------------------------------------------------------------------------- page addresses

CATALOGUE = analytics.Catalogue(
    pd.DataFrame(
        {
            "category": ["Tools", "Tools", "Toys", "Toys"],
            "product_name": ["Hammer", "Widget", "Kite", "Yo-yo"],
        }
    )
)
WHOLE = views.View(Filters(FIRST, LAST))


def parse(params: dict[str, list[str]]) -> tuple[views.View, list[str]]:
    return views.parse_view(params, CATALOGUE, first=FIRST, last=LAST)


def test_the_default_view_needs_no_parameters() -> None:
    assert views.view_params(WHOLE, first=FIRST, last=LAST) == {}
    assert parse({}) == (WHOLE, [])


def test_a_view_survives_its_page_address() -> None:
    view = views.View(
        Filters(dt.date(2023, 6, 1), dt.date(2023, 12, 31), ["Toys"], ["Kite", "Yo-yo"]),
        measure="quantity",
        grain="M",
        rolling=3,
    )
    params = views.view_params(view, first=FIRST, last=LAST)
    assert params == {
        "start": ["2023-06-01"],
        "end": ["2023-12-31"],
        "category": ["Toys"],
        "product": ["Kite", "Yo-yo"],
        "measure": ["quantity"],
        "grain": ["M"],
        "rolling": ["3"],
    }
    assert parse(params) == (view, [])


def test_a_currency_the_sales_are_in_survives_the_page_address() -> None:
    view = views.View(Filters(FIRST, LAST), currency="$")
    params = views.view_params(view, first=FIRST, last=LAST)
    assert params == {"currency": ["$"]}
    parsed = views.parse_view(params, CATALOGUE, first=FIRST, last=LAST, currencies=["EUR", "$"])
    assert parsed == (view, [])


@pytest.mark.parametrize("asked", ["JPY", "", "eur", "<b>EUR</b>"])
def test_a_currency_the_sales_are_not_in_is_left_out_and_named(asked: str) -> None:
    view, ignored = views.parse_view(
        {"currency": [asked]}, CATALOGUE, first=FIRST, last=LAST, currencies=["EUR", ""]
    )
    assert (view, ignored) == (WHOLE, ["Currency"])


def test_the_chosen_files_survive_the_page_address() -> None:
    view = views.View(Filters(FIRST, LAST, batches=[7, 2]))
    params = views.view_params(view, first=FIRST, last=LAST)
    assert params == {"file": ["7", "2"]}
    parsed = views.parse_view(params, CATALOGUE, first=FIRST, last=LAST, files=[2, 5, 7])
    assert parsed == (view, [])


@pytest.mark.parametrize("asked", ["9", "02", "-2", "2.0", "two", "<b>2</b>", "9" * 5000])
def test_a_file_that_is_not_loaded_is_left_out_and_named(asked: str) -> None:
    view, ignored = views.parse_view(
        {"file": ["2", asked]}, CATALOGUE, first=FIRST, last=LAST, files=[2, 5]
    )
    assert (view, ignored) == (views.View(Filters(FIRST, LAST, batches=[2])), ["Files"])


def test_dates_beyond_the_sales_are_brought_back_to_them() -> None:
    view, ignored = parse({"start": ["2001-01-01"], "end": ["2030-01-01"]})
    assert (view.filters.start, view.filters.end, ignored) == (FIRST, LAST, [])


@pytest.mark.parametrize(
    ("params", "ignored", "kept"),
    [
        ({"category": ["Garden"]}, ["Categories"], WHOLE),
        (
            {"category": ["Toys", "toys", "Garden"]},
            ["Categories"],
            views.View(Filters(FIRST, LAST, ["Toys"])),
        ),
        ({"product": ["Kite"], "category": ["Tools"]}, ["Products"], None),
        ({"start": ["2024-13-01"]}, ["Dates"], WHOLE),
        ({"end": ["05/03/2024"]}, ["Dates"], WHOLE),
        ({"start": ["2024-03-01"], "end": ["2024-01-01"]}, ["Dates"], WHOLE),
        # A range wholly before or after the sales would leave nothing once cut to them.
        ({"start": ["2000-01-01"], "end": ["2000-06-30"]}, ["Dates"], WHOLE),
        ({"start": ["2030-01-01"], "end": ["2030-06-30"]}, ["Dates"], WHOLE),
        ({"measure": ["profit"]}, ["Measure"], WHOLE),
        ({"grain": ["Y"]}, ["Grain"], WHOLE),
        ({"rolling": ["0"]}, ["Rolling average"], WHOLE),
        ({"rolling": ["13"]}, ["Rolling average"], WHOLE),
        ({"rolling": ["four"]}, ["Rolling average"], WHOLE),
        ({"rolling": ["1e3"], "grain": [""]}, ["Grain", "Rolling average"], WHOLE),
        ({"category": ["x" * 100_000]}, ["Categories"], WHOLE),
        ({"category": ["**Toys** [x](javascript:alert(1)) <script>"]}, ["Categories"], WHOLE),
        ({"start": ["2024-01-01" + "\n" * 50]}, ["Dates"], WHOLE),
    ],
)
def test_a_parameter_that_is_not_understood_is_left_out_and_named(
    params: dict[str, list[str]], ignored: list[str], kept: views.View | None
) -> None:
    view, found = parse(params)
    assert found == ignored
    if kept is not None:
        assert view == kept


def test_a_product_of_another_category_is_left_out_but_the_category_kept() -> None:
    view, ignored = parse({"product": ["Kite", "Hammer"], "category": ["Tools"]})
    assert view.filters == Filters(FIRST, LAST, ["Tools"], ["Hammer"])
    assert ignored == ["Products"]
