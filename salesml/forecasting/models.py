"""The model zoo: global ML models on mlforecast, statistical models on statsforecast."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import RollingMean
from mlforecast.target_transforms import Differences, LocalStandardScaler
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoTheta, SeasonalNaive

from salesml.errors import SchemaError
from salesml.forecasting.frames import future_index
from salesml.frequencies import FREQUENCIES
from salesml.zoo import ML_MODELS, STAT_MODELS

# What the statistical members read, for the saved model's list of features.
STAT_FEATURES = {
    "snaive": "snaive: own history (the same period a season earlier)",
    "ets": "ets: own history (level, trend and season by exponential smoothing)",
    "theta": "theta: own history (deseasonalised, a drifting line blended with smoothing)",
}
BASELINE_FEATURES = "baselines: own recent history (seasonal naive or moving average)"
# Seasonal ETS with 52 weekly states costs ~20x more and is poorly identified on a few years
# of history; longer seasons get the non-seasonal ETS family instead.
LONGEST_ETS_SEASON = 24


def week_of_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """ISO week number of each date (a date feature for weekly series)."""
    return dates.isocalendar().week.to_numpy(dtype=np.int64)


@dataclass(frozen=True)
class FeatureSpec:
    """The lags, rolling means over lag 1, calendar features and target transforms per frequency."""

    lags: tuple[int, ...]
    windows: tuple[int, ...]
    date_features: tuple
    # Differencing suits long trending histories (aus_retail, monthly: MASE 1.30 vs 1.38 for gb);
    # on short weekly histories it blurs the year-ago lag (Walmart: 0.93 vs 0.75).
    difference: bool

    @property
    def max_lag(self) -> int:
        """The longest look-back any feature needs."""
        return max(*self.lags, *(w + 1 for w in self.windows))


FEATURES = {
    "D": FeatureSpec((1, 2, 3, 7, 14), (7, 28), ("dayofweek", "month"), difference=False),
    "W": FeatureSpec((1, 2, 3, 4, 52), (4, 13), (week_of_year, "month"), difference=False),
    "M": FeatureSpec((1, 2, 3, 12), (3, 12), ("month",), difference=True),
    "Q": FeatureSpec((1, 2, 4), (2, 4), ("quarter",), difference=True),
}


def make_regressor(
    name: str, *, random_state: int = 0, n_jobs: int = -1, n_rows: int | None = None
) -> BaseEstimator:
    """A fresh scikit-learn regressor for one of the global ML models (lr, rf, gb)."""
    numeric = make_column_selector(dtype_include=np.number)
    if name == "lr":
        encode = ColumnTransformer(
            [
                ("category", OneHotEncoder(handle_unknown="ignore"), ["category"]),
                ("numeric", StandardScaler(), numeric),
            ]
        )
        return make_pipeline(encode, LinearRegression())
    if name == "rf":
        ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        encode = ColumnTransformer([("category", ordinal, ["category"])], remainder="passthrough")
        forest = RandomForestRegressor(
            n_estimators=100,
            min_samples_leaf=3,
            max_features=0.5,
            # each tree sees at most ~40k rows: big catalogues stay affordable on two cores
            max_samples=min(0.3, 40_000 / n_rows) if n_rows else 0.3,
            n_jobs=n_jobs,
            random_state=random_state,
        )
        return make_pipeline(encode, forest)
    if name == "gb":
        return HistGradientBoostingRegressor(
            categorical_features="from_dtype",
            max_iter=300,
            learning_rate=0.05,
            min_samples_leaf=20,
            early_stopping=False,
            random_state=random_state,
        )
    raise SchemaError(f"unknown model {name!r}; choose from {', '.join(ML_MODELS)}")


def make_stats_model(name: str, season: int):
    """A statsforecast model (snaive, ets or theta) for a season length."""
    if name == "snaive":
        return SeasonalNaive(season_length=season, alias="snaive")
    if name == "ets":
        model = "ZZZ" if season <= LONGEST_ETS_SEASON else "ZZN"
        return AutoETS(season_length=season, model=model, alias="ets")
    if name == "theta":
        return AutoTheta(season_length=season, alias="theta")
    raise SchemaError(f"unknown model {name!r}; choose from {', '.join(STAT_MODELS)}")


def make_mlforecast(
    name: str, freq: str, *, random_state: int = 0, n_jobs: int = -1, n_rows: int | None = None
) -> MLForecast:
    """An unfitted global MLForecast pipeline for one ML model at a frequency."""
    spec = FEATURES[freq]
    return MLForecast(
        models={
            name: make_regressor(name, random_state=random_state, n_jobs=n_jobs, n_rows=n_rows)
        },
        freq=FREQUENCIES[freq].pandas_alias,
        lags=list(spec.lags),
        lag_transforms={1: [RollingMean(window_size=w) for w in spec.windows]},
        date_features=list(spec.date_features),
        target_transforms=[Differences([1]), LocalStandardScaler()]
        if spec.difference
        else [LocalStandardScaler()],
    )


def make_statsforecast(name: str, freq: str, n_jobs: int) -> StatsForecast:
    """statsforecast for one model; a series the model cannot fit gets a seasonal naive one."""
    season = FREQUENCIES[freq].season_length
    return StatsForecast(
        models=[make_stats_model(name, season)],
        freq=FREQUENCIES[freq].pandas_alias,
        # seasonal naive costs less than starting worker processes
        n_jobs=1 if name == "snaive" else n_jobs,
        fallback_model=None if name == "snaive" else SeasonalNaive(season_length=season),
    )


@dataclass(frozen=True)
class Combination:
    """A single model or the mean / median of several, as chosen by the backtest."""

    members: tuple[str, ...]
    method: str = "mean"

    @property
    def name(self) -> str:
        """Short display name: 'gb', 'mean(ets+theta)', 'median(lr+rf+gb+snaive+ets)'."""
        if len(self.members) == 1:
            return self.members[0]
        return f"{self.method}({'+'.join(self.members)})"

    def apply(self, forecasts: pd.DataFrame) -> np.ndarray:
        """Combine member forecast columns into one forecast."""
        values = forecasts[list(self.members)].to_numpy(dtype=float)
        if self.method == "median":
            return np.median(values, axis=1)
        return values.mean(axis=1)


def fit_ml(name: str, train: pd.DataFrame, freq: str, *, random_state: int, n_jobs: int):
    """Fit one global ML model on every series of `train` (unique_id, ds, y, category)."""
    mlf = make_mlforecast(name, freq, random_state=random_state, n_jobs=n_jobs, n_rows=len(train))
    mlf.fit(train, static_features=["category"])
    # threads add the trees' predictions up in any order: the last digits would vary
    single_threaded(mlf.models_[name])
    return mlf


def forecast_models(
    train: pd.DataFrame,
    h: int,
    names: Sequence[str],
    freq: str,
    *,
    random_state: int = 0,
    n_jobs: int = -1,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fit the named models on `train` (every series ending together), forecast h periods.

    Each model is fitted on this training data alone (ETS and Theta search their form on it).
    Returns unique_id, ds, step and a column per model, and the seconds each model took.
    """
    ids = sorted(train["unique_id"].unique())
    out = future_index(ids, train["ds"].max(), h, freq)
    seconds: dict[str, float] = {}
    for name in names:
        start = time.perf_counter()
        if name in ML_MODELS:
            values = fit_ml(name, train, freq, random_state=random_state, n_jobs=n_jobs).predict(h)
        else:
            sf = make_statsforecast(name, freq, n_jobs)
            values = sf.forecast(df=train[["unique_id", "ds", "y"]], h=h)
        seconds[name] = time.perf_counter() - start
        values = values.sort_values(["unique_id", "ds"])
        out[name] = np.clip(values[name].to_numpy(dtype=float), 0.0, None)
    return out, seconds


def single_threaded(model: BaseEstimator) -> None:
    """Predict in one thread: faster for a few rows per step, and the same to the last digit."""
    final = model[-1] if isinstance(model, Pipeline) else model
    if isinstance(final, RandomForestRegressor):
        final.n_jobs = 1
