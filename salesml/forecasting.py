"""Model zoo, rolling-origin backtests, combinations and conformal intervals for sales series."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import RollingMean
from mlforecast.target_transforms import Differences, LocalStandardScaler
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, SeasonalNaive

from salesml.errors import SchemaError
from salesml.series import PANDAS_FREQ, SEASON_LENGTH
from salesml.zoo import AUTO, ML_MODELS, MODELS, STAT_MODELS

LEVELS = (80, 95)
# Pandas period aliases whose start_time is the period start PANDAS_FREQ labels.
_PERIOD_FREQ = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q"}
# More categories than HistGradientBoosting can bin are folded into one.
_MAX_CATEGORIES = 200
_OTHER = "(other)"
# What the statistical members read, for the saved model's list of features.
STAT_FEATURES = {
    "snaive": "snaive: own history (the same period a season earlier)",
    "ets": "ets: own history (level, trend and season by exponential smoothing)",
}
BASELINE_FEATURES = "baselines: own recent history (seasonal naive or moving average)"


def week_of_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """ISO week number of each date (a date feature for weekly series)."""
    return dates.isocalendar().week.to_numpy(dtype=np.int64)


@dataclass(frozen=True)
class FeatureSpec:
    """The lags, rolling means over lag 1, and calendar features used for one frequency."""

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
    """A statsforecast baseline (snaive or ets) for a season length."""
    if name == "snaive":
        return SeasonalNaive(season_length=season, alias="snaive")
    if name == "ets":
        # Seasonal ETS with 52 weekly states costs ~20x more and is poorly identified on a
        # few years of history; long seasons get the non-seasonal ETS family instead.
        return AutoETS(season_length=season, model="ZZZ" if season <= 24 else "ZZN", alias="ets")
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
        freq=PANDAS_FREQ[freq],
        lags=list(spec.lags),
        lag_transforms={1: [RollingMean(window_size=w) for w in spec.windows]},
        date_features=list(spec.date_features),
        target_transforms=[Differences([1]), LocalStandardScaler()]
        if spec.difference
        else [LocalStandardScaler()],
    )


@dataclass(frozen=True)
class Combination:
    """A single model or the mean / median of several, as chosen by the backtest."""

    members: tuple[str, ...]
    method: str = "mean"

    @property
    def name(self) -> str:
        """Short display name: 'gb', 'mean(ets+gb)', 'median(lr+rf+gb+snaive+ets)'."""
        if len(self.members) == 1:
            return self.members[0]
        return f"{self.method}({'+'.join(self.members)})"

    def apply(self, forecasts: pd.DataFrame) -> np.ndarray:
        """Combine member forecast columns into one forecast."""
        values = forecasts[list(self.members)].to_numpy(dtype=float)
        if self.method == "median":
            return np.median(values, axis=1)
        return values.mean(axis=1)


# ---------------------------------------------------------------------------------------------
# Preparing frames


def prepare_frame(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Validate a long frame, snap dates to period starts, sum duplicates, fill gaps with zeros."""
    missing = {"unique_id", "ds", "y"} - set(frame.columns)
    if missing:
        raise SchemaError(
            f"series frame lacks column(s) {', '.join(sorted(missing))}; "
            "pass the frame built by salesml.series.load_series"
        )
    if freq not in PANDAS_FREQ:
        raise SchemaError(f"freq must be one of {', '.join(PANDAS_FREQ)}, not {freq!r}")
    if frame.empty:
        raise SchemaError("the series frame is empty: there is nothing to forecast")
    df = pd.DataFrame({"unique_id": frame["unique_id"].astype(str)})
    df["ds"] = _period_ordinals(frame["ds"], freq)
    df["y"] = pd.to_numeric(frame["y"], errors="coerce").fillna(0.0).astype(float).to_numpy()
    category = frame["category"] if "category" in frame.columns else pd.Series("all", frame.index)
    category = category.astype(object)
    df["category"] = category.where(category.notna(), "(none)").astype(str).to_numpy()
    categories = df.groupby("unique_id")["category"].first()
    sums = df.groupby(["unique_id", "ds"], sort=True)["y"].sum()
    full = _fill_gaps(sums)
    full["ds"] = pd.PeriodIndex.from_ordinals(full["ds"], freq=_PERIOD_FREQ[freq]).start_time
    full["category"] = _fold_categories(full["unique_id"].map(categories))
    return full


