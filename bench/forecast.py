"""Forecasting benchmark: ingest -> train -> forecast on real data, against statsforecast run
directly on the same training data. Prints figures; it is not a pass/fail test.

    python bench/forecast.py [--cases aus-12,aus-24,walmart-13] [--singles]

The yardsticks, fitted in the same run on the same training data with statsforecast:
SeasonalNaive, AutoETS, AutoTheta and the mean of AutoETS and AutoTheta. Two times are
reported for them: one fit of AutoETS + AutoTheta on the whole training data, and the same
backtest salesml runs (rolling-origin cross-validation with the same windows and horizon)
plus that final fit, which is the work salesml's training does.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from statsforecast import StatsForecast  # noqa: E402
from statsforecast.models import AutoETS, AutoTheta, Naive, SeasonalNaive  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from salesml import db, registry, training  # noqa: E402
from salesml.ingest import ingest_file  # noqa: E402
from salesml.series import PANDAS_FREQ, SEASON_LENGTH, load_series  # noqa: E402
from salesml.zoo import MODELS  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Case:
    """One benchmark: a data set, its frequency, the horizon and the held-out periods."""

    name: str
    freq: str
    horizon: int
    holdout: int


CASES = {
    "aus-12": ("aus", Case("aus_retail h=12", "M", 12, 24)),
    "aus-24": ("aus", Case("aus_retail h=24", "M", 24, 24)),
    "walmart-13": ("walmart", Case("walmart h=13", "W", 13, 12)),
}
WINDOWS = 3  # salesml's default backtest


def ingest_aus(engine) -> dict:
    """Australian retail: one series per ABS Series ID, industry as the category."""
    mapping = {
        "date": "Month",
        "product_name": "Series ID",
        "category": "Industry",
        "revenue": "Turnover",
    }
    return ingest_file(engine, DATA / "aus_retail.csv.gz", mapping=mapping).as_dict()


def ingest_walmart(engine) -> dict:
    """Walmart: one series per store and department, the department as the category."""
    sales = pd.read_csv(DATA / "walmart_weekly_train.csv.zip")
    export = pd.DataFrame(
        {
            "Date": sales["Date"],
            "Series": "store " + sales["Store"].astype(str) + " dept " + sales["Dept"].astype(str),
            "Category": "dept " + sales["Dept"].astype(str),
            "Sales": sales["Weekly_Sales"],
        }
    )
    buffer = io.BytesIO()
    export.to_csv(buffer, index=False)
    mapping = {"product_name": "Series", "revenue": "Sales"}
    return ingest_file(engine, buffer.getvalue(), name="walmart.csv", mapping=mapping).as_dict()


def mase(
    actual: pd.DataFrame, forecast: pd.DataFrame, train: pd.DataFrame, season: int, column: str
) -> float:
    """Mean over series of MAE / in-sample seasonal-naive MAE (series with zero scale skipped)."""
    scale = train.groupby("unique_id")["y"].apply(lambda y: _seasonal_mae(y.to_numpy(), season))
    joined = actual.merge(forecast[["unique_id", "ds", column]], on=["unique_id", "ds"])
    errors = joined.assign(e=(joined["y"] - joined[column]).abs()).groupby("unique_id")["e"].mean()
    ratio = (errors / scale.reindex(errors.index)).replace([np.inf, -np.inf], np.nan)
    return float(ratio.dropna().mean())


def _seasonal_mae(y: np.ndarray, season: int) -> float:
    if len(y) <= season:
        return np.nan
    value = float(np.mean(np.abs(y[season:] - y[:-season])))
    return value if value > 0 else np.nan


def _statsforecast(case: Case) -> StatsForecast:
    season = SEASON_LENGTH[case.freq]
    return StatsForecast(
        models=[
            SeasonalNaive(season_length=season),
            AutoETS(season_length=season),
            AutoTheta(season_length=season),
        ],
        freq=PANDAS_FREQ[case.freq],
        n_jobs=os.cpu_count() or 1,
        # AutoETS refuses very short series ("tiny datasets"); those get a naive forecast.
        fallback_model=Naive(),
    )


def direct_baselines(train: pd.DataFrame, case: Case) -> tuple[pd.DataFrame, float, float]:
    """statsforecast fitted directly: forecasts, seconds of one fit, seconds of the backtest."""
    y = train[["unique_id", "ds", "y"]]
    started = time.perf_counter()
    forecast = _statsforecast(case).forecast(df=y, h=case.holdout).reset_index(drop=True)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    long_enough = y.groupby("unique_id")["y"].transform("size") > WINDOWS * case.horizon + 2
    _statsforecast(case).cross_validation(
        df=y[long_enough], h=case.horizon, n_windows=WINDOWS, step_size=case.horizon
    )
    backtest_seconds = time.perf_counter() - started
    forecast["ETS+Theta"] = forecast[["AutoETS", "AutoTheta"]].mean(axis=1)
    return forecast, fit_seconds, backtest_seconds + fit_seconds


def warm_up(case: Case) -> None:
    """Compile statsforecast's numba code before anything is timed, for salesml and baseline."""
    season = SEASON_LENGTH[case.freq]
    dates = pd.date_range("2000-01-01", periods=4 * season, freq=PANDAS_FREQ[case.freq])
    y = 100 + 10 * np.sin(np.arange(len(dates)) * 2 * np.pi / season) + np.arange(len(dates))
    tiny = pd.DataFrame({"unique_id": "warm", "ds": dates, "y": y})
    _statsforecast(case).forecast(df=tiny, h=2)


