"""The Predictions page names runs, models and what-ifs as people read them (AppTest).

Runs are stored straight through salesml.predictions for small stand-in models, so the
tests need no training; the app reads the same database (SQLite, and MySQL where marked).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from salesml import predictions, registry
from salesml.db import SavedModel, create_engine_for, init_db
from salesml.ingest import ingest_file
from tests.app.driver import open_page, rerun
from tests.conftest import _empty_mysql

PREDICTIONS = "pages/predictions.py"
COMBINATION = "median(lr+rf+gb+snaive)"
COMBINATION_NAME = (
    "#1 Median of Linear regression + Random forest + Gradient boosting + Seasonal naive"
    " · category monthly revenue"
)
CATEGORIES = ("Garden", "Office")
HOSTILE = "[click](https://evil.example) **now** <b>x</b>"
# Where Streamlit renders Markdown: element bodies, and the labels and help of widgets.
MARKDOWN_BODIES = ("markdown", "caption", "info", "success", "warning", "error", "subheader")
MARKDOWN_FIELDS = ("label", "body", "help")


def spec(name: str) -> registry.ModelSpec:
    """A monthly revenue model by category, trained on 2023."""
    return registry.ModelSpec(
        name=name,
        level="category",
        freq="M",
        target="revenue",
        horizon=2,
        series_count=len(CATEGORIES),
        data_start=dt.date(2023, 1, 1),
        data_end=dt.date(2024, 2, 1),
    )


def forecast(model_used: str, value: float = 10_000.4) -> pd.DataFrame:
    """March and April 2024 for every category, the same value each time."""
    periods = ("2024-03-01", "2024-04-01")
    return pd.DataFrame(
        {
            "series": [c for c in CATEGORIES for _ in periods],
            "target_period": list(periods) * len(CATEGORIES),
            "predicted_sales": value,
            "lower_80": value * 0.9,
            "upper_80": value * 1.1,
            "lower_95": value * 0.5,
            "upper_95": value * 1.5,
            "model_used": model_used,
        }
    )


def store(engine: Engine, record: SavedModel, value: float = 10_000.4, **options) -> str:
    """Store a forecast of this model as a new run; return its id."""
    return predictions.store_forecast(engine, forecast(record.name, value), record, **options)


def march_arrives(engine: Engine) -> None:
    """March 2024 in full: 12,500.5 of sales in each category (its last day is in the data)."""
    lines = [f"2024-03-{day},Pen,{c},1,6250.25" for c in CATEGORIES for day in ("05", "31")]
    ingest_file(
        engine,
        ("Order Date,Product Name,Category,Quantity,Sales\n" + "\n".join(lines)).encode(),
        name="march.csv",
    )


@pytest.fixture
def models(app_dir: Path) -> dict[str, Path]:
    """Where the stand-in models' files go."""
    return {"model_dir": app_dir / "models"}


def two_models(engine: Engine, model_dir: Path) -> tuple[SavedModel, SavedModel]:
    """#1 an untitled combination, #2 a linear regression titled 'Board pack 2026'."""
    combination = registry.save_model(engine, {"m": 1}, spec(COMBINATION), model_dir=model_dir)
    lr = registry.save_model(engine, {"m": 2}, spec("lr"), model_dir=model_dir)
    return combination, registry.rename_model(engine, lr.id, "Board pack 2026")


@pytest.fixture
def app_db(app_dir: Path) -> Iterator[Engine]:
    """The app's own SQLite database, migrated and empty."""
    engine = create_engine_for(f"sqlite:///{app_dir / 'app.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def app_db_anywhere(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """The app's database on SQLite, then on MySQL, migrated and empty."""
    if request.param == "sqlite":
        yield request.getfixturevalue("app_db")
        return
    url = request.getfixturevalue("mysql_server_url")
    engine = _empty_mysql(url)
    init_db(engine)
    monkeypatch.setenv("SALESML_DATABASE_URL", url)
    yield engine
    engine.dispose()


def table(at: AppTest, index: int) -> list[dict]:
    """The rows of one of the page's tables: 0 the saved runs, 1 the accuracy."""
    return at.dataframe[index].value.to_dict("records")


def column_formats(at: AppTest, index: int) -> dict[str, str]:
    """The number format each column of a table is shown with."""
    config = json.loads(at.dataframe[index].proto.columns)
    return {
        name: column["type_config"]["format"]
        for name, column in config.items()
        if "format" in column.get("type_config", {})
    }


def headers(at: AppTest, index: int) -> dict[str, str]:
    """Each shown column of a table by the header it is shown under."""
    config = json.loads(at.dataframe[index].proto.columns)
    order = at.dataframe[index].proto.column_order or at.dataframe[index].value.columns
    return {name: config.get(name, {}).get("label") or name for name in order}


def everything_shown(at: AppTest) -> str:
    """Every cell of every table and every text, label and option of the page, joined."""
    parts = [at.dataframe[i].value.to_csv() for i in range(len(at.dataframe))]
    parts += [str(element.value) for kind in MARKDOWN_BODIES for element in at.get(kind)]
    for box in at.selectbox:
        parts += [box.label, *box.options]
    return "\n".join(parts)


def charted_values(at: AppTest) -> set[float]:
    """Every number in the data of the page's one chart."""
    [chart] = at.get("vega_lite_chart")
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets]
    return {v for f in frames for v in f.select_dtypes("number").to_numpy().ravel().tolist()}