def _period_ordinals(dates: pd.Series, freq: str) -> np.ndarray:
    try:
        stamps = pd.to_datetime(dates)
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"column 'ds' holds values that are not dates: {exc}") from exc
    if stamps.isna().any():
        raise SchemaError(f"column 'ds' has {int(stamps.isna().sum())} missing dates")
    return stamps.dt.to_period(_PERIOD_FREQ[freq]).array.asi8


def _fill_gaps(sums: pd.Series) -> pd.DataFrame:
    """Each series runs from its first period to the last period of all series."""
    ids = sums.index.get_level_values(0)
    periods = sums.index.get_level_values(1).to_numpy()
    first = pd.Series(periods).groupby(ids.to_numpy()).min()
    counts = (periods.max() - first.to_numpy() + 1).astype(int)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    index = pd.MultiIndex.from_arrays(
        [np.repeat(first.index.to_numpy(), counts), np.repeat(first.to_numpy(), counts) + offsets],
        names=["unique_id", "ds"],
    )
    return sums.reindex(index, fill_value=0.0).reset_index()


def _fold_categories(category: pd.Series) -> pd.Categorical:
    counts = category.value_counts()
    keep = set(counts.index[: _MAX_CATEGORIES - 1]) if len(counts) > _MAX_CATEGORIES else None
    if keep is not None:
        category = category.where(category.isin(keep), _OTHER)
    return pd.Categorical(category, categories=sorted(category.unique()))


def series_scale(frame: pd.DataFrame, season: int) -> pd.Series:
    """In-sample seasonal-naive MAE per series (naive MAE, then mean |y| when that is zero)."""
    ids = frame["unique_id"]
    grouped = frame.groupby("unique_id", sort=True, observed=True)["y"]
    seasonal = (frame["y"] - grouped.shift(season)).abs().groupby(ids).mean()
    naive = (frame["y"] - grouped.shift(1)).abs().groupby(ids).mean()
    level = frame["y"].abs().groupby(ids).mean()
    scale = seasonal.where(seasonal > 0, naive)
    scale = scale.where(scale > 0, level)
    return scale.where(scale > 0)


# ---------------------------------------------------------------------------------------------
# Forecasting one training set with the zoo


