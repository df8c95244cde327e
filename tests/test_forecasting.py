"""Forecaster: leak-free backtests, honest intervals, fallbacks for awkward series, persistence."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import SeasonalNaive

from salesml import forecasting
from salesml.errors import SchemaError
from salesml.forecasting import Forecaster, intervals, prepare_frame, series_scale

BOUNDS = ["lower_80", "upper_80", "lower_95", "upper_95"]


def seasonal_frame(
    n_series: int = 12,
    length: int = 72,
    *,
    trend: float = 0.0,
    noise: float = 0.1,
    seed: int = 0,
    start: str = "2015-01-01",
) -> pd.DataFrame:
    """Monthly series: level x (1 + trend t + seasonal wave) + Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    dates = pd.date_range(start, periods=length, freq="MS")
    parts = []
    for i in range(n_series):
        level = rng.uniform(50, 500)
        phase = rng.uniform(0, 2 * np.pi)
        shape = 1 + trend * t + 0.3 * np.sin(2 * np.pi * t / 12 + phase)
        y = level * shape + rng.normal(0, noise * level, length)
        parts.append(
            pd.DataFrame({"unique_id": f"s{i:02d}", "ds": dates, "y": y, "category": f"c{i % 3}"})
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return seasonal_frame(trend=0.01)


@pytest.fixture(scope="module")
def fitted(frame) -> Forecaster:
    return Forecaster(freq="M", horizon=6, models=("lr", "gb", "snaive"), windows=3).fit(frame)


@pytest.fixture(scope="module")
def forest(frame) -> Forecaster:
    return Forecaster(freq="M", horizon=6, models=("rf",), windows=1).fit(frame)


@pytest.mark.slow
def test_each_backtest_window_is_blind_to_what_follows_its_cutoff():
    frame = seasonal_frame(n_series=4, trend=0.01)
    models = ["lr", "gb", "snaive", "ets", "theta"]
    base = Forecaster(freq="M", horizon=6, models=tuple(models), windows=3).fit(frame)
    for cutoff in base.backtest_["cutoff"].unique():
        spoiled = frame.assign(y=frame["y"].where(frame["ds"] <= cutoff, 1e7))
        again = Forecaster(freq="M", horizon=6, models=tuple(models), windows=3).fit(spoiled)
        before = base.backtest_[base.backtest_["cutoff"] == cutoff].reset_index(drop=True)
        after = again.backtest_[again.backtest_["cutoff"] == cutoff].reset_index(drop=True)
        pd.testing.assert_frame_equal(before[models], after[models])


@pytest.mark.slow
def test_backtest_covers_the_requested_windows_of_horizon_periods(fitted, frame):
    cutoffs = sorted(fitted.backtest_["cutoff"].unique())
    last = frame["ds"].max()
    assert cutoffs == [last - pd.DateOffset(months=6 * k) for k in (3, 2, 1)]
    assert len(fitted.backtest_) == 12 * 3 * 6


def test_intervals_cover_near_nominal_on_seasonal_series_with_gaussian_noise():
    full = seasonal_frame(n_series=40, length=150, noise=0.08, seed=1)
    cutoff = full["ds"].max() - pd.DateOffset(months=6)
    train, test = full[full["ds"] <= cutoff], full[full["ds"] > cutoff]
    model = Forecaster(freq="M", horizon=6, models=("lr",), windows=4).fit(train)
    chosen = model.leaderboard_.set_index("model").loc["lr"]
    assert 0.7 <= chosen["coverage_80"] <= 0.9
    assert 0.88 <= chosen["coverage_95"] <= 0.99
    judged = model.predict().merge(test, on=["unique_id", "ds"])
    for level in (80, 95):
        inside = judged["y"].between(judged[f"lower_{level}"], judged[f"upper_{level}"]).mean()
        # within three binomial standard errors of the level, over 240 held-out points
        p = level / 100
        assert abs(inside - p) <= 3 * np.sqrt(p * (1 - p) / len(judged))


def test_with_enough_errors_per_step_the_widths_are_observed_errors():
    errors = np.arange(1.0, 100.0)  # 99 errors: the conformal ranks are 80 and 95 of 100
    widths = forecasting.conformal_widths(errors, np.ones(99, dtype=int), 1, (80, 95))
    assert widths[:, 0].tolist() == [80.0, 95.0]


def test_with_too_few_errors_for_its_quantile_the_95_percent_width_still_exceeds_the_80():
    errors = np.array([0.5, 1.0, 2.0, 1.5])  # enough for an 80% rank (4 of 5), not for 95%
    widths = forecasting.conformal_widths(errors, np.ones(4, dtype=int), 1, (80, 95))
    assert widths[0, 0] == 2.0
    assert widths[1, 0] > widths[0, 0]


def test_with_too_few_errors_for_either_level_both_widths_exceed_the_largest_error():
    errors = np.array([0.5, 2.0])
    widths = forecasting.conformal_widths(errors, np.ones(2, dtype=int), 1, (80, 95))
    assert 2.0 < widths[0, 0] < widths[1, 0]


def test_recent_backtest_windows_weigh_more_in_the_widths():
    # 50 errors per window: the oldest window missed by 10, the two newer ones by 1
    errors = np.repeat([10.0, 1.0, 1.0], 50)
    cutoffs = np.repeat(pd.to_datetime(["2019-12-01", "2020-12-01", "2021-12-01"]), 50)
    steps = np.ones(150, dtype=int)
    pooled = forecasting.conformal_widths(errors, steps, 1, (80, 95))
    weighted = forecasting.conformal_widths(
        errors, steps, 1, (80, 95), weights=intervals.recency_weights(cutoffs)
    )
    assert pooled[:, 0].tolist() == [10.0, 10.0]
    assert weighted[:, 0].tolist() == [1.0, 10.0]


def test_backtest_errors_count_half_as_much_for_each_year_of_age():
    yearly = pd.to_datetime(["2019-12-01", "2020-12-01", "2021-12-01"])
    quarterly = pd.to_datetime(["2021-06-06", "2021-09-05", "2021-12-05"])
    np.testing.assert_allclose(intervals.recency_weights(yearly), [0.25, 0.5, 1.0], atol=0.002)
    np.testing.assert_allclose(intervals.recency_weights(quarterly), [0.71, 0.84, 1.0], atol=0.01)


def test_enough_errors_whose_weights_fall_just_short_give_the_largest_error_not_a_t_fit():
    errors = np.array([0.5, 1.0, 2.0, 1.5])  # enough for the 80% rank 4 of 5: the largest
    weights = np.array([1.0, 1.0, 0.99, 0.99])  # a window a few days older
    widths = forecasting.conformal_widths(
        errors, np.ones(4, dtype=int), 1, (80, 95), weights=weights
    )
    assert widths[0, 0] == 2.0
    assert widths[1, 0] > widths[0, 0]


def test_equal_weights_give_the_plain_conformal_ranks():
    errors = np.arange(1.0, 100.0)
    steps = np.ones(99, dtype=int)
    plain = forecasting.conformal_widths(errors, steps, 1, (80, 95))
    same = forecasting.conformal_widths(errors, steps, 1, (80, 95), weights=np.ones(99))
    assert plain.tolist() == same.tolist() == [[80.0], [95.0]]


@pytest.mark.parametrize(
    ("known", "expected"),
    [
        ([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]),  # flat in the backtest: flat after it
        ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]),  # growing in proportion: keeps growing so
        ([2.0], [2.0 * np.sqrt(2), 2.0 * np.sqrt(3), 4.0]),  # one step: a random walk's growth
    ],
)
def test_past_the_backtested_steps_ranges_grow_as_the_backtest_showed(known, expected):
    widths = np.array([known, [2 * w for w in known]])
    extended = intervals.extend_widths(widths, len(known) + 3)
    np.testing.assert_allclose(extended[0, len(known) :], expected)
    np.testing.assert_allclose(extended[1, len(known) :], 2 * np.asarray(expected))


