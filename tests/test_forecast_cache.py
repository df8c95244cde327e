"""Past the forecasts a model cached when fitted, a saved model forecasts once to its longest
horizon per set of series, and every shorter horizon is a slice of that: the same values."""

from __future__ import annotations

import pandas as pd
import pytest

from salesml import forecast_cache, predictions
from salesml.forecasting import Forecaster
from tests.test_forecasting import one_window_frame, seasonal_frame


@pytest.fixture(scope="module", params=["lr", "ets"])
def fitted(request) -> Forecaster:
    # A recursive ML model or a statistical one, and a series too short for either (a baseline).
    frame = pd.concat(
        [one_window_frame(3), seasonal_frame(n_series=1, length=48, seed=9).assign(unique_id="x")]
    )
    model = Forecaster(freq="M", horizon=6, models=(request.param,), windows=1).fit(frame)
    assert model.chosen_ == (request.param,) and "short" in model.fallback_
    return model


@pytest.fixture(autouse=True)
def empty_cache():
    forecast_cache.clear()
    yield
    forecast_cache.clear()


def count_model_runs(monkeypatch, model: Forecaster) -> list[int]:
    runs: list[int] = []
    real = model._member_forecasts

    def counted(h, ids):
        runs.append(h)
        return real(h, ids)

    monkeypatch.setattr(model, "_member_forecasts", counted)
    return runs


@pytest.mark.slow
def test_the_longest_horizon_lies_past_the_forecasts_cached_when_fitting(fitted):
    assert fitted.cache_horizon_ == 12
    assert predictions.longest_for(fitted.horizon) == 36


@pytest.mark.slow
@pytest.mark.parametrize("ids", [None, ["s01"], ["short", "s00"], ["x", "s02", "short"]])
@pytest.mark.parametrize("horizon", [1, 6, 11, 12, 13, 24, 35, 36])
def test_a_sliced_forecast_equals_the_one_computed_directly(fitted, horizon, ids):
    predictions.forecast_frame(fitted, 12 if horizon <= 12 else 36, ids)  # kept first
    sliced = predictions.forecast_frame(fitted, horizon, ids)
    direct = predictions.forecast_table(fitted.predict(horizon=horizon, ids=ids))
    pd.testing.assert_frame_equal(sliced, direct)


def test_every_horizon_past_the_fitted_cache_runs_the_model_once(fitted, monkeypatch):
    runs = count_model_runs(monkeypatch, fitted)
    for horizon in range(13, 37):
        for _ in range(3):
            table = predictions.forecast_frame(fitted, horizon, ["s01"])
            assert len(table) == horizon
    assert runs == [36]


def test_each_set_of_series_is_kept_on_its_own(fitted, monkeypatch):
    runs = count_model_runs(monkeypatch, fitted)
    predictions.forecast_frame(fitted, 20, ["s01"])
    predictions.forecast_frame(fitted, 20, ["s01", "s02"])
    predictions.forecast_frame(fitted, 30, ["s02", "s01"])  # the same set, in another order
    assert runs == [36, 36]


def test_within_the_fitted_cache_the_model_does_not_run(fitted, monkeypatch):
    runs = count_model_runs(monkeypatch, fitted)
    for horizon in range(1, 13):
        assert len(predictions.forecast_frame(fitted, horizon, ["s01"])) == horizon
    assert runs == [] and forecast_cache.kept_points() == 12


@pytest.mark.slow
def test_the_kept_forecasts_stay_within_their_bound(fitted, monkeypatch):
    monkeypatch.setattr(forecast_cache, "KEPT_POINTS", 80)
    for series in ("s00", "s01", "s02"):
        predictions.forecast_frame(fitted, 20, [series])
        assert forecast_cache.kept_points() <= 80
    assert forecast_cache.kept_points() == 72  # the two most recent, 36 points each
    assert not forecast_cache.holds(fitted, ["s00"], through=36)


def test_a_forecast_too_large_to_keep_goes_no_further_than_asked(fitted, monkeypatch):
    monkeypatch.setattr(forecast_cache, "KEPT_POINTS", 80)
    runs = count_model_runs(monkeypatch, fitted)
    assert len(predictions.forecast_frame(fitted, 20)) == 5 * 20
    assert runs == [20] and forecast_cache.kept_points() == 0


def test_a_kept_forecast_counts_as_quick_for_the_api(fitted):
    record = type("Record", (), {"series_count": 5, "horizon": 6})()
    assert predictions.is_quick(fitted, record, 12, ["s01"])  # the model's own cache
    assert not predictions.is_quick(fitted, record, 24, ["s01"])
    predictions.forecast_frame(fitted, 24, ["s01"])
    assert predictions.is_quick(fitted, record, 30, ["s01"])
    assert not predictions.is_quick(fitted, record, 30, ["s02"])
    assert not predictions.is_quick(fitted, record, 37, ["s01"])