def markdown_texts(at: AppTest) -> list[str]:
    """Every string the page handed Streamlit to render as Markdown."""
    texts = [str(element.value) for kind in MARKDOWN_BODIES for element in at.get(kind)]
    for element in at.selectbox:
        fields = element.proto.DESCRIPTOR.fields_by_name
        texts += [getattr(element.proto, name) for name in MARKDOWN_FIELDS if name in fields]
    return texts


# --------------------------------------------------------------------------- runs


def test_runs_are_shown_by_short_id_model_name_and_kind(
    app_db_anywhere: Engine, models: dict[str, Path]
) -> None:
    combination, titled = two_models(app_db_anywhere, **models)
    base = store(app_db_anywhere, combination)
    what_if = store(app_db_anywhere, combination, scenario="Promo")
    other = store(app_db_anywhere, titled)
    at = open_page(PREDICTIONS)
    rows = [(r["run_id"], r["model"], r["kind"]) for r in table(at, 0)]
    assert rows == [
        (other[:8], "#2 Board pack 2026", "Base forecast"),
        (what_if[:8], COMBINATION_NAME, "What-if: Promo"),
        (base[:8], COMBINATION_NAME, "Base forecast"),
    ]


def test_no_full_run_id_or_model_code_is_shown(app_db: Engine, models: dict[str, Path]) -> None:
    combination, titled = two_models(app_db, **models)
    runs = [store(app_db, combination), store(app_db, titled, scenario="Promo")]
    march_arrives(app_db)
    at = open_page(PREDICTIONS)
    shown = everything_shown(at)
    assert len(at.dataframe) == 2  # the runs and their accuracy
    assert [run for run in runs if run in shown] == []
    assert COMBINATION not in shown
    assert ",lr," not in shown and "· lr ·" not in shown