def one_window_frame(n_series: int) -> pd.DataFrame:
    """Four years of monthly series, which leave one 12-month backtest window, and a short one."""
    frame = seasonal_frame(n_series=n_series, length=48, noise=0.15, seed=5)
    short = frame[frame["unique_id"] == "s00"].tail(14).assign(unique_id="short")
    return pd.concat([frame, short], ignore_index=True)


@pytest.fixture(scope="module", params=[1, 4], ids=["one series", "four series"])
def one_window(request) -> Forecaster:
    frame = one_window_frame(request.param)
    return Forecaster(freq="M", horizon=12, models=("lr", "snaive"), windows=1).fit(frame)


def test_with_one_backtest_window_95_percent_ranges_are_wider_than_80_percent_ones(one_window):
    predicted = one_window.predict(horizon=18)
    live = predicted["yhat"].gt(0) & predicted["unique_id"].map(one_window.scale_).gt(0)
    assert live.sum() > 0.9 * len(predicted)
    assert "short" in set(predicted.loc[live, "unique_id"])  # a baseline's ranges too
    assert (predicted.loc[live, "upper_95"] > predicted.loc[live, "upper_80"]).all()
    assert (predicted["lower_95"] <= predicted["lower_80"]).all()
    assert (predicted["lower_80"] <= predicted["yhat"]).all()
    assert (predicted["yhat"] <= predicted["upper_80"]).all()


