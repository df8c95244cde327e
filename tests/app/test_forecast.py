"""The Forecast and Predictions pages, driven by AppTest on demo data and small saved models."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from salesml import charts, predictions, registry, training, ui
from salesml.db import PredictionResult, SavedModel, create_engine_for, init_db
from salesml.demo import generate_demo, load_demo
from salesml.forecasting import Forecaster
from salesml.ingest import ingest_file
from salesml.series import load_series
from tests.app.driver import metric, metric_tile, open_page, rerun, shown, texts

FORECAST = "pages/forecast.py"
PREDICTIONS = "pages/predictions.py"
# The demo history ends in December 2025, so forecasts start in January 2026.
CATEGORY_MODEL = training.TrainRequest(
    level="category", freq="M", horizon=3, models=("snaive", "ets"), windows=1
)
TOTAL_MODEL = training.TrainRequest(level="total", freq="M", horizon=2, models=("snaive",))
CATEGORIES = ("Electronics", "Home & Kitchen", "Office Supplies", "Outdoor")
HOSTILE = "[click](https://evil.example)"
# Where Streamlit renders Markdown: element bodies, and the labels, help and values of widgets.
MARKDOWN_BODIES = ("markdown", "caption", "info", "success", "warning", "error")
MARKDOWN_FIELDS = ("label", "body", "delta", "help")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data with two saved models, built once: #1 by category (3 months), #2 total."""
    root = tmp_path_factory.mktemp("trained")
    engine = create_engine_for(f"sqlite:///{root / 'app.db'}")
    init_db(engine)
    load_demo(engine)
    for request in (CATEGORY_MODEL, TOTAL_MODEL):
        result = training.train(engine, request)
        training.save(engine, result, request, model_dir=root / "models")
    engine.dispose()
    return root


@pytest.fixture
def data_dir(app_dir: Path) -> Path:
    """The app's data directory: an empty database, and models once copied in."""
    return app_dir


@pytest.fixture
def demo_with_models(data_dir: Path, trained: Path) -> Iterator[Engine]:
    """This test's own copy of the demo database and the saved models."""
    shutil.copy(trained / "app.db", data_dir / "app.db")
    shutil.copytree(trained / "models", data_dir / "models")
    engine = create_engine_for(f"sqlite:///{data_dir / 'app.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def load_calls(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Model ids read from disk by the app; training during a page run fails the test."""
    calls: list[int | None] = []
    load = registry.load_model

    def counting_load(engine, model_id=None, **options):
        calls.append(model_id)
        return load(engine, model_id, **options)

    def no_training(self, frame):
        raise AssertionError("the page retrained a model")

    monkeypatch.setattr(registry, "load_model", counting_load)
    monkeypatch.setattr(Forecaster, "fit", no_training)
    return calls


def exact(at: AppTest, label: str) -> float:
    """The exact figure of a metric tile: the number its help starts with."""
    return float(re.match(r"[\d,.]+", metric_tile(at, label).proto.help)[0].replace(",", ""))


def numbers(at: AppTest):
    """The forecast table in the page's 'The numbers' expander."""
    return at.dataframe[0].value


def stored_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(PredictionResult)).scalar_one()


def pick_model(at: AppTest, model_id: int) -> AppTest:
    at.selectbox(key="forecast_model").set_value(model_id)
    return rerun(at)


# --------------------------------------------------------------------------- empty database


def test_forecast_page_without_a_model_says_how_to_train_one() -> None:
    at = open_page(FORECAST)
    assert "no saved model yet" in texts(at.info)
    assert "python -m salesml train" in texts(at.info)
    assert not at.error
    assert not at.slider


def test_predictions_page_without_saved_forecasts_says_how_to_save_one() -> None:
    at = open_page(PREDICTIONS)
    assert "No forecast has been saved yet" in texts(at.info)
    assert "Save forecast to the database" in texts(at.info)
    assert not at.error


# --------------------------------------------------------------------------- forecast