def run_case(case: Case, url: str, model_dir: Path, data: str, singles: bool) -> None:
    """Ingest, train on all but the held-out periods, forecast them and score every method."""
    warm_up(case)
    engine = db.create_engine_for(url)
    started = time.perf_counter()
    summary = (ingest_aus if data == "aus" else ingest_walmart)(engine)
    ingest_seconds = time.perf_counter() - started
    full = load_series(engine, level="product", freq=case.freq).frame
    cutoff = full["ds"].drop_duplicates().sort_values().iloc[-case.holdout - 1]
    train_frame = full[full["ds"] <= cutoff]
    actual = full[full["ds"] > cutoff][["unique_id", "ds", "y"]]
    season = SEASON_LENGTH[case.freq]

    request = training.TrainRequest(
        level="product",
        freq=case.freq,
        target="revenue",
        horizon=case.horizon,
        end=_period_end(cutoff, case.freq),
    )
    started = time.perf_counter()
    with threadpool_limits(1, user_api="openmp"):
        result = training.train(engine, request)
    train_seconds = time.perf_counter() - started
    record = training.save(engine, result, request, model_dir=model_dir)
    model, _ = registry.load_model(engine, record.id, model_dir=model_dir)
    steps = case.holdout  # any horizon: a shorter-horizon model forecasts the whole holdout
    ours = model.predict(horizon=steps)
    one_series = _time_one_series(model, full["unique_id"].iloc[0], 24)

    baselines, fit_seconds, backtest_seconds = direct_baselines(train_frame, case)
    held = actual[actual["ds"] <= ours["ds"].max()]
    rows = [
        (f"{column} (statsforecast direct)", mase(held, baselines, train_frame, season, column))
        for column in ("SeasonalNaive", "AutoETS", "AutoTheta", "ETS+Theta")
    ]
    rows.append((f"salesml default ({record.name})", mase(held, ours, train_frame, season, "yhat")))
    if singles:
        for name in MODELS:
            single = _single_model(engine, request, name, steps)
            rows.append((f"salesml {name}", mase(held, single, train_frame, season, "yhat")))
    times = (train_seconds, fit_seconds, backtest_seconds)
    _report(case, summary, ingest_seconds, rows, ours, held, times, one_series, result.notes)
    engine.dispose()


