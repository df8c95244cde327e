"""The Train & compare page, driven by AppTest on the demo data with small, fast settings."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import multiprocessing
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_info

from salesml import auth, db, registry, report, training
from salesml.db import create_engine_for, init_db
from salesml.demo import load_demo
from salesml.errors import SchemaError
from salesml.ingest import ingest_file
from salesml.ui import signin
from tests.app import driver
from tests.app.driver import click, texts
from tests.conftest import _empty_mysql as empty_mysql

PAGE = "pages/train.py"
# Four monthly category series; seasonal naive and ETS on one window train in a second or two.
SMALL = {
    "train_level": "category",
    "train_freq": "M",
    "train_target": "revenue",
    "train_horizon": 3,
    "train_models": ["snaive", "ets"],
    "train_windows": 1,
}


@pytest.fixture
def data_dir(app_dir: Path) -> Path:
    """The app's data directory: an empty database and model directory."""
    return app_dir


@pytest.fixture
def demo(data_dir: Path, demo_database: Path) -> Iterator[Engine]:
    """This test's own copy of the demo database."""
    shutil.copy(demo_database, data_dir / "app.db")
    engine = create_engine_for(f"sqlite:///{data_dir / 'app.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def train_calls(monkeypatch: pytest.MonkeyPatch) -> list[training.TrainRequest]:
    """Every training the page starts, in order (the training itself still runs)."""
    calls: list[training.TrainRequest] = []
    train = training.train

    def counting_train(engine, request, **options):
        calls.append(request)
        return train(engine, request, **options)

    monkeypatch.setattr(training, "train", counting_train)
    return calls


def open_page() -> AppTest:
    """Run the app and switch to the Train & compare page."""
    return driver.open_page(PAGE)


def trained(settings: dict[str, Any] = SMALL) -> AppTest:
    """The page after a small training."""
    at = open_page()
    for key, value in settings.items():
        at.session_state[key] = value
    return click(at.run(), "train")


def leaderboard(at: AppTest):
    return at.dataframe[0].value


def charts(at: AppTest) -> list[bytes]:
    """Each Altair chart's data (Arrow bytes of its datasets), to compare and search."""
    return [
        b"".join(dataset.data.data for dataset in chart.proto.datasets)
        for chart in at.get("vega_lite_chart")
    ]


# --------------------------------------------------------------------------- before training


@pytest.mark.slow
def test_the_form_offers_the_horizons_and_windows_a_training_request_takes(demo: Engine) -> None:
    at = open_page()
    horizon = at.number_input(key="train_horizon")
    assert (horizon.min, horizon.max) == (training.HORIZON_MIN, training.HORIZON_MAX)
    windows = at.slider(key="train_windows")
    assert (windows.min, windows.max) == (training.WINDOWS_MIN, training.WINDOWS_MAX)


def test_empty_database_says_how_to_load_data_and_offers_no_training() -> None:
    at = open_page()
    assert "database is empty" in texts(at.info)
    assert not any(button.key == "train" for button in at.button)


def test_with_data_the_form_starts_at_monthly_revenue_per_product_six_periods_auto(
    demo: Engine,
) -> None:
    at = open_page()
    assert at.selectbox(key="train_level").value == "product"  # 19 products
    assert at.selectbox(key="train_freq").value == "M"
    assert at.selectbox(key="train_target").value == "revenue"
    assert at.number_input(key="train_horizon").value == 6
    assert at.multiselect(key="train_models").value == ["auto"]
    assert at.slider(key="train_windows").value == 3
    assert at.multiselect(key="train_categories").options == [
        "Electronics",
        "Home & Kitchen",
        "Office Supplies",
        "Outdoor",
    ]
    assert "press **Train**" in texts(at.info)


def test_train_is_disabled_without_a_model(demo: Engine) -> None:
    at = open_page()
    at.multiselect(key="train_models").set_value([]).run()
    assert at.button(key="train").disabled


# --------------------------------------------------------------------------- training


@pytest.mark.slow
def test_training_shows_the_leaderboard_with_the_chosen_model(demo: Engine, train_calls) -> None:
    at = trained()
    assert train_calls == [
        training.TrainRequest(
            level="category",
            freq="M",
            target="revenue",
            horizon=3,
            models=("snaive", "ets"),
            windows=1,
        )
    ]
    board = leaderboard(at)
    assert set(board["Model"]) == {"ETS", "Seasonal naive"}
    assert list(board["Role"]).count("chosen") == 1
    assert list(board.columns[:5]) == ["#", "Model", "Role", "MASE", "sMAPE"]
    assert board["Role"].iat[0] == "chosen"
    assert "has the lowest MASE" in texts(at.success)
    assert at.status[0].label.startswith("Trained in")
    assert len(charts(at)) == 1


def money_headers(at: AppTest) -> dict[str, str]:
    """The leaderboard's money columns by the header each is shown under."""
    config = json.loads(at.dataframe[0].proto.columns)
    return {name: config.get(name, {}).get("label") or name for name in ("MAE", "RMSE", "Bias")}


@pytest.mark.slow
def test_the_leaderboard_names_the_currency_of_its_money_columns(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # the demo's batches state none
    assert money_headers(trained()) == {
        "MAE": "MAE (EUR)",
        "RMSE": "RMSE (EUR)",
        "Bias": "Bias (EUR)",
    }


@pytest.mark.slow
def test_a_leaderboard_of_quantities_names_no_currency(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")
    at = trained({**SMALL, "train_target": "quantity"})
    assert money_headers(at) == {"MAE": "MAE", "RMSE": "RMSE", "Bias": "Bias"}


@pytest.mark.slow
def test_sales_up_to_an_earlier_day_trains_on_the_sales_until_then(
    demo: Engine, train_calls
) -> None:
    at = open_page()
    sales_up_to = at.date_input(key="train_end_20251231")
    assert sales_up_to.value == dt.date(2025, 12, 31)  # the last sale: everything
    at = trained({**SMALL, "train_end_20251231": dt.date(2025, 6, 30)})
    assert train_calls[-1].end == dt.date(2025, 6, 30)
    assert "Data: 2022-01-01 to 2025-06-01" in texts(at.caption) + texts(at.markdown)


@pytest.mark.slow
def test_sales_loaded_later_are_trained_on_although_an_earlier_day_was_picked(
    demo: Engine, train_calls
) -> None:
    at = trained({**SMALL, "train_end_20251231": dt.date(2025, 6, 30)})
    ingest_file(
        demo,
        b"Order Date,Product Name,Category,Quantity,Sales\n2026-03-31,Kettle,Outdoor,1,10.00\n",
        name="march.csv",
    )
    st.cache_data.clear()  # as loading on the Data page does
    at.run()
    assert at.date_input(key="train_end_20260331").value == dt.date(2026, 3, 31)
    click(at, "train")
    assert train_calls[-1].end is None


@pytest.mark.slow
def test_changing_the_chart_series_redraws_without_training_again(
    demo: Engine, train_calls
) -> None:
    at = trained()
    assert at.selectbox(key="train_chart_series").value == "Electronics"
    assert at.multiselect(key="train_chart_models").value == ["ets", "snaive"]
    (electronics,) = charts(at)
    at.selectbox(key="train_chart_series").set_value("Outdoor").run()
    (outdoor,) = charts(at)
    at.multiselect(key="train_chart_models").set_value(["snaive"]).run()
    assert not at.exception, at.exception
    assert len(train_calls) == 1
    assert outdoor != electronics
    assert b"ETS" in outdoor and b"ETS" not in charts(at)[0]
    assert not leaderboard(at).empty


@pytest.mark.slow
def test_changing_a_setting_after_training_marks_the_comparison_stale(demo: Engine) -> None:
    at = trained()
    at.number_input(key="train_horizon").set_value(6).run()
    assert "settings above changed" in texts(at.info)
    assert not leaderboard(at).empty


@pytest.mark.slow
def test_a_chosen_random_forest_shows_its_feature_importances(demo: Engine) -> None:
    at = trained({**SMALL, "train_models": ["rf"]})
    assert "What the random forest relies on" in texts(at.subheader)
    assert len(charts(at)) == 2  # the backtest, then the importances
    assert b"lag1" in charts(at)[1]


@pytest.mark.slow
def test_every_training_in_the_app_fits_with_one_openmp_thread(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two trainings, each in the thread of its own script run, as on a server.
    threads: list[list[int]] = []
    train = training.train

    def observed_train(engine, request, **options):
        threads.append([p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"])
        return train(engine, request, **options)

    monkeypatch.setattr(training, "train", observed_train)
    click(trained(), "train")
    assert threads == [[1], [1]]


def test_forked_workers_end_on_sigterm_although_the_server_handles_it() -> None:
    """statsforecast ends its forked workers with SIGTERM; the server's handler only logs it."""
    importlib.import_module("salesml.ui")  # the app's glue registers the fork hooks
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
        worker.start()
        worker.terminate()  # at once: the signal may arrive before the child is set up
        worker.join(timeout=10)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if worker.is_alive():
            worker.kill()
            worker.join()
    assert worker.exitcode == -signal.SIGTERM


def test_a_training_failure_is_shown_and_nothing_is_kept(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(engine, request, **options):
        raise SchemaError("there are no sales to train on")

    monkeypatch.setattr(training, "train", refuse)
    at = trained()
    assert "there are no sales to train on" in texts(at.error)
    assert at.status[0].label == "Training failed"
    assert not at.dataframe


# --------------------------------------------------------------------------- after training


@pytest.mark.slow
def test_saving_the_model_adds_a_models_row_and_links_to_the_forecast(
    demo: Engine, data_dir: Path
) -> None:
    at = trained()
    chosen = leaderboard(at).set_index("Role").at["chosen", "Model"]
    at = click(at, "save_model")
    (record,) = registry.list_models(demo)
    assert record.level == "category" and record.horizon == 3
    assert (data_dir / "models" / record.file_name).exists()
    assert f"Saved as model {record.id} ({chosen})." in texts(at.success)
    assert not any(button.key == "save_model" for button in at.button)
    assert at.button(key="save_and_forecast").label == "Forecast with it"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def demo_anywhere(
    request: pytest.FixtureRequest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """The demo data in SQLite, then in MySQL, as the app's database."""
    if request.param == "sqlite":
        yield request.getfixturevalue("demo")
        return
    url = request.getfixturevalue("mysql_server_url")
    engine = empty_mysql(url)
    init_db(engine)
    load_demo(engine)
    monkeypatch.setenv("SALESML_DATABASE_URL", url)
    yield engine
    engine.dispose()


@pytest.mark.slow
def test_save_and_forecast_saves_the_model_and_opens_it_on_the_forecast_page(
    demo_anywhere: Engine,
) -> None:
    at = trained()
    assert at.button(key="save_and_forecast").proto.type == "primary"
    at = click(at, "save_and_forecast")
    (record,) = registry.list_models(demo_anywhere)
    assert at.selectbox(key="forecast_model").value == record.id
    assert not any(button.key == "train" for button in at.button)  # the Forecast page


@pytest.mark.slow
def test_save_and_forecast_opens_the_model_it_saved_among_older_ones(
    demo: Engine, data_dir: Path
) -> None:
    click(trained({**SMALL, "train_models": ["snaive"]}), "save_model")
    at = click(trained(), "save_and_forecast")
    older, newer = sorted(registry.list_models(demo), key=lambda record: record.id)
    assert at.selectbox(key="forecast_model").value == newer.id != older.id


@pytest.mark.slow
def test_a_viewer_reaches_neither_the_page_nor_its_save_and_forecast(demo: Engine) -> None:
    auth.add_user(demo, "viewer-user", role="viewer", password="correct horse battery")
    at = AppTest.from_file(driver.APP, default_timeout=60)
    at.secrets = {"SALESML_TEST": "isolated"}
    found = auth.sign_in(demo, "viewer-user", "correct horse battery", client="test")
    at.session_state["_signed_in"] = signin._Kept(found, time.time())
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    at.switch_page("pages/forecast.py").run()
    assert not any(b.key in ("save_and_forecast", "save_model") for b in at.button)


@pytest.mark.slow
def test_the_comparison_report_can_be_downloaded(demo: Engine) -> None:
    at = trained()
    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith("download_report")]
    assert "comparison" in button.proto.label


def top_models(at: AppTest):
    """The presenter view's short leaderboard."""
    return at.table[0].value


def present(at: AppTest) -> AppTest:
    at.toggle(key="presenter").set_value(True).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_presenter_view_shows_the_comparison_without_controls(demo: Engine) -> None:
    at = present(trained())
    assert "model comparison" in at.subheader[0].value
    # One backtest window measures no coverage: the column is left out.
    assert list(top_models(at).columns) == ["#", "Model", "Role", "MASE", "sMAPE"]
    assert [m.label for m in at.metric][:2] == ["Chosen model", "MASE (backtest)"]
    assert len(charts(at)) == 1
    assert [box.key for box in at.selectbox] == ["presenter_series"]
    assert not at.multiselect and not at.number_input and not at.button
    assert not at.get("download_button")


@pytest.mark.slow
def test_presenter_view_draws_the_chart_before_the_figures_and_tables(demo: Engine) -> None:
    at = present(trained())
    kinds = [node.type for node in at.main if node.type not in ("toggle", "selectbox")]
    drawn = [kind for kind in kinds if kind in ("vega_lite_chart", "metric", "table", "expander")]
    assert drawn[0] == "vega_lite_chart"


@pytest.mark.slow
def test_presenter_view_shows_five_models_by_short_names_and_the_rest_one_click_away(
    demo: Engine,
) -> None:
    at = present(trained({**SMALL, "train_models": ["snaive", "ets", "theta", "lr"]}))
    top = top_models(at)
    (everything,) = at.expander
    full = everything.dataframe[0].value
    assert len(full) > 5 and everything.label == f"All {len(full)} models"
    assert top["Role"].iat[0] == "chosen"
    others = [rank for rank in top["#"] if rank != top["#"].iat[0]][:4]
    assert others == sorted(others) and len(others) == 4
    assert set(top["#"][5:]) <= set(top["#"][top["Role"] != ""])  # the baseline below
    assert top["Model"].is_unique and not any("…" in name for name in top["Model"])
    assert "Linear regression + Seasonal naive + ETS + Theta" in " ".join(
        list(full["Model"]) + [caption.value for caption in at.caption]
    )


@pytest.mark.slow
def test_the_presenter_series_switcher_changes_the_chart(demo: Engine, train_calls) -> None:
    at = present(trained())
    assert at.selectbox(key="presenter_series").options == [
        "Electronics",
        "Home & Kitchen",
        "Office Supplies",
        "Outdoor",
    ]
    (electronics,) = charts(at)
    at.selectbox(key="presenter_series").set_value("Outdoor").run()
    assert not at.exception, at.exception
    (outdoor,) = charts(at)
    assert outdoor != electronics and b"Outdoor" not in electronics
    assert "Backtest: Outdoor" in texts(at.markdown)
    assert len(train_calls) == 1


@pytest.mark.slow
def test_the_presenter_view_is_in_the_page_address(demo: Engine) -> None:
    at = present(trained())
    assert at.query_params["view"] == "present"
    at.toggle(key="presenter").set_value(False).run()
    assert "view" not in at.query_params
    assert at.button(key="train")


def test_a_page_address_with_view_present_opens_the_presenter_view(demo: Engine) -> None:
    at = AppTest.from_file(driver.APP, default_timeout=60)
    at.secrets = {"SALESML_TEST": "isolated"}
    at.run().switch_page(PAGE)
    at.query_params["view"] = "present"
    at.run()
    assert at.toggle(key="presenter").value
    assert "Nothing to present yet" in texts(at.info)


@pytest.mark.slow
def test_theta_and_the_ets_theta_mean_are_compared_on_the_page_and_in_presenter_view(
    demo: Engine,
) -> None:
    at = trained({**SMALL, "train_models": ["snaive", "ets", "theta"]})
    assert {"Theta", "Mean of ETS + Theta"} <= set(leaderboard(at)["Model"])
    at.toggle(key="presenter").set_value(True).run()
    assert {"Theta", "Mean of ETS + Theta"} <= set(top_models(at)["Model"])


@pytest.mark.slow
def test_presenter_tile_names_the_chosen_model_in_full_in_its_help(demo: Engine) -> None:
    at = trained()
    chosen = leaderboard(at).set_index("Role").at["chosen", "Model"]
    at.toggle(key="presenter").set_value(True).run()
    tile = driver.metric_tile(at, "Chosen model")
    assert (driver.shown(tile.value), driver.shown(tile.proto.help)) == (chosen, chosen)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("ets", "ETS"),
        ("theta", "Theta"),
        ("gb", "Gradient boosting"),
        ("mean(ets+theta)", "Mean of ETS + Theta"),
        ("mean(lr+ets)", "Mean of Linear regression + ETS"),
        ("median(lr+rf+gb+snaive+ets)", "Median of 5 models"),
    ],
)
def test_presenter_names_a_combination_by_its_members_or_its_kind_and_size(
    name: str, shown: str
) -> None:
    assert report.short_model_label(name) == shown


@pytest.mark.slow
def test_settings_survive_a_trip_through_the_presenter_view(demo: Engine) -> None:
    at = trained()
    at.selectbox(key="train_chart_series").set_value("Outdoor").run()
    at.toggle(key="presenter").set_value(True).run()
    assert "Backtest: Outdoor" in texts(at.markdown)
    at.toggle(key="presenter").set_value(False).run()
    assert at.number_input(key="train_horizon").value == 3
    assert at.multiselect(key="train_models").value == ["snaive", "ets"]
    assert at.selectbox(key="train_chart_series").value == "Outdoor"
    assert "settings above changed" not in texts(at.info)


def test_presenter_view_before_any_training_says_what_to_do(demo: Engine) -> None:
    at = open_page()
    at.toggle(key="presenter").set_value(True).run()
    assert "Nothing to present yet" in texts(at.info)


# --------------------------------------------------------------------------- kept runs


def reopened(query: dict[str, str]) -> AppTest:
    """The page opened afresh (another tab, after a restart) at an address with these params."""
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(driver.APP, default_timeout=60)
    at.secrets = {"SALESML_TEST": "isolated"}
    at.run().switch_page(PAGE)
    for name, value in query.items():
        at.query_params[name] = value
    return driver.rerun(at)


@pytest.mark.slow
def test_a_training_is_kept_as_a_run_named_in_the_page_address(demo: Engine) -> None:
    at = trained()
    first = at.query_params["run"]
    assert first.isdigit()
    assert f"(run {first})" in texts(at.caption)
    click(at, "train")
    assert int(at.query_params["run"]) == int(first) + 1


@pytest.mark.slow
def test_a_presenter_link_reopens_the_same_comparison_in_a_new_session(demo: Engine) -> None:
    at = present(trained({**SMALL, "train_models": ["snaive", "ets", "theta"]}))
    link = {"view": "present", "run": at.query_params["run"]}
    shown = (at.subheader[0].value, texts(at.markdown), top_models(at))
    again = reopened(link)
    assert "Nothing to present yet" not in texts(again.info)
    assert again.subheader[0].value == shown[0]
    assert texts(again.markdown) == shown[1]
    pd.testing.assert_frame_equal(top_models(again), shown[2])
    assert len(charts(again)) == 1


@pytest.mark.slow
def test_a_reopened_run_shows_its_comparison_but_saves_only_after_training_again(
    demo: Engine,
) -> None:
    at = trained()
    again = reopened({"run": at.query_params["run"]})
    pd.testing.assert_frame_equal(leaderboard(again), leaderboard(at))
    assert not any(b.key in ("save_model", "save_and_forecast") for b in again.button)
    assert "press **Train** to fit them again" in texts(again.caption)
    # The form holds the run's settings: Train fits the same comparison again.
    assert "settings above changed" not in texts(again.info)
    assert again.number_input(key="train_horizon").value == 3
    assert again.multiselect(key="train_models").value == ["snaive", "ets"]


@pytest.mark.slow
def test_a_reopened_run_whose_model_was_saved_forecasts_with_it(demo: Engine) -> None:
    at = click(trained(), "save_model")
    (record,) = registry.list_models(demo)
    again = reopened({"run": at.query_params["run"]})
    assert f"Saved as model {record.id}" in texts(again.success)
    assert again.button(key="save_and_forecast").label == "Forecast with it"


@pytest.mark.parametrize("run", ["999", "<script>alert(1)</script>", "1; DROP TABLE models"])
def test_an_address_naming_no_run_says_so_in_one_line(demo: Engine, run: str) -> None:
    at = reopened({"run": run, "view": "present"})
    (error,) = at.error
    assert "training run" in driver.shown(error.value)
    assert "<script>" not in error.value and not at.exception
    assert "run" not in at.query_params
    assert "Nothing to present yet" in texts(at.info)


@pytest.mark.slow
def test_the_chosen_model_is_the_first_row_of_the_leaderboard(demo: Engine) -> None:
    at = trained({**SMALL, "train_models": ["snaive", "ets", "theta", "lr"]})
    assert leaderboard(at)["Role"].iat[0] == "chosen"
    assert top_models(present(at))["Role"].iat[0] == "chosen"


@pytest.mark.slow
def test_the_demo_trains_with_the_defaults_without_a_warning_and_with_coverage(
    demo: Engine,
) -> None:
    at = click(open_page(), "train")
    assert not at.warning, texts(at.warning)
    board = leaderboard(at)
    assert board["80% coverage"].notna().all() and board["95% coverage"].notna().all()
    assert board["Role"].iat[0] == "chosen"
    assert "Backtest: 3 windows of 6 months" in texts(at.caption)


@pytest.mark.parametrize(
    ("products", "categories", "level"),
    [(19, 4, "product"), (50, 4, "product"), (51, 4, "category"), (5000, 1, "total")],
)
def test_the_form_starts_at_the_finest_level_that_trains_quickly(
    products: int, categories: int, level: str
) -> None:
    assert training.default_level(products, categories) == level


def test_an_address_naming_a_run_that_cannot_be_read_says_so_and_leaves_the_address(
    demo: Engine,
) -> None:
    with demo.begin() as conn:
        run_id = conn.execute(
            sa.insert(db.TrainingRun).values(
                created_at=dt.datetime(2024, 5, 1),
                created_by="",
                request_json='{"level": "product", "kept_by_a_newer_version": 1}',
                comparison_json='{"chosen": "ets", "kept_by_a_newer_version": 1}',
            )
        ).inserted_primary_key[0]
    at = reopened({"run": str(run_id)})
    (error,) = at.error
    assert f"training run {run_id} cannot be read" in driver.shown(error.value)
    assert not at.exception
    assert "run" not in at.query_params
