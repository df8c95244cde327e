"""Train, save, reload and forecast, in the library and the command line, on SQLite and MySQL."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from salesml import predictions, registry, training
from salesml.cli import main
from salesml.db import create_engine_for
from salesml.demo import load_demo
from salesml.errors import SchemaError

# The demo's four years leave one 12-month backtest window: four errors per forecast step.
ONE_WINDOW = training.TrainRequest(level="category", freq="M", horizon=12, windows=1)


@pytest.fixture
def demo_db(database_url, tmp_path, monkeypatch):
    """A database with the demo data and a model directory of its own."""
    monkeypatch.setenv("SALESML_MODEL_DIR", str(tmp_path / "models"))
    engine = create_engine_for(database_url)
    from salesml.db import init_db

    init_db(engine)
    load_demo(engine)
    engine.dispose()
    return database_url


def run(database_url, capsys, *args: str) -> tuple[int, str, str]:
    status = main(["--database-url", database_url, *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.slow
def test_train_prints_a_leaderboard_and_ends_with_the_model_id(demo_db, capsys):
    status, out, err = run(
        demo_db,
        capsys,
        "train",
        "--level",
        "category",
        "--freq",
        "M",
        "--target",
        "revenue",
        "--horizon",
        "3",
        "--models",
        "snaive,ets,theta,lr",
        "--windows",
        "2",
    )
    assert status == 0, err
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["model_id"] == 1
    assert summary["series"] == 4
    board = "\n".join(lines[:-1])
    for model in ("snaive", "ets", "theta", "mean(ets+theta)", "lr", "mase"):
        assert model in board


@pytest.mark.slow
def test_forecast_writes_a_csv_naming_target_unit_and_model_and_stores_it(
    demo_db, capsys, tmp_path
):
    run(
        demo_db,
        capsys,
        "train",
        "--level",
        "category",
        "--freq",
        "M",
        "--horizon",
        "3",
        "--models",
        "snaive,ets",
        "--windows",
        "2",
    )
    output = tmp_path / "forecast.csv"
    status, _out, err = run(demo_db, capsys, "forecast", "--horizon", "6", "--output", str(output))
    assert status == 0, err
    table = pd.read_csv(output)
    assert list(table.columns) == [
        "series",
        "target_period",
        "forecast_revenue_in_sales_currency",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
        "model",
    ]
    assert len(table) == 4 * 6
    assert table["target_period"].min() == "2026-01-01"
    assert set(table["model"]) <= {"ETS", "Seasonal naive", "Mean of Seasonal naive + ETS"}
    value = table["forecast_revenue_in_sales_currency"]
    assert (value >= 0).all()
    assert (table["lower_95"] <= table["lower_80"]).all()
    assert (table["lower_80"] <= value).all()
    assert (value <= table["upper_80"]).all()
    assert (table["upper_80"] <= table["upper_95"]).all()
    # The same forecast again replaces the stored rows instead of adding to them.
    run(demo_db, capsys, "forecast", "--horizon", "6", "--output", str(output))
    from salesml.predictions import stored_forecasts

    assert len(stored_forecasts(create_engine_for(demo_db))) == 24


@pytest.mark.slow
def test_models_lists_saved_models_and_accuracy_reports_none_before_actuals(
    demo_db, capsys, tmp_path
):
    run(demo_db, capsys, "train", "--horizon", "2", "--models", "snaive", "--windows", "1")
    status, out, _ = run(demo_db, capsys, "models", "--json")
    [model] = [json.loads(line) for line in out.splitlines()]
    assert (status, model["level"], model["freq"], model["horizon"]) == (0, "total", "M", 2)
    run(demo_db, capsys, "forecast", "--horizon", "2", "--output", str(tmp_path / "f.csv"))
    status, out, _ = run(demo_db, capsys, "accuracy")
    assert (status, out.strip()) == (0, "no stored forecast has actuals yet")


@pytest.mark.slow
def test_forecasting_from_a_missing_model_is_a_one_line_error(demo_db, capsys, tmp_path):
    status, _, err = run(
        demo_db, capsys, "forecast", "--horizon", "2", "--output", str(tmp_path / "f.csv")
    )
    assert status == 1
    assert "no saved model yet" in err


@pytest.fixture
def demo_engine(engine):
    """An engine on a database holding the demo data, once per backend."""
    load_demo(engine)
    return engine


@pytest.mark.slow
def test_with_one_backtest_window_stored_95_percent_ranges_are_wider_than_80_percent_ones(
    demo_engine, tmp_path
):
    result = training.train(demo_engine, ONE_WINDOW)
    record = training.save(demo_engine, result, ONE_WINDOW, model_dir=tmp_path)
    table = predictions.forecast_frame(result.forecaster, ONE_WINDOW.horizon)
    predictions.store_forecast(demo_engine, table, record)
    stored = predictions.stored_forecasts(demo_engine)
    assert len(stored) == 4 * 12
    assert (stored["predicted_sales"] > 0).all()
    assert (stored["upper_95"] > stored["upper_80"]).all()
    assert (stored["lower_95"] <= stored["lower_80"]).all()


@pytest.mark.slow
def test_training_notes_say_which_ranges_a_thin_backtest_could_not_calibrate(sqlite_engine):
    load_demo(sqlite_engine)
    request = training.TrainRequest(
        level="category", freq="M", horizon=12, models=("lr",), windows=1
    )
    notes = training.train(sqlite_engine, request).notes
    assert (
        "95% ranges: only 4 backtest errors per forecast step, 19 are needed to calibrate "
        "them; widened by a t-distribution fit to those errors."
    ) in notes
    assert not any(note.startswith("80% ranges") for note in notes)


@pytest.mark.slow
def test_a_saved_model_lists_the_features_its_forecast_uses(demo_engine, tmp_path):
    request = training.TrainRequest(
        level="category", freq="M", horizon=3, models=("lr",), windows=1
    )
    record = training.save(
        demo_engine, training.train(demo_engine, request), request, model_dir=tmp_path
    )
    stored = registry.get_model_record(demo_engine, record.id)
    features = json.loads(stored.metadata_json)["features"]
    assert {"lag1", "lag12", "rolling_mean_lag1_window_size3", "month", "category"} <= set(features)
    sidecar = json.loads((tmp_path / record.file_name).with_suffix(".json").read_text())
    assert sidecar["features"] == features


def test_the_training_command_line_carries_every_choice_even_names_like_options():
    import datetime as dt

    from salesml.cli import build_parser
    from salesml.training import TrainRequest, command

    request = TrainRequest(
        level="product",
        freq="W",
        target="quantity",
        horizon=8,
        models=("lr", "ets"),
        windows=2,
        random_state=5,
        start=dt.date(2023, 1, 1),
        end=dt.date(2024, 6, 30),
        categories=("-Sale-", "Home"),
        products=("--help", "Lamp"),
    )
    args = build_parser().parse_args(command(request)[3:])
    assert (args.level, args.freq, args.target, args.horizon) == ("product", "W", "quantity", 8)
    assert (args.models, args.windows, args.seed) == ("lr,ets", 2, 5)
    assert (args.start, args.end) == (request.start, request.end)
    assert (args.category, args.product) == (["-Sale-", "Home"], ["--help", "Lamp"])


def test_training_notes_name_the_models_they_mention_readably():
    kept_over = SimpleNamespace(
        choice_rival_="mean(lr+gb)",
        choice_note_="mean(lr+gb) scored best on the backtest, but not by more than the "
        "backtest's noise; the mean of ETS and Theta is used instead.",
    )
    result = training.TrainResult(kept_over, SimpleNamespace(notes=[]), seconds=1.0)
    assert result.notes == [
        "Mean of Linear regression + Gradient boosting scored best on the backtest, but not "
        "by more than the backtest's noise; the mean of ETS and Theta is used instead."
    ]


@pytest.mark.slow
def test_a_revenue_forecast_file_says_its_currency(demo_db, capsys, tmp_path, monkeypatch):
    run(demo_db, capsys, "train", "--horizon", "2", "--models", "snaive", "--windows", "1")
    monkeypatch.setenv("SALESML_CURRENCY", "EUR")  # the demo's batches state none
    output = tmp_path / "f.csv"
    status, _out, err = run(demo_db, capsys, "forecast", "--horizon", "2", "--output", str(output))
    assert status == 0, err
    table = pd.read_csv(output)
    assert list(table.columns)[-1] == "currency"
    assert set(table["currency"]) == {"EUR"}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("horizon", 0),
        ("horizon", training.HORIZON_MAX + 1),
        ("windows", 0),
        ("windows", training.WINDOWS_MAX + 1),
        ("random_state", -1),
        ("random_state", training.RANDOM_STATE_MAX + 1),
    ],
)
def test_a_training_request_beyond_its_limits_is_refused_naming_the_setting(setting, value):
    with pytest.raises(SchemaError, match=f"not {value:,}") as refused:
        training.TrainRequest(**{setting: value})
    assert refused.value.setting == setting


def test_a_training_request_takes_the_limits_themselves():
    request = training.TrainRequest(
        horizon=training.HORIZON_MAX,
        windows=training.WINDOWS_MAX,
        random_state=training.RANDOM_STATE_MAX,
    )
    assert (request.horizon, request.windows) == (training.HORIZON_MAX, training.WINDOWS_MAX)


def test_a_training_request_refuses_a_start_after_its_end():
    import datetime as dt

    with pytest.raises(SchemaError, match="2024-02-01, is after the last, 2024-01-01"):
        training.TrainRequest(start=dt.date(2024, 2, 1), end=dt.date(2024, 1, 1))
