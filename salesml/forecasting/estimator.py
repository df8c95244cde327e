"""Forecaster: backtest the zoo, choose a model or combination, refit it, forecast with ranges."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from mlforecast import MLForecast
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from statsforecast import StatsForecast
from threadpoolctl import threadpool_limits

from salesml.errors import SchemaError
from salesml.forecasting import intervals
from salesml.forecasting.frames import future_index, prepare_frame, series_scale
from salesml.forecasting.intervals import LEVELS
from salesml.forecasting.models import (
    BASELINE_FEATURES,
    FEATURES,
    STAT_FEATURES,
    Combination,
    fit_ml,
    forecast_models,
    make_statsforecast,
)
from salesml.frequencies import FREQUENCIES
from salesml.metrics import SCORES, scores
from salesml.zoo import AUTO, ENGINE_VERSION, ML_MODELS, MODELS

# The statistical pair kept when the backtest cannot tell a rival from it.
STAT_PAIR = Combination(("ets", "theta"))

PER_SERIES_COLUMNS = ["unique_id", "model", *SCORES]

_threads_lock = threading.Lock()
_threads_state: dict = {"fits": 0, "limiter": None}


@contextmanager
def one_thread_per_fit() -> Iterator[None]:
    """One OpenMP/BLAS thread while any fit runs in this process, restored after the last.

    The limit is process-wide: two fits overlapping in the app server's threads share it, so
    the first sets it and the last restores it (each restoring its own would leave the
    process on one thread for good).
    """
    with _threads_lock:
        if _threads_state["fits"] == 0:
            _threads_state["limiter"] = threadpool_limits(limits=1)
        _threads_state["fits"] += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_state["fits"] -= 1
            if _threads_state["fits"] == 0:
                _threads_state["limiter"].restore_original_limits()
                _threads_state["limiter"] = None


# Attributes Forecaster._lookup derives from the fitted ones; never pickled.
DERIVED = ("_cache_columns", "_scales", "_widths_by_horizon", "_predict_lock")
_derived_lock = threading.Lock()


class Forecaster(BaseEstimator):
    """Global ML models and statistical models, chosen and combined by a rolling backtest."""

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
        # One OpenMP/BLAS thread per fit: on a busy machine spinning threads cost several times
        # what they save; statsforecast parallelises over series in processes instead.
        with one_thread_per_fit():
            self.engine_version_ = ENGINE_VERSION
            self.season_ = FREQUENCIES[self.freq].season_length
            self.min_train_ = FEATURES[self.freq].max_lag + self.season_
            self.candidates_ = self._candidate_models()
            self.last_ds_ = df["ds"].max()
            self.ids_ = sorted(df["unique_id"].unique())
            self.scale_ = series_scale(df, self.season_)
            self._classify_series(df)
            bt, seconds = self._backtest(df)
            self._choose(bt, seconds)
            self._fit_final(df)
            self._fit_baselines(df)
            self.features_ = self._features()
        return self

    def _validate_params(self) -> None:
        if self.freq not in FREQUENCIES:
            raise SchemaError(f"freq must be one of {', '.join(FREQUENCIES)}, not {self.freq!r}")
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
        offset = pd.tseries.frequencies.to_offset(FREQUENCIES[self.freq].pandas_alias)
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
        )
        for name, value in took.items():
            seconds[name] += value
        fc["cutoff"] = cutoff
        fc["scale"] = fc["unique_id"].map(series_scale(train, self.season_))
        actual = df[["unique_id", "ds", "y"]].assign(unique_id=lambda d: d["unique_id"].astype(str))
        return fc.merge(actual, on=["unique_id", "ds"], how="inner")

    # -- choosing ---------------------------------------------------------------------------------

    def _combinations(self, bt: pd.DataFrame) -> list[Combination]:
        """Single models and the simple combinations worth trying."""
        names = self.candidates_
        combos = [Combination((name,)) for name in names]
        if self._allowed(STAT_PAIR):
            combos.append(STAT_PAIR)
        ml = [name for name in names if name in ML_MODELS]
        if ml:
            best_ml = min(ml, key=lambda name: np.nanmean(intervals.scaled_errors(bt, name)))
            for partners in (("ets",), ("theta",), ("snaive",), ("ets", "theta")):
                if set(partners) <= set(names):
                    members = sorted({best_ml, *partners}, key=MODELS.index)
                    combos.append(Combination(tuple(members)))
            if len(ml) > 1:
                combos.append(Combination(tuple(ml)))
        if len(names) >= 3:
            combos.append(Combination(names, "median"))
            combos.append(Combination(names, "mean"))
        return list(dict.fromkeys(combos))

    def _choose(self, bt: pd.DataFrame, seconds: dict[str, float]) -> None:
        """Score every model and combination on the backtest; keep the lowest MASE."""
        h, levels = int(self.horizon), tuple(self.levels)
        self.choice_note_ = self.choice_rival_ = None
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
        best = self._guard(bt, choosable["model"].iat[0])
        self.combination_ = next(c for c in combos if c.name == best)
        board["chosen"] = board["model"] == best
        self.leaderboard_ = board
        self._store_backtest(bt, [c.name for c in combos], h, levels)

    def _guard(self, bt: pd.DataFrame, best: str) -> str:
        """Keep the ETS+Theta mean unless the best is ahead by more than the backtest's noise.

        Picking the lowest of a dozen backtest scores favours whichever was luckiest; the
        statistical pair is the robust default, so a rival must beat it on (series, window)
        errors by more than one standard error of their mean difference.
        """
        pair = STAT_PAIR.name
        if best == pair or not self._allowed(STAT_PAIR):
            return best
        errors = bt.assign(
            best=intervals.scaled_errors(bt, best), pair=intervals.scaled_errors(bt, pair)
        )
        per_window = errors.groupby(["unique_id", "cutoff"], observed=True)[["best", "pair"]].mean()
        gaps = (per_window["best"] - per_window["pair"]).dropna()
        if len(gaps) >= 2:
            lead = -gaps.mean()
            noise = gaps.std(ddof=1) / math.sqrt(len(gaps))
            if lead > noise:
                return best
        self.choice_rival_ = best
        self.choice_note_ = (
            f"{best} scored best on the backtest, but not by more than the backtest's noise; "
            f"the mean of ETS and Theta is used instead."
        )
        return pair

    def _allowed(self, combo: Combination) -> bool:
        return set(combo.members) <= set(self.candidates_)

    def _leaderboard_row(self, bt, combo, seconds, h, levels) -> dict:
        row = {"model": combo.name, **scores(bt, combo.name, scale="scale").iloc[0].to_dict()}
        row["fit_seconds"] = sum(seconds.get(name, 0.0) for name in combo.members)
        coverage = intervals.window_coverage(bt, combo.name, h, levels)
        for level, covered in zip(levels, coverage, strict=True):
            row[f"coverage_{level}"] = covered
        return row

    def _store_backtest(self, bt: pd.DataFrame, names: list[str], h: int, levels) -> None:
        chosen = self.combination_.name
        self.backtest_ = bt[["unique_id", "ds", "cutoff", "y", *names]].reset_index(drop=True)
        per_series = [
            scores(bt, name, by="unique_id", scale="scale").assign(model=name) for name in names
        ]
        self.per_series_ = (
            pd.concat(per_series).rename_axis("unique_id").reset_index()[PER_SERIES_COLUMNS]
        )
        steps = bt["step"].to_numpy()
        weights = intervals.recency_weights(bt["cutoff"].to_numpy())
        chosen_errors = intervals.scaled_errors(bt, chosen)
        baseline_errors = intervals.scaled_errors(bt, "snaive")
        self.widths_ = intervals.conformal_widths(chosen_errors, steps, h, levels, weights=weights)
        self.baseline_widths_ = intervals.conformal_widths(
            baseline_errors, steps, h, levels, weights=weights
        )
        notes = [
            *intervals.thin_calibration_notes(steps, chosen_errors, levels),
            *intervals.thin_calibration_notes(steps, baseline_errors, levels),
        ]
        self.interval_notes_ = list(dict.fromkeys(notes))

    def _choose_without_backtest(self, bt: pd.DataFrame, seconds) -> None:
        if self._allowed(STAT_PAIR):
            self.combination_ = STAT_PAIR
        else:
            preferred = [
                n for n in ("ets", "theta", "gb", *self.candidates_) if n in self.candidates_
            ]
            self.combination_ = Combination((preferred[0],))
        columns = [
            "model",
            *SCORES,
            "fit_seconds",
            *(f"coverage_{level}" for level in self.levels),
            "chosen",
        ]
        self.leaderboard_ = pd.DataFrame(columns=columns)
        self.backtest_ = pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
        self.per_series_ = pd.DataFrame(columns=PER_SERIES_COLUMNS)
        self.widths_ = intervals.default_widths(int(self.horizon), self.levels)
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
        self.stats_models_: dict[str, StatsForecast] = {}
        self.cache_ = pd.DataFrame(columns=["unique_id", "step", "yhat"])
        if train.empty:
            return
        for name in self.chosen_:
            if name in ML_MODELS:
                self.ml_models_[name] = fit_ml(
                    name, train, self.freq, random_state=self.random_state, n_jobs=self.n_jobs
                )
            else:
                fitted = make_statsforecast(name, self.freq, self.n_jobs)
                fitted.fit(df=train[["unique_id", "ds", "y"]])
                # Predicting from fitted models is cheap; a worker pool per call is not
                # (and in the app server it would fork the whole process on a slider move).
                fitted.n_jobs = 1
                self.stats_models_[name] = fitted
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
        out = future_index(ids, self.last_ds_, h, self.freq)
        keys = pd.MultiIndex.from_frame(out[["unique_id", "ds"]])
        for name, mlf in self.ml_models_.items():
            values = mlf.predict(h, ids=ids).set_index(["unique_id", "ds"])[name]
            out[name] = values.reindex(keys).to_numpy()
        for name, fitted in self.stats_models_.items():
            values = fitted.predict(h=h).set_index(["unique_id", "ds"])[name]
            out[name] = values.reindex(keys).to_numpy()
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
        # Sorted ids give rows already in (unique_id, ds) order when one kind of model serves
        # them all: the usual API and page request, answered without a sort.
        wanted = sorted(self._wanted_ids(ids))
        modelled = set(self.model_ids_)
        parts = []
        model_ids = [uid for uid in wanted if uid in modelled]
        if model_ids:
            parts.append(self._predict_models(h, model_ids))
        short = [uid for uid in wanted if uid not in modelled]
        if short:
            parts.append(self._predict_baselines(h, short))
        if len(parts) == 1:
            return parts[0]
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(["unique_id", "ds"], ignore_index=True)

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
            cached = self._cached_columns()
            take = np.concatenate([cached["rows"][uid][:h] for uid in ids])
            columns = [cached[name][take] for name in ("unique_id", "ds", "step", "yhat")]
        else:
            # mlforecast's predict swaps the fitted series' state in and out: two at once on
            # one model (the server's threads share it) would restore each other's subsets.
            with self._lookup("_predict_lock", threading.Lock):
                out = self._member_forecasts(h, ids)
            columns = [out[name].to_numpy() for name in ("unique_id", "ds", "step", "yhat")]
        extended = self._lookup("_widths_by_horizon", dict)
        if h not in extended:
            extended[h] = intervals.extend_widths(self.widths_, h)
        return self._with_bounds(*columns, extended[h], self.combination_.name)

    def _cached_columns(self) -> dict:
        """The forecast cache as arrays, with each series' rows in step order."""

        def build() -> dict:
            columns = {name: self.cache_[name].to_numpy() for name in self.cache_.columns}
            return {**columns, "rows": self.cache_.groupby("unique_id").indices}

        return self._lookup("_cache_columns", build)

    def _lookup(self, name: str, build):
        """A table derived from fitted attributes, built on first use (also after unpickling)."""
        if name not in self.__dict__:
            with _derived_lock:
                if name not in self.__dict__:
                    self.__dict__[name] = build()
        return self.__dict__[name]

    def __getstate__(self) -> dict:
        # What _lookup derives is rebuilt on first use; a lock cannot be pickled at all.
        state = super().__getstate__()
        return {key: value for key, value in state.items() if key not in DERIVED}

    def _predict_baselines(self, h: int, ids: list[str]) -> pd.DataFrame:
        out = future_index(ids, self.last_ds_, h, self.freq)
        recent = [self.recent_.get(uid, np.zeros(1)) for uid in ids]
        yhat = np.concatenate([self._baseline(values, h) for values in recent])
        widths = intervals.extend_widths(self.baseline_widths_, h)
        kinds = [self.fallback_.get(uid, "baseline").split(":")[0] for uid in ids]
        columns = [out[name].to_numpy() for name in ("unique_id", "ds", "step")]
        return self._with_bounds(*columns, np.clip(yhat, 0.0, None), widths, np.repeat(kinds, h))

    def _baseline(self, recent: np.ndarray, h: int) -> np.ndarray:
        if len(recent) >= self.season_:
            last = recent[-self.season_ :]
            return np.resize(last, h)
        window = max(1, self.season_ // 4)
        return np.full(h, recent[-window:].mean())

    def _with_bounds(self, ids, ds, step, yhat, widths: np.ndarray, model) -> pd.DataFrame:
        scales = self._lookup("_scales", lambda: self.scale_.to_dict())
        scale = np.nan_to_num(np.fromiter((scales.get(u, np.nan) for u in ids), float, len(ids)))
        steps = np.asarray(step, dtype=np.int64) - 1
        yhat = np.asarray(yhat, dtype=float)
        columns = {"unique_id": ids, "ds": ds, "model": model, "yhat": yhat}
        for i, level in enumerate(self.levels):
            half = widths[i, steps] * scale
            columns[f"lower_{level}"] = np.clip(yhat - half, 0.0, None)
            columns[f"upper_{level}"] = np.clip(yhat + half, 0.0, None)
        return pd.DataFrame(columns)

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