@pytest.mark.slow
def test_ranges_widened_for_want_of_backtest_errors_are_explained():
    frame = one_window_frame(4)
    model = Forecaster(freq="M", horizon=12, models=("lr", "snaive"), windows=1).fit(frame)
    assert model.interval_notes_ == [
        "95% ranges: only 4 backtest errors per forecast step, 19 are needed to calibrate "
        "them; widened by a t-distribution fit to those errors."
    ]


def test_ranges_calibrated_on_enough_backtest_errors_need_no_note(fitted):
    assert fitted.interval_notes_ == []  # 12 series x 3 windows = 36 errors per step


def test_ranges_without_any_backtest_are_explained():
    model = Forecaster(freq="M", horizon=3).fit(seasonal_frame(n_series=3, length=10))
    [note] = model.interval_notes_
    assert note.startswith("80% and 95% ranges: no backtest")


@pytest.mark.slow
def test_forecasts_and_bounds_are_never_negative():
    frame = seasonal_frame(n_series=6, length=60, noise=0.6, seed=3)
    frame["y"] = frame["y"] - frame.groupby("unique_id")["y"].transform("mean")
    model = Forecaster(freq="M", horizon=6, models=("lr", "snaive"), windows=2).fit(frame)
    predicted = model.predict(horizon=18)
    assert (predicted[["yhat", *BOUNDS]] >= 0).all().all()
    assert (model.backtest_[["lr", "snaive"]] >= 0).all().all()
    assert (predicted["lower_80"] <= predicted["yhat"]).all()
    assert (predicted["upper_95"] >= predicted["upper_80"]).all()


@pytest.mark.slow
def test_short_all_zero_and_single_period_series_still_get_forecasts_and_are_listed():
    frame = seasonal_frame(n_series=6, length=60)
    last = frame["ds"].max()
    short = frame[frame["unique_id"] == "s00"].tail(15).assign(unique_id="short")
    zeros = frame[frame["unique_id"] == "s01"].assign(unique_id="zeros", y=0.0)
    single = pd.DataFrame({"unique_id": ["one"], "ds": [last], "y": [7.0], "category": ["c9"]})
    newer = frame[frame["unique_id"] == "s02"].tail(34).assign(unique_id="newer")
    mixed = pd.concat([frame, short, zeros, single, newer], ignore_index=True)
    model = Forecaster(freq="M", horizon=6, models=("gb", "snaive"), windows=3).fit(mixed)
    predicted = model.predict()
    assert predicted.groupby("unique_id").size().to_dict() == dict.fromkeys(
        sorted(mixed["unique_id"].unique()), 6
    )
    assert np.isfinite(predicted[["yhat", *BOUNDS]].to_numpy()).all()
    assert model.fallback_["zeros"].startswith("all zeros")
    assert model.fallback_["short"].startswith("seasonal naive")
    assert model.fallback_["one"].startswith("moving average")
    assert model.fallback_["newer"] == "backtested on 1 of 3 windows"
    assert (predicted.loc[predicted["unique_id"] == "zeros", "yhat"] == 0).all()
    assert (predicted.loc[predicted["unique_id"] == "one", "yhat"] == 7.0).all()
    assert "s03" not in model.fallback_
    # Modelled and fallback series asked for together, in any order: the rows of the whole.
    subset = model.predict(ids=["zeros", "s00", "one"])
    expected = predicted[predicted["unique_id"].isin(["zeros", "s00", "one"])]
    pd.testing.assert_frame_equal(subset, expected.reset_index(drop=True))