@pytest.mark.slow
def test_models_are_listed_newest_first_with_what_they_forecast(demo_with_models: Engine) -> None:
    """By readable names: a manager does not know the codes 'snaive' and 'ets'."""
    at = open_page(FORECAST)
    picker = at.selectbox(key="forecast_model")
    assert picker.options[0].startswith("#2 Seasonal naive · total monthly revenue")
    assert picker.options[1] == "#1 ETS · category monthly revenue · data Jan 2022–Dec 2025"


@pytest.mark.slow
def test_a_model_from_the_earlier_forecasting_engine_asks_to_be_retrained(
    demo_with_models: Engine,
) -> None:
    with demo_with_models.begin() as conn:
        newest = conn.execute(sa.select(sa.func.max(SavedModel.id))).scalar_one()
        details = json.loads(
            conn.execute(
                sa.select(SavedModel.metadata_json).where(SavedModel.id == newest)
            ).scalar_one()
        )
        details.pop("engine")
        conn.execute(
            sa.update(SavedModel)
            .where(SavedModel.id == newest)
            .values(metadata_json=json.dumps(details))
        )
    at = open_page(FORECAST)
    assert not at.exception
    assert "earlier forecasting engine" in texts(at.error)
    assert "retrain" in texts(at.error)
    assert "Pick another model" in texts(at.info)