def test_runs_sharing_their_first_8_characters_are_told_apart(
    app_db: Engine, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    twins = iter(
        uuid.UUID(u)
        for u in ("0f3c9a12-ab00-4bbb-8ccc-000000000001", "0f3c9a12-ac00-4bbb-8ccc-000000000002")
    )
    combination, _ = two_models(app_db, **models)
    with monkeypatch.context() as patched:  # new runs get these ids; Streamlit its own
        patched.setattr(predictions.uuid, "uuid4", lambda: next(twins))
        store(app_db, combination)
        store(app_db, combination, scenario="Promo")
    at = open_page(PREDICTIONS)
    assert [r["run_id"] for r in table(at, 0)] == ["0f3c9a12-ac", "0f3c9a12-ab"]
    assert [o[:11] for o in at.selectbox(key="run").options] == ["0f3c9a12-ac", "0f3c9a12-ab"]


# --------------------------------------------------------------------------- accuracy


def test_accuracy_names_the_run_model_kind_and_what_forecast_it(
    app_db_anywhere: Engine, models: dict[str, Path]
) -> None:
    combination, _ = two_models(app_db_anywhere, **models)
    base = store(app_db_anywhere, combination)
    march_arrives(app_db_anywhere)
    at = open_page(PREDICTIONS)
    [row] = table(at, 1)
    assert (row["run_id"], row["model"], row["kind"]) == (
        base[:8],
        COMBINATION_NAME,
        "Base forecast",
    )
    assert row["model_used"] == COMBINATION_NAME.removeprefix("#1 ").split(" · ")[0]


def test_accuracy_figures_are_rounded_as_read(app_db: Engine, models: dict[str, Path]) -> None:
    combination, _ = two_models(app_db, **models)
    store(app_db, combination)
    march_arrives(app_db)  # 12,500.5 actual against 10,000.4 forecast in both categories
    at = open_page(PREDICTIONS)
    [row] = table(at, 1)
    assert (row["mae"], row["bias"]) == (2500.0, -2500.0)  # 2,500.1 shown whole
    assert row["smape"] == 22.2  # 2 * 2500.1 / 22500.9, as a percentage
    assert (row["coverage_80"], row["coverage_95"]) == (0.0, 100.0)
    assert column_formats(at, 1) == {
        "periods": "%d",
        "mae": "%,g",
        "smape": "%.1f%%",
        "bias": "%,g",
        "coverage_80": "%.0f%%",
        "coverage_95": "%.0f%%",
    }


def test_accuracy_names_the_currency_of_its_money_figures(
    app_db: Engine, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # the sales loaded state none
    combination, _ = two_models(app_db, **models)
    store(app_db, combination)
    march_arrives(app_db)
    shown = headers(open_page(PREDICTIONS), 1)
    assert (shown["mae"], shown["bias"]) == ("MAE (EUR)", "bias (EUR)")
    assert "unit" not in shown


def quantity_model(engine: Engine, model_dir: Path) -> SavedModel:
    """A linear regression of the quantities sold, by category."""
    counted = dataclasses.replace(spec("lr"), target="quantity")
    return registry.save_model(engine, {"m": 3}, counted, model_dir=model_dir)


def test_accuracy_of_quantities_names_no_currency(
    app_db: Engine, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")
    store(app_db, quantity_model(app_db, **models))
    march_arrives(app_db)
    shown = headers(open_page(PREDICTIONS), 1)
    assert (shown["mae"], shown["bias"]) == ("MAE", "bias")
    assert "unit" not in shown


def test_accuracy_of_money_and_quantities_together_names_each_rows_unit(
    app_db: Engine, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")
    combination, _ = two_models(app_db, **models)
    store(app_db, combination)
    store(app_db, quantity_model(app_db, **models))
    march_arrives(app_db)
    at = open_page(PREDICTIONS)
    assert (headers(at, 1)["mae"], headers(at, 1)["unit"]) == ("MAE", "unit")
    units = {row["model"].split(" ")[0]: row["unit"] for row in table(at, 1)}
    assert units == {"#1": "EUR", "#3": "units"}


# --------------------------------------------------------------------------- the run picker


def test_the_run_picker_reads_id_model_kind_and_date_and_picks_a_what_if(
    app_db_anywhere: Engine, models: dict[str, Path]
) -> None:
    combination, _ = two_models(app_db_anywhere, **models)
    what_if = store(app_db_anywhere, combination, 13_579.0, scenario="Promo")
    store(app_db_anywhere, combination)  # the newest run, shown first
    at = open_page(PREDICTIONS)
    picker = at.selectbox(key="run")
    assert picker.options[0].endswith(f"· Base forecast · saved {dt.date.today()}")
    assert picker.options[1] == (
        f"{what_if[:8]} · {COMBINATION_NAME} · What-if: Promo · saved {dt.date.today()}"
    )
    assert 13_579.0 not in charted_values(at)
    picker.set_value(what_if)
    at = rerun(at)
    assert at.selectbox(key="run").value == what_if
    assert 13_579.0 in charted_values(at)


# --------------------------------------------------------------------------- names from users


def test_a_hostile_what_if_name_and_title_are_shown_literally(
    app_db: Engine, models: dict[str, Path]
) -> None:
    combination = registry.save_model(app_db, {"m": 1}, spec("lr"), model_dir=models["model_dir"])
    registry.rename_model(app_db, combination.id, HOSTILE)
    store(app_db, combination, scenario=HOSTILE)
    at = open_page(PREDICTIONS)
    [row] = table(at, 0)
    # Table cells and a select box's options are shown as typed, never as Markdown.
    assert (row["model"], row["kind"]) == (f"#1 {HOSTILE}", f"What-if: {HOSTILE}")
    assert f"#1 {HOSTILE} · What-if: {HOSTILE} · saved" in at.selectbox(key="run").options[0]
    assert not [text for text in markdown_texts(at) if "](http" in text or "**now**" in text]


def test_a_revenue_run_against_its_actuals_says_the_currency(
    app_db: Engine, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    combination, _ = two_models(app_db, **models)
    store(app_db, combination)
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # the sales loaded state none
    at = open_page(PREDICTIONS)
    assert '"title": "Revenue (EUR)"' in at.get("vega_lite_chart")[0].proto.spec