def _period_end(start: pd.Timestamp, freq: str):
    """The last day of the period that starts on `start`."""
    following = start + pd.tseries.frequencies.to_offset(PANDAS_FREQ[freq])
    return (following - pd.Timedelta(days=1)).date()


def _single_model(engine, request, name: str, steps: int) -> pd.DataFrame:
    single = training.TrainRequest(**{**request.__dict__, "models": (name,)})
    with threadpool_limits(1, user_api="openmp"):
        result = training.train(engine, single)
    return result.forecaster.predict(horizon=steps)


def _time_one_series(model, uid: str, horizon: int) -> float:
    model.predict(horizon=horizon, ids=[uid])
    times = []
    for _ in range(20):
        started = time.perf_counter()
        model.predict(horizon=horizon, ids=[uid])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _coverage(forecast: pd.DataFrame, actual: pd.DataFrame, level: int) -> float:
    joined = actual.merge(forecast, on=["unique_id", "ds"])
    inside = joined["y"].between(joined[f"lower_{level}"], joined[f"upper_{level}"])
    return float(inside.mean())


def _report(case, summary, ingest_seconds, rows, ours, held, times, one_series, notes) -> None:
    train_seconds, fit_seconds, backtest_seconds = times
    by_name = {name.split(" (")[0]: value for name, value in rows}
    snaive, ets, pair = by_name["SeasonalNaive"], by_name["AutoETS"], by_name["ETS+Theta"]
    print(
        f"\n{case.name}: {summary['rows_loaded']:,} rows ingested in {ingest_seconds:.1f} s; "
        f"{held['unique_id'].nunique():,} series, last {case.holdout} periods held out"
    )
    print(f"  {'method':44} {'MASE':>7} {'÷SNaive':>8} {'÷AutoETS':>9} {'÷ETS+Theta':>11}")
    for name, value in rows:
        print(
            f"  {name:44} {value:7.3f} {value / snaive:8.3f} {value / ets:9.3f} "
            f"{value / pair:11.3f}"
        )
    default = rows[4][1]
    c80, c95 = _coverage(ours, held, 80), _coverage(ours, held, 95)
    print(f"  interval coverage on the holdout: 80%: {c80:.1%}, 95%: {c95:.1%}")
    print(
        f"  train with backtest {train_seconds:.1f} s; statsforecast SN+AutoETS+AutoTheta: one "
        f"fit {fit_seconds:.1f} s, same backtest + fit {backtest_seconds:.1f} s; one-series "
        f"forecast at h=24 from the loaded model {one_series * 1000:.0f} ms (median of 20)"
    )
    for note in notes:
        print(f"  note: {note}")
    checks = [
        ("default ÷ ETS+Theta", default / pair, "≤ 0.95", default / pair <= 0.95),
        ("coverage 80%", c80, "75-85%", 0.75 <= c80 <= 0.85),
        ("coverage 95%", c95, "90-100%", c95 >= 0.90),
        (
            "train ÷ same backtest",
            train_seconds / backtest_seconds,
            "≤ 1.5",
            train_seconds / backtest_seconds <= 1.5,
        ),
        ("train ÷ one fit", train_seconds / fit_seconds, "(for reference)", True),
    ]
    print(
        "  targets: "
        + "; ".join(
            f"{label} {value:.3f} ({target}: {'meets' if ok else 'misses'})"
            for label, value, target, ok in checks
        )
    )


def main() -> None:
    """Run the chosen cases, each on a fresh SQLite database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default=",".join(CASES), help=f"of {', '.join(CASES)}")
    parser.add_argument("--singles", action="store_true", help="also train each model alone")
    args = parser.parse_args()
    print(f"salesml forecasting benchmark; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    for key in args.cases.split(","):
        data, case = CASES[key]
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            engine = db.create_engine_for(url)
            db.init_db(engine)
            engine.dispose()
            run_case(case, url, Path(tmp) / "models", data, args.singles)


if __name__ == "__main__":
    main()