def test_when_no_series_is_long_enough_every_series_gets_a_baseline():
    frame = seasonal_frame(n_series=3, length=10)
    model = Forecaster(freq="M", horizon=3).fit(frame)
    predicted = model.predict()
    assert len(predicted) == 9
    assert set(model.fallback_) == {"s00", "s01", "s02"}
    assert model.leaderboard_.empty


def test_when_no_series_is_long_enough_the_features_name_the_baselines():
    model = Forecaster(freq="M", horizon=3).fit(seasonal_frame(n_series=3, length=10))
    assert model.features_ == [forecasting.BASELINE_FEATURES]


@pytest.mark.slow
def test_default_auto_beats_or_matches_seasonal_naive_on_trended_seasonal_series():
    full = seasonal_frame(n_series=10, length=78, trend=0.015, noise=0.05, seed=4)
    cutoff = full["ds"].max() - pd.DateOffset(months=6)
    train, test = full[full["ds"] <= cutoff], full[full["ds"] > cutoff]
    model = Forecaster(freq="M", horizon=6, windows=2).fit(train)
    naive = StatsForecast(models=[SeasonalNaive(season_length=12)], freq="MS").forecast(
        df=train[["unique_id", "ds", "y"]], h=6
    )
    scale = series_scale(train, 12)

    def mase(forecast: pd.DataFrame, column: str) -> float:
        joined = forecast.merge(test, on=["unique_id", "ds"])
        error = (joined[column] - joined["y"]).abs().groupby(joined["unique_id"]).mean()
        return float((error / scale.reindex(error.index)).mean())

    assert model.models == ("auto",)
    assert mase(model.predict(), "yhat") <= mase(naive, "SeasonalNaive")


def test_leaderboard_has_one_row_per_model_sorted_by_mase_with_the_choice_marked(fitted):
    board = fitted.leaderboard_
    assert list(board.columns[:11]) == [
        "model",
        "mase",
        "smape",
        "mae",
        "rmse",
        "r2",
        "bias",
        "fit_seconds",
        "coverage_80",
        "coverage_95",
        "chosen",
    ]
    assert {"lr", "gb", "snaive"} <= set(board["model"])
    assert board["mase"].is_monotonic_increasing
    assert board.loc[board["chosen"], "model"].tolist() == [fitted.combination_.name]
    assert set(fitted.per_series_["model"]) == set(board["model"])
    assert set(board["model"]) <= set(fitted.backtest_.columns)