def test_forecast_starts_at_the_trained_horizon(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    assert at.slider(key="horizon").value == 3
    assert at.slider(key="horizon").max == 36
    assert at.selectbox(key="series").options == list(CATEGORIES)
    assert numbers(at)["period"].tolist() == ["Jan 2026", "Feb 2026", "Mar 2026"]
    assert not at.error


def test_moving_the_horizon_redraws_without_reloading_or_retraining(
    demo_with_models: Engine, load_calls: list[int | None]
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="horizon").set_value(12)
    rerun(at)
    assert len(numbers(at)) == 12
    assert len(at.multiselect(key="promo_periods").options) == 12
    at.slider(key="horizon").set_value(30)  # past the precomputed periods: still no refit
    rerun(at)
    assert len(numbers(at)) == 30
    assert load_calls == [2, 1]  # each model read from disk once, when first picked


def test_the_series_picker_changes_the_series_shown(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.selectbox(key="series").set_value("Outdoor")
    rerun(at)
    assert set(numbers(at)["series"]) == {"Outdoor"}


def test_picking_another_model_starts_at_its_own_horizon(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="horizon").set_value(9)
    rerun(at)
    at = pick_model(at, 2)
    assert at.slider(key="horizon").value == 2
    assert not any(s.key == "series" for s in at.selectbox)  # one series: nothing to pick


def test_growth_raises_the_what_if_total(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    assert metric(at, "What-if") == "no change"
    base = exact(at, "Forecast, next 3 months")
    at.slider(key="growth").set_value(10)
    rerun(at)
    what_if = exact(at, "What-if, next 3 months")
    assert what_if == pytest.approx(base * 1.1, abs=2)
    assert exact(at, "Forecast, next 3 months") == base
    assert f"With the what-if: **{what_if:,.0f}** over the next 3 months" in texts(at.markdown)


def test_promotion_uplift_raises_only_the_chosen_periods(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="uplift").set_value(50)
    at.multiselect(key="promo_periods").set_value(["2026-02-01"])
    rerun(at)
    table = numbers(at)
    ratio = (table["what-if"] / table["forecast"]).round(3).tolist()
    assert ratio == [1.0, 1.5, 1.0]


def test_summary_compares_the_forecast_periods_with_a_year_earlier(
    demo_with_models: Engine,
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    total = exact(at, "Forecast, next 3 months")
    assert f"the model expects **{total:,.0f}** in revenue" in texts(at.markdown)
    found = re.search(r"most likely between ([\d,]+) and ([\d,]+)", texts(at.markdown))
    low, high = (float(value.replace(",", "")) for value in found.groups())
    assert low < total < high
    year_ago = exact(at, "Same periods a year earlier")
    assert f"{(total - year_ago) / year_ago * 100:+.1f}% against the same periods" in texts(
        at.markdown
    )


def test_tiles_show_three_digits_and_keep_the_exact_figure_in_their_help(
    demo_with_models: Engine,
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="growth").set_value(10)
    rerun(at)
    tiles = ("Forecast, next 3 months", "Same periods a year earlier", "What-if, next 3 months")
    for label in tiles:
        assert metric(at, label) == charts.compact_number(exact(at, label))
    bounds = re.match(r"([\d,]+) to ([\d,]+)", metric_tile(at, "80% range").proto.help)
    low, high = (charts.compact_number(float(b.replace(",", ""))) for b in bounds.groups())
    assert metric(at, "80% range") == f"{low} – {high}"


def test_the_headline_and_the_what_if_follow_the_horizon_slider(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="growth").set_value(10)
    at.slider(key="horizon").set_value(12)
    rerun(at)
    table = numbers(at)  # Electronics, January to December 2026
    total = exact(at, "Forecast, next 12 months")
    assert total == pytest.approx(table["forecast"].sum(), abs=1)
    assert f"Over the next 12 months the model expects **{total:,.0f}**" in texts(at.markdown)
    what_if = exact(at, "What-if, next 12 months")
    assert what_if == pytest.approx(table["what-if"].sum(), abs=1)
    assert f"**{what_if:,.0f}** over the next 12 months" in texts(at.markdown)
    history = load_series(demo_with_models, level="category", freq="M").frame
    year_before = history[(history["unique_id"] == "Electronics") & (history["ds"].dt.year == 2025)]
    assert exact(at, "Same periods a year earlier") == pytest.approx(year_before["y"].sum(), abs=1)


@pytest.mark.parametrize("horizon", [13, 24])
def test_a_horizon_past_a_year_still_compares_with_a_year_earlier(
    demo_with_models: Engine, horizon: int
) -> None:
    """The year before months 13 on is forecast, not history: the first 12 are compared."""
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="horizon").set_value(horizon)
    rerun(at)
    history = load_series(demo_with_models, level="category", freq="M").frame
    year_before = history[(history["unique_id"] == "Electronics") & (history["ds"].dt.year == 2025)]
    assert exact(at, "Same periods a year earlier") == pytest.approx(year_before["y"].sum(), abs=1)
    assert (
        "a year before the first 12 months"
        in metric_tile(at, "Same periods a year earlier").proto.help
    )
    assert "against the same months a year earlier over the first 12 months" in texts(at.markdown)


def test_the_numbers_show_every_figure_of_a_column_to_the_cent(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="growth").set_value(10)
    rerun(at)
    config = json.loads(at.dataframe[0].proto.columns)
    figures = ("forecast", "80% low", "80% high", "95% low", "95% high", "what-if")
    assert {config[name]["type_config"]["format"] for name in figures} == {"%,.2f"}


def test_a_revenue_forecast_says_its_currency(
    demo_with_models: Engine,
    monkeypatch: pytest.MonkeyPatch,
    deferred_downloads: dict[str, Callable[[], bytes]],
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # the demo's batches state none
    at = pick_model(open_page(FORECAST), 1)
    assert "in revenue (EUR)" in texts(at.markdown)
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert '"title": "Revenue (EUR)"' in spec
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["forecast"]["label"] == "forecast (EUR)"
    lines = deferred_downloads["forecast-model-1-3M.csv"]().decode().splitlines()
    assert lines[0].endswith(",currency") and lines[1].endswith(",EUR")


def test_the_forecast_tiles_name_their_currency(
    demo_with_models: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # the demo's batches state none
    at = pick_model(open_page(FORECAST), 1)
    labels = [metric.label for metric in at.metric]
    money = [label for label in labels if label.startswith(("Forecast,", "80% range", "Same"))]
    assert len(money) == 3 and all(label.endswith("(EUR)") for label in money), labels


def test_the_numbers_say_they_are_rounded_to_cents(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    assert "rounded to cents" in texts(at.caption)


def rendered_markdown(at: AppTest) -> list[str]:
    """Every string the page handed Streamlit to render as Markdown."""
    found = [str(element.value) for kind in MARKDOWN_BODIES for element in at.get(kind)]
    for kind in ("metric", "selectbox", "slider", "multiselect", "button", "download_button"):
        for element in at.get(kind):
            fields = element.proto.DESCRIPTOR.fields_by_name
            found += [getattr(element.proto, name) for name in MARKDOWN_FIELDS if name in fields]
    return found


@pytest.fixture
def hostile_engine(data_dir: Path) -> Iterator[Engine]:
    """Demo sales whose Outdoor category is named as a link, and a model of that one series."""
    engine = create_engine_for(f"sqlite:///{data_dir / 'app.db'}")
    init_db(engine)
    frame = generate_demo(start=dt.date(2024, 1, 1))
    frame["Category"] = frame["Category"].replace("Outdoor", HOSTILE)
    ingest_file(engine, frame.to_csv(index=False).encode(), name="hostile.csv")
    request = training.TrainRequest(
        level="category", freq="M", horizon=3, models=("snaive",), windows=1, categories=(HOSTILE,)
    )
    training.save(engine, training.train(engine, request), request, model_dir=data_dir / "models")
    yield engine
    engine.dispose()


@pytest.mark.slow
def test_a_series_named_as_a_link_is_shown_as_text(hostile_engine: Engine) -> None:
    at = open_page(FORECAST)
    assert metric(at, "Series") == ui.plain(HOSTILE)
    assert not [text for text in rendered_markdown(at) if "](http" in text]


def test_saving_stores_the_base_forecast_of_every_series(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="growth").set_value(50)
    rerun(at)
    at.button(key="save_forecast").click()
    rerun(at)
    assert "Saved the base forecast (12 rows) as run" in texts(at.success)
    assert stored_rows(demo_with_models) == len(CATEGORIES) * 3
    stored = predictions.stored_forecasts(demo_with_models)
    electronics = numbers(at)  # the series shown: Electronics
    assert stored[stored["series"] == "Electronics"]["predicted_sales"].tolist() == (
        electronics["forecast"].tolist()
    )


@pytest.mark.slow
def test_base_forecasts_and_what_ifs_are_named_by_the_same_short_run_id(
    demo_with_models: Engine,
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.button(key="save_forecast").click()
    rerun(at)
    messages = texts(at.success)
    at.slider(key="growth").set_value(10)
    rerun(at)
    at.text_input(key="what_if_name").set_value("Plan")
    rerun(at)
    at.button(key="save_what_if").click()
    rerun(at)
    messages += "\n" + texts(at.success)
    named = [line.split("as run ")[1].split(".")[0] for line in messages.splitlines()]
    assert sorted(named) == sorted(
        f"`{run_id[:8]}`" for run_id in predictions.stored_runs(demo_with_models)["run_id"]
    )


@pytest.mark.slow
def test_saving_the_same_forecast_again_says_which_run_it_replaces(
    demo_with_models: Engine,
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.button(key="save_forecast").click()
    rerun(at)
    (first,) = predictions.stored_runs(demo_with_models)["run_id"]
    assert "replaces" not in texts(at.success)
    at.button(key="save_forecast").click()
    rerun(at)
    assert f"It replaces 12 rows of run {first[:8]} for the same periods." in texts(at.success)


@pytest.mark.slow
def test_a_what_if_is_saved_as_its_own_labelled_run_beside_the_base(
    demo_with_models: Engine,
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    at.button(key="save_forecast").click()
    rerun(at)
    assert at.button(key="save_what_if").disabled  # no what-if yet
    at.slider(key="growth").set_value(10)
    rerun(at)
    at.text_input(key="what_if_name").set_value("Price rise 10%")
    rerun(at)
    at.button(key="save_what_if").click()
    rerun(at)
    assert "Saved the what-if 'Price rise 10%' (12 rows) as run" in shown(texts(at.success))
    runs = predictions.stored_runs(demo_with_models)
    assert sorted(runs["scenario"]) == ["", "Price rise 10%"]
    stored = predictions.stored_forecasts(demo_with_models)
    base = stored[stored["scenario"] == ""].set_index(["series", "period_start"])
    what_if = stored[stored["scenario"] == "Price rise 10%"].set_index(["series", "period_start"])
    ratio = what_if["predicted_sales"] / base["predicted_sales"]
    assert ratio.round(3).eq(1.1).all()


def test_a_what_if_needs_a_name(demo_with_models: Engine) -> None:
    """The button stays clickable while the name is typed (a browser sends the name as the
    click takes the focus away), and an empty name is refused in one line."""
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="growth").set_value(10)
    rerun(at)
    at.button(key="save_what_if").click()
    rerun(at)
    assert "Name the what-if" in texts(at.error)
    assert predictions.stored_runs(demo_with_models).empty


@pytest.mark.slow
def test_a_title_is_needed_to_rename(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 2)
    at.button(key="rename_model").click()
    rerun(at)
    assert "Type a title" in texts(at.error)


@pytest.mark.slow
def test_a_renamed_model_is_shown_by_its_new_name_at_once(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 2)
    rerun(at)  # the model is loaded and cached with its old record
    at.text_input(key="model_title").set_value("Board pack 2026")
    rerun(at)
    at.button(key="rename_model").click()
    rerun(at)
    assert at.text_input(key="model_title").placeholder == "Board pack 2026"


def test_a_model_is_renamed_and_listed_by_its_new_name(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 2)
    at.text_input(key="model_title").set_value("Board pack 2026")
    rerun(at)
    at.button(key="rename_model").click()
    rerun(at)
    assert at.selectbox(key="forecast_model").options[0].startswith("#2 Board pack 2026")
    assert at.selectbox(key="forecast_model").value == 2


@pytest.mark.slow
def test_a_title_another_model_has_is_refused_in_one_line(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 2)
    at.text_input(key="model_title").set_value("board pack")
    rerun(at)
    at.button(key="rename_model").click()
    rerun(at)
    at = pick_model(at, 1)
    at.text_input(key="model_title").set_value("Board Pack")
    rerun(at)
    at.button(key="rename_model").click()
    rerun(at)
    assert "already names model 2" in texts(at.error)


@pytest.mark.slow
def test_an_admin_deletes_a_model_and_the_page_shows_the_next(demo_with_models: Engine) -> None:
    at = pick_model(open_page(FORECAST), 2)
    assert at.button(key="delete_model").disabled  # until the deletion is confirmed
    at.checkbox(key="confirm_delete_model").check()
    rerun(at)
    at.button(key="delete_model").click()
    rerun(at)
    assert "Deleted model #2" in shown(texts(at.success))
    assert [o[:3] for o in at.selectbox(key="forecast_model").options] == ["#1 "]
    assert [m.id for m in registry.list_models(demo_with_models)] == [1]


def test_a_model_chosen_on_another_page_starts_at_its_own_horizon(demo_with_models: Engine) -> None:
    """Save and forecast on the Train page picks the new model for this page."""
    at = pick_model(open_page(FORECAST), 1)
    at.slider(key="horizon").set_value(9)
    rerun(at)
    at.session_state["forecast_model"] = 2
    rerun(at)
    assert at.slider(key="horizon").value == 2


def test_a_download_button_offers_the_forecast_as_csv(
    demo_with_models: Engine, deferred_downloads: dict[str, Callable[[], bytes]]
) -> None:
    at = pick_model(open_page(FORECAST), 1)
    assert at.download_button(key="download_forecast")
    offered = deferred_downloads["forecast-model-1-3M.csv"]()
    rows = list(csv.DictReader(io.StringIO(offered.decode("utf-8"))))
    assert list(rows[0]) == [
        "series",
        "target_period",
        "forecast_revenue_in_sales_currency",
        *predictions.BOUNDS,
        "model",
    ]
    # The base forecast of every category, for the three months the page shows.
    assert len(rows) == len(CATEGORIES) * 3
    assert {row["series"] for row in rows} == set(CATEGORIES)
    assert sorted({row["target_period"] for row in rows}) == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]
    for row in rows:
        low, value, high = (
            float(row[name])
            for name in ("lower_80", "forecast_revenue_in_sales_currency", "upper_80")
        )
        assert low <= value <= high, row


def test_a_tampered_model_file_shows_a_clear_error(
    demo_with_models: Engine, data_dir: Path
) -> None:
    path = data_dir / "models" / registry.get_model_record(demo_with_models, 2).file_name
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    at = open_page(FORECAST)
    assert "has changed since it was saved" in texts(at.error)
    assert "train a new model" in texts(at.error)
    assert not at.slider


def test_a_missing_model_file_shows_where_it_was_expected(
    demo_with_models: Engine, data_dir: Path
) -> None:
    (data_dir / "models" / registry.get_model_record(demo_with_models, 2).file_name).unlink()
    at = open_page(FORECAST)
    assert "is missing from" in texts(at.error)
    assert "Pick another model" in texts(at.info)


# --------------------------------------------------------------------------- predictions


def save_forecast(engine: Engine, data_dir: Path) -> str:
    """Store model #1's three-month forecast of every category, as the Forecast page does."""
    model, record = registry.load_model(engine, 1, model_dir=data_dir / "models")
    return predictions.store_forecast(engine, predictions.forecast_frame(model, 3), record)


def test_predictions_page_lists_the_saved_run(demo_with_models: Engine, data_dir: Path) -> None:
    run_id = save_forecast(demo_with_models, data_dir)
    at = open_page(PREDICTIONS)
    [run] = numbers(at).to_dict("records")
    assert (run["run_id"], run["periods"], run["series"]) == (run_id[:8], 3, 4)
    assert run["model"].startswith("#1 ")
    assert "No forecast period has complete actuals yet" in texts(at.info)
    assert at.selectbox(key="run").value == run_id


def test_predictions_page_scores_a_run_once_actuals_arrive(
    demo_with_models: Engine, data_dir: Path
) -> None:
    run_id = save_forecast(demo_with_models, data_dir)
    # January 2026 arrives in full for every category (its last day is in the data).
    lines = [
        f"2026-01-{day},Item {c},{c},1,{1000 * (i + 1)}"
        for i, c in enumerate(CATEGORIES)
        for day in ("05", "31")
    ]
    ingest_file(
        demo_with_models,
        ("Order Date,Product Name,Category,Quantity,Sales\n" + "\n".join(lines)).encode(),
        name="january.csv",
    )
    at = open_page(PREDICTIONS)
    scores = at.dataframe[1].value
    assert scores["run_id"].unique().tolist() == [run_id[:8]]
    assert scores["periods"].sum() == len(CATEGORIES)  # one complete month per series
    assert {"mae", "smape", "bias", "coverage_80", "coverage_95"} <= set(scores.columns)
    at.selectbox(key="run_series").set_value("Outdoor")
    rerun(at)
    assert not at.error


@pytest.mark.slow
def test_a_forecast_from_a_model_trained_on_earlier_sales_is_scored_once_saved(
    demo_with_models: Engine, data_dir: Path
) -> None:
    # "Sales up to" on the Train page: the model sees the sales until June 2025 only.
    request = training.TrainRequest(
        level="total", freq="M", horizon=3, models=("snaive",), windows=1, end=dt.date(2025, 6, 30)
    )
    result = training.train(demo_with_models, request)
    record = training.save(demo_with_models, result, request, model_dir=data_dir / "models")
    at = pick_model(open_page(FORECAST), record.id)
    at.slider(key="horizon").set_value(3)
    rerun(at).button(key="save_forecast").click()
    rerun(at).switch_page(PREDICTIONS)
    scores = rerun(at).dataframe[1].value
    # July to September 2025 are in the data already: every period is scored at once.
    assert scores["periods"].tolist() == [3]
    assert scores["model"].tolist() == [f"#{record.id} {registry.display_name(record)}"]
