"""Stored forecasts: kept once per model, series and period, and checked against actuals."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesml import predictions, registry
from salesml.errors import SchemaError
from salesml.ingest import ingest_file

SPEC = registry.ModelSpec(
    name="snaive",
    level="category",
    freq="M",
    target="revenue",
    horizon=2,
    series_count=1,
    data_start=dt.date(2024, 1, 1),
    data_end=dt.date(2024, 2, 1),
)


def forecast(values=(100.0, 200.0)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": "Office",
            "ds": pd.to_datetime(["2024-03-01", "2024-04-01"]),
            "model": "snaive",
            "yhat": values,
            "lower_80": [v * 0.9 for v in values],
            "upper_80": [v * 1.1 for v in values],
            "lower_95": [v * 0.5 for v in values],
            "upper_95": [v * 1.5 for v in values],
        }
    )


@pytest.fixture
def model(engine, tmp_path):
    return registry.save_model(engine, {"m": 1}, SPEC, model_dir=tmp_path)


def test_a_forecast_is_stored_with_series_bounds_model_and_run(engine, model):
    run = predictions.store_forecast(engine, predictions.forecast_table(forecast()), model)
    stored = predictions.stored_forecasts(engine)
    assert stored["run_id"].unique().tolist() == [run]
    assert stored[["series", "predicted_sales", "lower_95", "upper_95"]].values.tolist() == [
        ["Office", 100.0, 50.0, 150.0],
        ["Office", 200.0, 100.0, 300.0],
    ]
    assert set(stored["model_id"]) == {model.id}


def test_re_running_the_same_forecast_does_not_duplicate_rows(engine, model):
    table = predictions.forecast_table(forecast())
    predictions.store_forecast(engine, table, model)
    predictions.store_forecast(engine, predictions.forecast_table(forecast((110.0, 210.0))), model)
    stored = predictions.stored_forecasts(engine)
    assert stored["predicted_sales"].tolist() == [110.0, 210.0]


def test_accuracy_compares_forecasts_with_actuals_that_arrive_later(engine, model):
    predictions.store_forecast(engine, predictions.forecast_table(forecast()), model)
    assert predictions.accuracy(engine).empty
    lines = [
        "2024-03-05,Pen,Office,1,120",
        "2024-03-30,Pen,Office,1,0",
        "2024-04-10,Pen,Office,1,50",
    ]
    ingest_file(
        engine,
        ("Order Date,Product Name,Category,Quantity,Sales\n" + "\n".join(lines)).encode(),
        name="march.csv",
    )
    [row] = predictions.accuracy(engine).to_dict("records")
    # March is complete (120 actual vs 100 forecast); April is only partly covered so far.
    assert (row["periods"], row["mae"], row["bias"]) == (1, 20.0, -20.0)
    assert (row["coverage_80"], row["coverage_95"]) == (0.0, 1.0)


def test_stored_runs_lists_each_run_with_its_periods_and_series(engine, model):
    first = predictions.store_forecast(engine, predictions.forecast_table(forecast()), model)
    later = forecast().assign(ds=pd.to_datetime(["2024-05-01", "2024-06-01"]))
    second = predictions.store_forecast(engine, predictions.forecast_table(later), model)
    runs = predictions.stored_runs(engine)
    assert runs["run_id"].tolist() == [second, first]
    assert runs[["periods", "series"]].values.tolist() == [[2, 1], [2, 1]]
    assert str(runs.iloc[1]["first_period"]) == "2024-03-01"


# --------------------------------------------------------------------------- what-if runs


def store(engine, model, values=(100.0, 200.0), **options) -> str:
    return predictions.store_forecast(
        engine, predictions.forecast_table(forecast(values)), model, **options
    )


def stored_values(engine) -> dict[str, list[float]]:
    stored = predictions.stored_forecasts(engine)
    return {
        scenario: group["predicted_sales"].tolist()
        for scenario, group in stored.groupby("scenario", sort=True)
    }


def test_a_what_if_is_stored_beside_the_base_forecast_not_over_it(engine, model):
    store(engine, model)
    store(engine, model, (150.0, 250.0), scenario="Promo in March")
    assert stored_values(engine) == {"": [100.0, 200.0], "Promo in March": [150.0, 250.0]}


def test_saving_the_same_what_if_again_replaces_that_what_if_only(engine, model):
    store(engine, model)
    store(engine, model, (150.0, 250.0), scenario="Promo")
    store(engine, model, (160.0, 260.0), scenario="Growth")
    store(engine, model, (170.0, 270.0), scenario="Promo")
    assert stored_values(engine) == {
        "": [100.0, 200.0],
        "Growth": [160.0, 260.0],
        "Promo": [170.0, 270.0],
    }


@pytest.mark.slow
def test_saving_the_base_forecast_again_leaves_the_what_ifs_alone(engine, model):
    store(engine, model, (150.0, 250.0), scenario="Promo")
    store(engine, model)
    store(engine, model, (110.0, 210.0))
    assert stored_values(engine) == {"": [110.0, 210.0], "Promo": [150.0, 250.0]}


def test_a_scenario_name_is_stripped(engine, model):
    store(engine, model, scenario="  Promo  ")
    store(engine, model, (150.0, 250.0), scenario="Promo")
    assert stored_values(engine) == {"Promo": [150.0, 250.0]}


def test_a_scenario_name_over_100_characters_is_refused(engine, model):
    with pytest.raises(SchemaError, match="101 characters; at most 100"):
        store(engine, model, scenario="x" * 101)
    assert predictions.stored_forecasts(engine).empty


def test_stored_runs_name_the_scenario_of_each_run(engine, model):
    base = store(engine, model)
    what_if = store(engine, model, (150.0, 250.0), scenario="Promo")
    runs = predictions.stored_runs(engine)
    assert runs[["run_id", "scenario"]].values.tolist() == [[what_if, "Promo"], [base, ""]]
    assert runs[["periods", "series"]].values.tolist() == [[2, 1], [2, 1]]


def test_a_what_if_run_is_scored_against_actuals_on_its_own(engine, model):
    base = store(engine, model)
    what_if = store(engine, model, (120.0, 200.0), scenario="Promo")
    ingest_file(
        engine,
        b"Order Date,Product Name,Category,Quantity,Sales\n2024-03-05,Pen,Office,1,120\n"
        b"2024-04-10,Pen,Office,1,50\n",
        name="march.csv",
    )
    scores = predictions.accuracy(engine).set_index("run_id")
    assert scores.loc[base, ["scenario", "periods", "mae"]].tolist() == ["", 1, 20.0]
    assert scores.loc[what_if, ["scenario", "periods", "mae"]].tolist() == ["Promo", 1, 0.0]
    joined = predictions.forecasts_with_actuals(engine, run_id=what_if)
    assert joined[["scenario", "predicted_sales", "actual"]].values[0].tolist() == [
        "Promo",
        120.0,
        120.0,
    ]


# --------------------------------------------------------------------------- how runs are shown


def test_a_run_is_shown_by_the_first_8_characters_of_its_id():
    ids = ["0f3c9a12-aaaa-4bbb-8ccc-000000000001", "7d41e0b9-aaaa-4bbb-8ccc-000000000002"]
    assert predictions.short_run_ids(ids) == {ids[0]: "0f3c9a12", ids[1]: "7d41e0b9"}


def test_runs_sharing_8_characters_are_shown_up_to_where_they_differ():
    twins = ["0f3c9a12-ab00-4bbb-8ccc-000000000001", "0f3c9a12-ac00-4bbb-8ccc-000000000002"]
    other = "7d41e0b9-aaaa-4bbb-8ccc-000000000003"
    assert predictions.short_run_ids([*twins, other]) == {
        twins[0]: "0f3c9a12-ab",
        twins[1]: "0f3c9a12-ac",
        other: "7d41e0b9",
    }


def test_a_run_listed_twice_is_not_taken_for_another_run():
    run_id = "0f3c9a12-aaaa-4bbb-8ccc-000000000001"
    assert predictions.short_run_ids([run_id, run_id]) == {run_id: "0f3c9a12"}


@pytest.mark.parametrize(
    ("scenario", "kind"),
    [("", "Base forecast"), ("Promo", "What-if: Promo"), ("**x**", "What-if: **x**")],
)
def test_a_run_is_a_base_forecast_or_a_named_what_if(scenario, kind):
    assert predictions.run_kind(scenario) == kind


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (12571.953, 12572.0),
        (-150.4, -150.0),
        (100.0, 100.0),
        (45.156, 45.2),
        (-3.04, -3.0),
        (0.1234, 0.12),
        (0.0, 0.0),
    ],
)
def test_a_score_is_whole_from_100_and_keeps_a_decimal_or_two_below(value, shown):
    assert predictions.shown_figure(value) == shown


def test_a_missing_score_stays_missing():
    assert pd.isna(predictions.shown_figure(float("nan")))


def test_saving_over_an_earlier_run_says_which_rows_it_replaced(engine, model):
    first = predictions.save_forecast(engine, predictions.forecast_table(forecast()), model)
    again = predictions.save_forecast(engine, predictions.forecast_table(forecast()), model)
    assert first.replaced == {} and again.replaced == {first.run_id: 2}
    assert predictions.replacement_note(again) == (
        f" It replaces 2 rows of run {first.run_id[:8]} for the same periods."
    )


@pytest.mark.parametrize(
    ("target", "currency", "column"),
    [
        ("revenue", "EUR", "forecast_revenue_EUR"),
        ("revenue", "", "forecast_revenue_in_sales_currency"),
        ("quantity", "EUR", "forecast_quantity_units"),
    ],
)
def test_a_forecast_csv_names_its_target_and_unit_and_its_model_by_name(target, currency, column):
    table = predictions.forecast_table(forecast().assign(model="mean(lr+ets)"))
    shown = predictions.export_table(table, target=target, currency=currency)
    assert list(shown.columns) == [
        "series",
        "target_period",
        column,
        *predictions.BOUNDS,
        "model",
    ]
    assert set(shown["model"]) == {"Mean of Linear regression + ETS"}