@pytest.mark.slow
def test_predict_any_horizon_without_refitting(fitted, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("predict must not refit")

    monkeypatch.setattr(forecasting.models.MLForecast, "fit", refuse)
    monkeypatch.setattr(forecasting.models.StatsForecast, "fit", refuse)
    short, long = fitted.predict(horizon=6), fitted.predict(horizon=30)
    assert long.groupby("unique_id").size().eq(30).all()
    head = long.groupby("unique_id").head(6).reset_index(drop=True)
    pd.testing.assert_frame_equal(short, head, check_exact=False, rtol=1e-9)
    width = (long["upper_95"] - long["lower_95"]).groupby(long["unique_id"]).diff()
    assert (width.dropna() >= -1e-9).sum() > 0.9 * width.notna().sum()


def test_predict_for_chosen_ids_returns_just_those_series(fitted):
    everything = fitted.predict()
    subset = fitted.predict(ids=["s03", "s01"])
    assert subset["unique_id"].unique().tolist() == ["s01", "s03"]
    expected = everything[everything["unique_id"].isin(["s01", "s03"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(subset, expected)


def test_predict_refuses_unknown_series(fitted):
    with pytest.raises(SchemaError, match="nope"):
        fitted.predict(ids=["nope"])


def test_prediction_columns_name_the_chosen_model(fitted):
    predicted = fitted.predict()
    assert list(predicted.columns) == ["unique_id", "ds", "model", "yhat", *BOUNDS]
    assert (predicted["model"] == fitted.combination_.name).all()
    assert set(fitted.chosen_) <= {"lr", "gb", "snaive"}


@pytest.mark.slow
def test_joblib_round_trip_predicts_identically(fitted, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    for horizon in (6, 40):
        pd.testing.assert_frame_equal(
            loaded.predict(horizon=horizon), fitted.predict(horizon=horizon)
        )


@pytest.mark.slow
def test_refit_with_the_same_random_state_reproduces_the_forecast_and_another_changes_it(
    frame, forest
):
    def run(random_state: int) -> pd.DataFrame:
        model = Forecaster(
            freq="M", horizon=6, models=("rf",), windows=1, random_state=random_state
        )
        return model.fit(frame).predict()

    pd.testing.assert_frame_equal(run(forest.random_state), forest.predict(), check_exact=True)
    assert not np.allclose(run(forest.random_state + 1)["yhat"], forest.predict()["yhat"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"models": ("xgb",)}, "xgb"),
        ({"freq": "Y"}, "freq"),
        ({"horizon": 0}, "horizon"),
    ],
)
def test_bad_parameters_are_refused_at_fit(frame, params, message):
    with pytest.raises(SchemaError, match=message):
        Forecaster(**{"freq": "M", "horizon": 6, **params}).fit(frame)


def test_frame_without_a_target_column_is_refused():
    frame = pd.DataFrame({"unique_id": ["a"], "ds": ["2020-01-01"]})
    with pytest.raises(SchemaError, match="lacks column"):
        Forecaster(freq="M", horizon=3).fit(frame)


def test_weekly_dates_are_labelled_by_the_monday_their_week_starts_and_gaps_become_zeros():
    fridays = pd.to_datetime(["2024-01-05", "2024-01-19"])
    frame = pd.DataFrame({"unique_id": "a", "ds": fridays, "y": [1.0, 2.0], "category": "x"})
    prepared = prepare_frame(frame, "W")
    assert prepared["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
    ]
    assert prepared["y"].tolist() == [1.0, 0.0, 2.0]


def test_random_forest_importances_name_the_features(forest):
    importances = forest.feature_importances()["rf"]
    assert "lag12" in importances
    assert sum(importances.values()) == pytest.approx(1.0)


def test_a_fitted_forecaster_names_the_features_its_ml_models_use(forest):
    assert forest.features_ == [
        "category",
        "lag1",
        "lag2",
        "lag3",
        "lag12",
        "rolling_mean_lag1_window_size3",
        "rolling_mean_lag1_window_size12",
        "month",
    ]


def test_a_fitted_forecaster_describes_what_its_statistical_models_use(frame):
    model = Forecaster(freq="M", horizon=6, models=("snaive",), windows=1).fit(frame)
    assert model.features_ == ["snaive: own history (the same period a season earlier)"]


@pytest.mark.slow
def test_ets_and_theta_search_their_form_on_each_fits_whole_history(frame, monkeypatch):
    fits = []
    built = forecasting.models.StatsForecast  # the class the zoo builds ETS and Theta with
    real_forecast, real_fit = built.forecast, built.fit

    def seen(sf, df, final):
        model = sf.models[0]
        form = getattr(model, "model", None)
        fits.append((final, model.alias, form, df["ds"].min(), df["ds"].max()))

    def forecast(sf, *, df, h, **kwargs):
        seen(sf, df, final=False)
        return real_forecast(sf, df=df, h=h, **kwargs)

    def fit(sf, *, df, **kwargs):
        seen(sf, df, final=True)
        return real_fit(sf, df=df, **kwargs)

    monkeypatch.setattr(forecasting.models.StatsForecast, "forecast", forecast)
    monkeypatch.setattr(forecasting.models.StatsForecast, "fit", fit)
    model = Forecaster(freq="M", horizon=6, models=("ets", "theta"), windows=3).fit(frame)
    first, cutoffs = frame["ds"].min(), sorted(model.backtest_["cutoff"].unique())
    for name in ("ets", "theta"):
        windows = [(lo, hi) for final, alias, _, lo, hi in fits if alias == name and not final]
        assert windows == [(first, cutoff) for cutoff in cutoffs]
    refits = {alias: (lo, hi) for final, alias, _, lo, hi in fits if final}
    assert refits == dict.fromkeys(model.chosen_, (first, frame["ds"].max()))
    assert {form for _, alias, form, *_ in fits if alias == "ets"} == {"ZZZ"}


@pytest.mark.slow
def test_theta_is_in_the_zoo_and_describes_what_it_reads(frame):
    model = Forecaster(freq="M", horizon=6, models=("theta",), windows=1).fit(frame)
    assert model.combination_.name == "theta"
    assert model.leaderboard_["model"].tolist()[:2] in (["theta", "snaive"], ["snaive", "theta"])
    assert model.features_ == [forecasting.STAT_FEATURES["theta"]]
    assert model.predict(horizon=3)["model"].eq("theta").all()


def backtest_errors(gaps) -> pd.DataFrame:
    """A backtest where 'gb' misses by the pair's error plus each gap, one row per series."""
    pair = np.full(len(gaps), 1.0)
    return pd.DataFrame(
        {
            "unique_id": [f"s{i}" for i in range(len(gaps))],
            "cutoff": pd.Timestamp("2020-01-01"),
            "y": 0.0,
            "scale": 1.0,
            "mean(ets+theta)": pair,
            "gb": pair + np.asarray(gaps, dtype=float),
        }
    )


def guarded(gaps) -> tuple[str, str | None]:
    model = Forecaster(models=("auto",))
    model.candidates_ = ("lr", "rf", "gb", "snaive", "ets", "theta")
    model.choice_note_ = model.choice_rival_ = None
    chosen = model._guard(backtest_errors(gaps), "gb")
    assert model.choice_rival_ == (None if chosen == "gb" else "gb")
    return chosen, model.choice_note_


def test_auto_keeps_a_rival_that_beats_the_ets_theta_mean_clearly():
    assert guarded([-0.2, -0.25, -0.15, -0.2, -0.3]) == ("gb", None)


def test_auto_falls_back_to_the_ets_theta_mean_when_the_backtest_cannot_tell_them_apart():
    chosen, note = guarded([1.0, -1.02, 0.9, -0.95, 0.3, -0.3])
    assert chosen == "mean(ets+theta)"
    assert "gb scored best" in note and "mean of ETS and Theta" in note


@pytest.mark.slow
def test_a_user_who_leaves_out_ets_or_theta_gets_the_best_backtest_unguarded(frame):
    model = Forecaster(freq="M", horizon=6, models=("lr", "snaive", "ets"), windows=2).fit(frame)
    assert model.combination_.name == model.leaderboard_["model"].iat[0]
    assert model.choice_note_ is None


@pytest.mark.slow
def test_concurrent_forecasts_past_the_cached_horizon_leave_the_model_intact(forest):
    import concurrent.futures

    ids = sorted(forest.ids_)
    expected = {uid: forest.predict(horizon=40, ids=[uid]) for uid in ids[:4]}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda uid: (uid, forest.predict(horizon=40, ids=[uid])), ids[:4] * 6)
        )
    for uid, predicted in results:
        pd.testing.assert_frame_equal(predicted, expected[uid])
    pd.testing.assert_frame_equal(forest.predict(horizon=40, ids=ids[:1]), expected[ids[0]])
    joblib.dump(forest, io.BytesIO())  # what predict keeps for itself is not pickled