def forecast_models(
    train: pd.DataFrame,
    h: int,
    names: Sequence[str],
    freq: str,
    *,
    random_state: int = 0,
    n_jobs: int = -1,
    ets_forms: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fit the named models on `train` and forecast h periods; also return seconds per model."""
    out = _future_index(train, h, freq)
    seconds: dict[str, float] = {}
    for name in names:
        start = time.perf_counter()
        if name in ML_MODELS:
            mlf = make_mlforecast(
                name, freq, random_state=random_state, n_jobs=n_jobs, n_rows=len(train)
            )
            mlf.fit(train, static_features=["category"])
            # threads add the trees' predictions up in any order: the last digits would vary
            _single_threaded(mlf.models_[name])
            values = mlf.predict(h)
        else:
            fitted = fit_stats(name, train, freq, n_jobs=n_jobs, ets_forms=ets_forms)
            values = pd.concat([sf.predict(h=h) for sf in fitted])
        seconds[name] = time.perf_counter() - start
        values = values.sort_values(["unique_id", "ds"])
        out[name] = np.clip(values[name].to_numpy(dtype=float), 0.0, None)
    return out, seconds


def fit_stats(
    name: str,
    train: pd.DataFrame,
    freq: str,
    *,
    n_jobs: int = -1,
    ets_forms: dict[str, str] | None = None,
) -> list[StatsForecast]:
    """Fit a statsforecast baseline; with `ets_forms`, ETS re-estimates each series' known form."""
    y = train[["unique_id", "ds", "y"]]
    if name != "ets" or ets_forms is None:
        return [_statsforecast(name, freq, n_jobs).fit(df=y)]
    new = sorted(set(y["unique_id"]) - set(ets_forms))
    if new:
        ets_forms.update(select_ets_forms(y[y["unique_id"].isin(new)], freq, n_jobs))
    forms = y["unique_id"].map(ets_forms)
    season = SEASON_LENGTH[freq]
    fitted = []
    for form, part in y.groupby(forms, sort=True):
        error, trend, seasonal = form.split(",")
        model = AutoETS(
            season_length=season,
            model=error + trend[0] + seasonal,
            damped=trend.endswith("d"),
            alias="ets",
        )
        # a form chosen on recent data may not suit older zeros: fall back to a full search
        sf = StatsForecast(
            models=[model],
            freq=PANDAS_FREQ[freq],
            n_jobs=n_jobs,
            fallback_model=make_stats_model("ets", season),
        )
        fitted.append(sf.fit(df=part))
    return fitted


def select_ets_forms(y: pd.DataFrame, freq: str, n_jobs: int = -1) -> dict[str, str]:
    """AutoETS form per series ('M,Ad,M'), chosen by AICc on the last ten seasons."""
    # The full model search is the slow part of ETS; running it once on recent data and
    # re-estimating the chosen form at each origin keeps backtests affordable.
    season = SEASON_LENGTH[freq]
    recent = y.groupby("unique_id", sort=False).tail(10 * season)
    sf = _statsforecast("ets", freq, n_jobs).fit(df=recent)
    return {
        str(uid): model.model_["method"][4:-1]
        for uid, model in zip(sf.uids, sf.fitted_[:, 0], strict=True)
    }


def _statsforecast(name: str, freq: str, n_jobs: int) -> StatsForecast:
    model = make_stats_model(name, SEASON_LENGTH[freq])
    # seasonal naive costs less than starting worker processes
    return StatsForecast(
        models=[model], freq=PANDAS_FREQ[freq], n_jobs=1 if name == "snaive" else n_jobs
    )


def _future_index(train: pd.DataFrame, h: int, freq: str) -> pd.DataFrame:
    last = train.groupby("unique_id", sort=True, observed=True)["ds"].max()
    offset = pd.tseries.frequencies.to_offset(PANDAS_FREQ[freq])
    ds = [last_ds + offset * step for last_ds in last for step in range(1, h + 1)]
    return pd.DataFrame(
        {
            "unique_id": np.repeat(last.index.to_numpy(), h),
            "ds": ds,
            "step": np.tile(np.arange(1, h + 1), len(last)),
        }
    )


# ---------------------------------------------------------------------------------------------
# Backtest metrics and conformal interval widths


def score(bt: pd.DataFrame, col: str, by: str | None = None) -> pd.DataFrame | pd.Series:
    """MASE, sMAPE, MAE, RMSE, R² and bias of one forecast column, overall or per `by` group."""
    err = bt[col] - bt["y"]
    denom = bt[col].abs() + bt["y"].abs()
    parts = pd.DataFrame(
        {
            "scaled": err.abs() / bt["scale"],
            "smape": np.where(denom > 0, 200.0 * err.abs() / denom.where(denom > 0, 1.0), 0.0),
            "abs": err.abs(),
            "sq": err**2,
            "err": err,
            "y": bt["y"],
        }
    )
    if by is None:
        return _summarise(parts)
    return parts.groupby(bt[by], sort=True, observed=True).apply(_summarise)


def _summarise(parts: pd.DataFrame) -> pd.Series:
    total = ((parts["y"] - parts["y"].mean()) ** 2).sum()
    return pd.Series(
        {
            "mase": parts["scaled"].mean(),
            "smape": parts["smape"].mean(),
            "mae": parts["abs"].mean(),
            "rmse": math.sqrt(parts["sq"].mean()),
            "r2": 1.0 - parts["sq"].sum() / total if total > 0 else np.nan,
            "bias": parts["err"].mean(),
        }
    )


def _scaled_errors(bt: pd.DataFrame, col: str) -> np.ndarray:
    return ((bt[col] - bt["y"]).abs() / bt["scale"]).to_numpy()


def conformal_widths(
    scaled_errors: np.ndarray, steps: np.ndarray, h: int, levels: Sequence[int]
) -> np.ndarray:
    """Scaled half-widths (levels x steps): conformal, or a t fit where errors are few; rising."""
    widths = np.full((len(levels), h), np.nan)
    ok = np.isfinite(scaled_errors)
    for step in range(1, h + 1):
        errors = np.sort(scaled_errors[ok & (steps == step)])
        narrower: tuple[int, float] | None = None
        for i in np.argsort(levels, kind="stable"):
            widths[i, step - 1] = _step_width(errors, int(levels[i]), narrower)
            narrower = (int(levels[i]), widths[i, step - 1])
    widths = pd.DataFrame(widths).ffill(axis=1).bfill(axis=1).to_numpy()
    if np.isnan(widths).any():
        return widths
    # least-squares monotone fit: a running maximum would keep every upward noise spike
    isotonic = IsotonicRegression(increasing=True)
    return np.vstack([isotonic.fit_transform(np.arange(h), row) for row in widths])


def needed_errors(level: int) -> int:
    """Fewest errors per step whose conformal `level`% quantile is one of the errors (95: 19)."""
    return -(-level // (100 - level))


def _step_width(sorted_errors: np.ndarray, level: int, narrower: tuple[int, float] | None) -> float:
    """One level's scaled half-width at one step: conformal, or a t fit when errors are few."""
    n = len(sorted_errors)
    if n == 0:
        return np.nan
    rank = -(-(n + 1) * level // 100)
    if rank <= n:
        return float(sorted_errors[rank - 1])
    # Capping the rank at n would make every thin level the largest error: 95% = 80%.
    # Instead fit zero-mean t errors (n degrees of freedom, scale from their RMS), never
    # narrower than the largest error, nor than the narrower level's width grown as far as
    # a Gaussian's quantiles grow (x1.53 from 80% to 95%): heavy tails only widen it more.
    width = max(
        _t_quantile(level, n) * math.sqrt(np.mean(sorted_errors**2)), float(sorted_errors[-1])
    )
    if narrower is not None:
        width = max(width, narrower[1] * _z_quantile(level) / _z_quantile(narrower[0]))
    return width


def _t_quantile(level: int, df: int) -> float:
    """Half-width of the central `level`% of a standard t distribution."""
    return float(stats.t.ppf(0.5 + level / 200, df))


def _z_quantile(level: int) -> float:
    """Half-width of the central `level`% of a standard normal distribution."""
    return float(stats.norm.ppf(0.5 + level / 200))


def thin_calibration_notes(
    steps: np.ndarray, scaled_errors: np.ndarray, levels: Sequence[int]
) -> list[str]:
    """Sentences naming the levels whose widths came from a t fit, for want of errors."""
    counts = pd.Series(steps[np.isfinite(scaled_errors)]).value_counts().to_numpy()
    notes = []
    for level in sorted(levels):
        need = needed_errors(int(level))
        thin = counts[counts < need]
        if thin.size == 0:
            continue
        few = f"{thin.min()}" if thin.min() == thin.max() else f"{thin.min()} to {thin.max()}"
        notes.append(
            f"{level}% ranges: only {few} backtest errors per forecast step, {need} are needed "
            "to calibrate them; widened by a t-distribution fit to those errors."
        )
    return notes


def extend_widths(widths: np.ndarray, h: int) -> np.ndarray:
    """Widths for h steps; past the backtested steps they grow like sqrt(step)."""
    known = widths.shape[1]
    if h <= known:
        return widths[:, :h]
    growth = np.sqrt(np.arange(known + 1, h + 1) / known)
    return np.hstack([widths, widths[:, -1:] * growth])


def default_widths(h: int, levels: Sequence[int]) -> np.ndarray:
    """Random-walk Gaussian widths in MAE units, for when there is no backtest to learn from."""
    z = {80: 1.2816, 95: 1.96}
    steps = np.sqrt(np.arange(1, h + 1))
    # sigma is about 1.25 times the mean absolute one-step error of a Gaussian walk
    return np.vstack([z.get(level, 1.96) * 1.25 * steps for level in levels])


def window_coverage(bt: pd.DataFrame, col: str, h: int, levels: Sequence[int]) -> list[float]:
    """Coverage per level, each window judged by widths learnt from the other windows only."""
    cutoffs = bt["cutoff"].unique()
    if len(cutoffs) < 2:
        return [np.nan] * len(levels)
    scaled = _scaled_errors(bt, col)
    steps = bt["step"].to_numpy()
    hits = np.zeros(len(levels))
    counted = 0
    for cutoff in cutoffs:
        inside = (bt["cutoff"] == cutoff).to_numpy()
        widths = conformal_widths(scaled[~inside], steps[~inside], h, levels)
        judged = inside & np.isfinite(scaled)
        width_at = widths[:, steps[judged] - 1]
        hits += (scaled[judged] <= width_at).sum(axis=1)
        counted += int(judged.sum())
    return list(hits / counted) if counted else [np.nan] * len(levels)


# ---------------------------------------------------------------------------------------------
# The estimator


class Forecaster(BaseEstimator):
    """Global ML models and statistical baselines, chosen and combined by a rolling backtest."""

    def __init__(
        self,
        *,
        freq: str = "M",
        horizon: int = 12,
        models: Sequence[str] = (AUTO,),
        windows: int = 3,
        levels: Sequence[int] = LEVELS,
        random_state: int = 0,
        n_jobs: int = -1,
    ) -> None:
        self.freq = freq
        self.horizon = horizon
        self.models = models
        self.windows = windows
        self.levels = levels
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- fit ------------------------------------------------------------------------------------

    def fit(self, frame: pd.DataFrame) -> Forecaster:
        """Backtest the models, choose the best model or combination, refit it on all data."""
        self._validate_params()
        df = prepare_frame(frame, self.freq)
        self.season_ = SEASON_LENGTH[self.freq]
        self.min_train_ = FEATURES[self.freq].max_lag + self.season_
        self.candidates_ = self._candidate_models()
        self.last_ds_ = df["ds"].max()
        self.ids_ = sorted(df["unique_id"].unique())
        self.scale_ = series_scale(df, self.season_)
        self.ets_forms_: dict[str, str] = {}
        self._classify_series(df)
        bt, seconds = self._backtest(df)
        self._choose(bt, seconds)
        self._fit_final(df)
        self._fit_baselines(df)
        self.features_ = self._features()
        return self

    def _validate_params(self) -> None:
        if self.freq not in PANDAS_FREQ:
            raise SchemaError(f"freq must be one of {', '.join(PANDAS_FREQ)}, not {self.freq!r}")
        if int(self.horizon) < 1 or int(self.windows) < 1:
            raise SchemaError(
                f"horizon and windows must be at least 1 (got {self.horizon}, {self.windows})"
            )
        unknown = set(self._model_names()) - {*MODELS, AUTO}
        if unknown or not self._model_names():
            raise SchemaError(
                f"unknown model(s) {sorted(unknown)}; choose from {', '.join((*MODELS, AUTO))}"
            )

    def _model_names(self) -> tuple[str, ...]:
        return (self.models,) if isinstance(self.models, str) else tuple(self.models)

    def _candidate_models(self) -> tuple[str, ...]:
        names = self._model_names()
        wanted = set(MODELS) if AUTO in names else set(names)
        return tuple(name for name in MODELS if name in wanted)

    def _classify_series(self, df: pd.DataFrame) -> None:
        """Decide per series: full zoo, fewer windows, or a baseline; note why in fallback_."""
        sizes = df.groupby("unique_id", sort=True)["y"].size()
        zeros = df["y"].eq(0).groupby(df["unique_id"], sort=True).all()
        self.n_periods_ = sizes
        self.fallback_ = {}
        h, need = int(self.horizon), self.min_train_
        for uid, n in sizes.items():
            windows = min(int(self.windows), max(0, (n - need) // h))
            if zeros[uid]:
                reason = "all zeros: forecast is zero"
            elif n < need:
                reason = f"{self._baseline_kind(n)}: only {n} periods, models need {need}"
            elif windows == 0:
                reason = f"not backtested: only {n} periods; forecast by the chosen model"
            elif windows < int(self.windows):
                reason = f"backtested on {windows} of {self.windows} windows"
            else:
                continue
            self.fallback_[uid] = reason
        self.model_ids_ = [uid for uid in self.ids_ if not zeros[uid] and sizes[uid] >= need]

    def _baseline_kind(self, n: int) -> str:
        return "seasonal naive" if n >= self.season_ else "moving average"

    def _backtest(self, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
        """Rolling origin: each window is fit only on periods up to its cutoff."""
        h = int(self.horizon)
        offset = pd.tseries.frequencies.to_offset(PANDAS_FREQ[self.freq])
        df = df[df["unique_id"].isin(self.model_ids_)]
        names = tuple(dict.fromkeys(("snaive", *self.candidates_)))
        parts, seconds = [], dict.fromkeys(names, 0.0)
        for k in range(int(self.windows), 0, -1):
            cutoff = self.last_ds_ - offset * (k * h)
            part = self._backtest_window(df, cutoff, names, seconds)
            if part is not None:
                parts.append(part)
        columns = ["unique_id", "ds", "cutoff", "step", "y", "scale", *names]
        bt = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        return bt[columns], seconds

    def _backtest_window(self, df, cutoff, names, seconds) -> pd.DataFrame | None:
        train = df[df["ds"] <= cutoff]
        sizes = train.groupby("unique_id", observed=True)["y"].size()
        train = train[train["unique_id"].isin(sizes.index[sizes >= self.min_train_])]
        if train.empty:
            return None
        train = train.assign(unique_id=train["unique_id"].astype(str))
        fc, took = forecast_models(
            train,
            int(self.horizon),
            names,
            self.freq,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            ets_forms=self.ets_forms_,
        )
        for name, value in took.items():
            seconds[name] += value
        fc["cutoff"] = cutoff
        fc["scale"] = fc["unique_id"].map(series_scale(train, self.season_))
        actual = df[["unique_id", "ds", "y"]]
        return fc.merge(actual, on=["unique_id", "ds"], how="inner")

    # -- choosing ---------------------------------------------------------------------------------

    def _combinations(self, bt: pd.DataFrame) -> list[Combination]:
        """Single models and a few simple combinations worth trying."""
        names = self.candidates_
        combos = [Combination((name,)) for name in names]
        ml = [name for name in names if name in ML_MODELS]
        if ml:
            best_ml = min(ml, key=lambda name: score(bt, name)["mase"])
            for other in ("ets", "snaive"):
                if other in names:
                    combos.append(Combination(tuple(sorted({best_ml, other}, key=MODELS.index))))
            if "gb" in names and "ets" in names:
                combos.append(Combination(("gb", "ets")))
            if len(ml) > 1:
                combos.append(Combination(tuple(ml)))
        if len(names) >= 3:
            combos.append(Combination(names, "median"))
            combos.append(Combination(names, "mean"))
        return list(dict.fromkeys(combos))

    def _choose(self, bt: pd.DataFrame, seconds: dict[str, float]) -> None:
        """Score every model and combination on the backtest; keep the lowest MASE."""
        h, levels = int(self.horizon), tuple(self.levels)
        if bt.empty:
            self._choose_without_backtest(bt, seconds)
            return
        combos = self._combinations(bt)
        if "snaive" not in self.candidates_:
            combos.append(Combination(("snaive",)))  # the reference row
        rows = []
        for combo in combos:
            if combo.name not in bt:
                bt[combo.name] = combo.apply(bt)
            rows.append(self._leaderboard_row(bt, combo, seconds, h, levels))
        board = pd.DataFrame(rows).sort_values("mase", kind="stable", ignore_index=True)
        choosable = board[board["model"].isin([c.name for c in combos if self._allowed(c)])]
        best = choosable["model"].iat[0]
        self.combination_ = next(c for c in combos if c.name == best)
        board["chosen"] = board["model"] == best
        self.leaderboard_ = board
        self._store_backtest(bt, [c.name for c in combos], h, levels)

    def _allowed(self, combo: Combination) -> bool:
        return set(combo.members) <= set(self.candidates_)

    def _leaderboard_row(self, bt, combo, seconds, h, levels) -> dict:
        row = {"model": combo.name, **score(bt, combo.name).to_dict()}
        row["fit_seconds"] = sum(seconds.get(name, 0.0) for name in combo.members)
        for level, covered in zip(levels, window_coverage(bt, combo.name, h, levels), strict=True):
            row[f"coverage_{level}"] = covered
        return row

    def _store_backtest(self, bt: pd.DataFrame, names: list[str], h: int, levels) -> None:
        chosen = self.combination_.name
        self.backtest_ = bt[["unique_id", "ds", "cutoff", "y", *names]].reset_index(drop=True)
        per_series = [score(bt, name, by="unique_id").assign(model=name) for name in names]
        self.per_series_ = (
            pd.concat(per_series)
            .rename_axis("unique_id")
            .reset_index()[["unique_id", "model", "mase", "smape", "mae", "rmse", "r2", "bias"]]
        )
        steps = bt["step"].to_numpy()
        chosen_errors, baseline_errors = _scaled_errors(bt, chosen), _scaled_errors(bt, "snaive")
        self.widths_ = conformal_widths(chosen_errors, steps, h, levels)
        self.baseline_widths_ = conformal_widths(baseline_errors, steps, h, levels)
        notes = [
            *thin_calibration_notes(steps, chosen_errors, levels),
            *thin_calibration_notes(steps, baseline_errors, levels),
        ]
        self.interval_notes_ = list(dict.fromkeys(notes))

    def _choose_without_backtest(self, bt: pd.DataFrame, seconds) -> None:
        preferred = [name for name in ("ets", "gb", *self.candidates_) if name in self.candidates_]
        self.combination_ = Combination((preferred[0],))
        columns = [
            "model",
            "mase",
            "smape",
            "mae",
            "rmse",
            "r2",
            "bias",
            "fit_seconds",
            *(f"coverage_{level}" for level in self.levels),
            "chosen",
        ]
        self.leaderboard_ = pd.DataFrame(columns=columns)
        self.backtest_ = pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
        self.per_series_ = pd.DataFrame(
            columns=["unique_id", "model", "mase", "smape", "mae", "rmse", "r2", "bias"]
        )
        self.widths_ = default_widths(int(self.horizon), self.levels)
        self.baseline_widths_ = self.widths_
        named = " and ".join(f"{level}%" for level in sorted(self.levels))
        self.interval_notes_ = [
            f"{named} ranges: no backtest to calibrate them; they assume Gaussian errors "
            "that grow like a random walk."
        ]

    @property
    def chosen_(self) -> tuple[str, ...]:
        """Member models of the chosen forecast (one name, or several that are combined)."""
        return self.combination_.members

    # -- final fit ------------------------------------------------------------------------------

    def _fit_final(self, df: pd.DataFrame) -> None:
        """Refit the chosen members on all the history of the series they forecast."""
        train = df[df["unique_id"].isin(self.model_ids_)]
        train = train.assign(unique_id=train["unique_id"].astype(str))
        self.ml_models_: dict[str, MLForecast] = {}
        self.stats_models_: dict[str, list[StatsForecast]] = {}
        self.cache_ = pd.DataFrame(columns=["unique_id", "step", "yhat"])
        if train.empty:
            return
        for name in self.chosen_:
            if name in ML_MODELS:
                mlf = make_mlforecast(
                    name,
                    self.freq,
                    random_state=self.random_state,
                    n_jobs=self.n_jobs,
                    n_rows=len(train),
                )
                self.ml_models_[name] = mlf.fit(train, static_features=["category"])
                _single_threaded(mlf.models_[name])
            else:
                self.stats_models_[name] = fit_stats(
                    name, train, self.freq, n_jobs=self.n_jobs, ets_forms=self.ets_forms_
                )
                for fitted in self.stats_models_[name]:
                    # Predicting from fitted models is cheap; a worker pool per call is not
                    # (and in the app server it would fork the whole process on a slider move).
                    fitted.n_jobs = 1
        # Forecasts are deterministic once fitted: computing the usual horizons now makes
        # predict() for a few series a lookup instead of a recursive pass.
        self.cache_horizon_ = max(2 * int(self.horizon), self.season_)
        self.cache_ = self._member_forecasts(self.cache_horizon_, list(self.model_ids_))

    def _features(self) -> list[str]:
        """Features the fitted ML members use, then what the statistical members read."""
        names = [name for mlf in self.ml_models_.values() for name in mlf.ts.features_order_]
        names += [STAT_FEATURES[name] for name in self.stats_models_]
        # no member was fitted when every series is too short: baselines forecast them all
        return list(dict.fromkeys(names)) or [BASELINE_FEATURES]

    def _member_forecasts(self, h: int, ids: list[str]) -> pd.DataFrame:
        """Chosen members' forecasts (clipped at zero) and their combination, for some series."""
        out = _future_index_for(ids, self.last_ds_, h, self.freq)
        keys = pd.MultiIndex.from_frame(out[["unique_id", "ds"]])
        for name, mlf in self.ml_models_.items():
            values = mlf.predict(h, ids=ids).set_index(["unique_id", "ds"])[name]
            out[name] = values.reindex(keys).to_numpy()
        for name, fitted in self.stats_models_.items():
            values = pd.concat([sf.predict(h=h) for sf in fitted]).set_index(["unique_id", "ds"])
            out[name] = values[name].reindex(keys).to_numpy()
        for name in self.chosen_:
            out[name] = np.clip(out[name].to_numpy(dtype=float), 0.0, None)
        out["yhat"] = self.combination_.apply(out)
        return out[["unique_id", "ds", "step", "yhat"]]

    def _fit_baselines(self, df: pd.DataFrame) -> None:
        """Keep the recent history the fallback baselines forecast from."""
        short = [uid for uid in self.ids_ if uid not in set(self.model_ids_)]
        recent = df[df["unique_id"].isin(short)].groupby("unique_id").tail(self.season_)
        self.recent_ = {uid: g["y"].to_numpy() for uid, g in recent.groupby("unique_id")}

    # -- predict --------------------------------------------------------------------------------

    def predict(self, horizon: int | None = None, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Forecast `horizon` periods (default: the fitted horizon) with conformal bounds."""
        check_is_fitted(self, "combination_")
        h = int(self.horizon if horizon is None else horizon)
        if h < 1:
            raise SchemaError(f"horizon must be at least 1, not {horizon}")
        wanted = self._wanted_ids(ids)
        modelled = set(self.model_ids_)
        parts = []
        model_ids = [uid for uid in wanted if uid in modelled]
        if model_ids:
            parts.append(self._predict_models(h, model_ids))
        short = [uid for uid in wanted if uid not in modelled]
        if short:
            parts.append(self._predict_baselines(h, short))
        out = pd.concat(parts, ignore_index=True)
        out = out.sort_values(["unique_id", "ds"], ignore_index=True)
        return out

    def _wanted_ids(self, ids: Sequence[str] | None) -> list[str]:
        if ids is None:
            return list(self.ids_)
        if isinstance(ids, str):
            ids = [ids]
        wanted = [str(uid) for uid in ids]
        unknown = sorted(set(wanted) - set(self.ids_))
        if unknown:
            raise SchemaError(
                f"{len(unknown)} series were not in the fitted data (first: {unknown[0]!r}); "
                "fit again with them"
            )
        return list(dict.fromkeys(wanted))

    def _predict_models(self, h: int, ids: list[str]) -> pd.DataFrame:
        if h <= self.cache_horizon_:
            wanted = pd.Index(ids)
            cached = self.cache_[self.cache_["unique_id"].isin(wanted) & (self.cache_["step"] <= h)]
            out = cached.iloc[np.argsort(wanted.get_indexer(cached["unique_id"]), kind="stable")]
        else:
            out = self._member_forecasts(h, ids)
        widths = extend_widths(self.widths_, h)
        return self._with_bounds(out, out["yhat"].to_numpy(), widths, self.combination_.name)

    def _predict_baselines(self, h: int, ids: list[str]) -> pd.DataFrame:
        out = _future_index_for(ids, self.last_ds_, h, self.freq)
        recent = [self.recent_.get(uid, np.zeros(1)) for uid in ids]
        yhat = np.concatenate([self._baseline(values, h) for values in recent])
        widths = extend_widths(self.baseline_widths_, h)
        kinds = [self.fallback_.get(uid, "baseline").split(":")[0] for uid in ids]
        return self._with_bounds(out, np.clip(yhat, 0.0, None), widths, np.repeat(kinds, h))

    def _baseline(self, recent: np.ndarray, h: int) -> np.ndarray:
        if len(recent) >= self.season_:
            last = recent[-self.season_ :]
            return np.resize(last, h)
        window = max(1, self.season_ // 4)
        return np.full(h, recent[-window:].mean())

    def _with_bounds(self, out: pd.DataFrame, yhat, widths: np.ndarray, model) -> pd.DataFrame:
        scale = out["unique_id"].map(self.scale_).fillna(0.0).to_numpy()
        steps = out["step"].to_numpy() - 1
        result = pd.DataFrame(
            {"unique_id": out["unique_id"], "ds": out["ds"], "model": model, "yhat": yhat}
        )
        for i, level in enumerate(self.levels):
            half = widths[i, steps] * scale
            result[f"lower_{level}"] = np.clip(yhat - half, 0.0, None)
            result[f"upper_{level}"] = np.clip(yhat + half, 0.0, None)
        return result

    # -- inspection -----------------------------------------------------------------------------

    def feature_importances(self) -> dict[str, dict[str, float]]:
        """Impurity importances of the fitted random forest, feature name -> importance."""
        check_is_fitted(self, "combination_")
        result = {}
        mlf = self.ml_models_.get("rf")
        if mlf is not None:
            pipeline: Pipeline = mlf.models_["rf"]
            names = [n.split("__", 1)[-1] for n in pipeline[0].get_feature_names_out()]
            importances = pipeline[-1].feature_importances_
            result["rf"] = dict(
                sorted(zip(names, importances, strict=True), key=lambda item: -item[1])
            )
        return result


def _single_threaded(model: BaseEstimator) -> None:
    """Predict in one thread: faster for a few rows per step, and the same to the last digit."""
    final = model[-1] if isinstance(model, Pipeline) else model
    if isinstance(final, RandomForestRegressor):
        final.n_jobs = 1


def _future_index_for(ids: list[str], last: pd.Timestamp, h: int, freq: str) -> pd.DataFrame:
    dates = pd.date_range(last, periods=h + 1, freq=PANDAS_FREQ[freq])[1:]
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, h),
            "ds": np.tile(dates, len(ids)),
            "step": np.tile(np.arange(1, h + 1), len(ids)),
        }
    )
