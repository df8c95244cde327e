"""Forecasting benchmark: ingest -> train -> forecast on real data, against statsforecast run
directly on the same training data. Prints figures; it is not a pass/fail test.

    python bench/forecast.py [--data aus,walmart] [--quick]
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
from statsforecast.models import AutoETS, Naive, SeasonalNaive  # noqa: E402

from salesml import db, registry, training  # noqa: E402
from salesml.forecasting import MODELS  # noqa: E402
from salesml.ingest import ingest_file  # noqa: E402
from salesml.series import PANDAS_FREQ, SEASON_LENGTH, load_series  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Case:
    """One benchmark: a data set, its frequency, the horizon and the held-out periods."""

    name: str
    freq: str
    horizon: int
    holdout: int


CASES = {
    "aus": [Case("aus_retail h=12", "M", 12, 24), Case("aus_retail h=24", "M", 24, 24)],
    "walmart": [Case("walmart h=13", "W", 13, 12)],
}


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


def direct_baselines(train: pd.DataFrame, case: Case) -> tuple[pd.DataFrame, float]:
    """statsforecast's SeasonalNaive and AutoETS fitted directly on the same training data."""
    season = SEASON_LENGTH[case.freq]
    started = time.perf_counter()
    sf = StatsForecast(
        models=[SeasonalNaive(season_length=season), AutoETS(season_length=season)],
        freq=PANDAS_FREQ[case.freq],
        n_jobs=os.cpu_count() or 1,
        # AutoETS refuses very short series ("tiny datasets"); those get a naive forecast.
        fallback_model=Naive(),
    )
    forecast = sf.forecast(df=train[["unique_id", "ds", "y"]], h=case.holdout)
    return forecast.reset_index(), time.perf_counter() - started


def run_case(case: Case, url: str, model_dir: Path, data: str) -> None:
    """Ingest, train on all but the held-out periods, forecast them and score every method."""
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
    result = training.train(engine, request)
    train_seconds = time.perf_counter() - started
    record = training.save(engine, result, request, model_dir=model_dir)
    model, _ = registry.load_model(engine, record.id, model_dir=model_dir)
    steps = case.holdout  # any horizon: a shorter-horizon model forecasts the whole holdout
    ours = model.predict(horizon=steps)
    one_series = _time_one_series(model, full["unique_id"].iloc[0], 24)

    baselines, baseline_seconds = direct_baselines(train_frame, case)
    held = actual[actual["ds"] <= ours["ds"].max()]
    rows = [
        (
            "SeasonalNaive (statsforecast direct)",
            mase(held, baselines, train_frame, season, "SeasonalNaive"),
            baseline_seconds,
        ),
        (
            "AutoETS (statsforecast direct)",
            mase(held, baselines, train_frame, season, "AutoETS"),
            baseline_seconds,
        ),
    ]
    rows.append(
        (
            f"salesml default ({record.name})",
            mase(held, ours, train_frame, season, "yhat"),
            train_seconds,
        )
    )
    for name in MODELS:
        single = _single_model(engine, request, name, steps)
        rows.append(
            (f"salesml {name}", mase(held, single[0], train_frame, season, "yhat"), single[1])
        )
    _report(case, summary, ingest_seconds, rows, ours, held, train_seconds, one_series)
    engine.dispose()


def _period_end(start: pd.Timestamp, freq: str):
    """The last day of the period that starts on `start`."""
    following = start + pd.tseries.frequencies.to_offset(PANDAS_FREQ[freq])
    return (following - pd.Timedelta(days=1)).date()


def _single_model(engine, request, name: str, steps: int) -> tuple[pd.DataFrame, float]:
    single = training.TrainRequest(**{**request.__dict__, "models": (name,)})
    started = time.perf_counter()
    result = training.train(engine, single)
    seconds = time.perf_counter() - started
    return result.forecaster.predict(horizon=steps), seconds


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


def _report(case, summary, ingest_seconds, rows, ours, held, train_seconds, one_series) -> None:
    snaive, ets = rows[0][1], rows[1][1]
    print(
        f"\n{case.name}: {summary['rows_loaded']:,} rows ingested in {ingest_seconds:.1f} s; "
        f"{held['unique_id'].nunique():,} series, last {case.holdout} periods held out"
    )
    print(f"  {'method':44} {'MASE':>7} {'÷SNaive':>8} {'÷AutoETS':>9} {'seconds':>8}")
    for name, value, seconds in rows:
        print(f"  {name:44} {value:7.3f} {value / snaive:8.3f} {value / ets:9.3f} {seconds:8.1f}")
    default = rows[2][1]
    print(
        f"  interval coverage on the holdout: 80%: {_coverage(ours, held, 80):.1%}, "
        f"95%: {_coverage(ours, held, 95):.1%}"
    )
    print(
        f"  train with backtest: {train_seconds:.1f} s; one-series forecast at h=24 from the "
        f"loaded model: {one_series * 1000:.0f} ms (median of 20)"
    )
    print(
        f"  targets: default ÷ SNaive {default / snaive:.3f} (≤ 0.85: "
        f"{'meets' if default / snaive <= 0.85 else 'misses'}), default ÷ AutoETS "
        f"{default / ets:.3f} (≤ 1.0: {'meets' if default / ets <= 1.0 else 'misses'})"
        + (
            f", train {train_seconds:.1f} s (< 60 s: {'meets' if train_seconds < 60 else 'misses'})"
            if case.freq == "M"
            else ""
        )
        + f", forecast {one_series * 1000:.0f} ms (< 100 ms: "
        f"{'meets' if one_series < 0.1 else 'misses'})"
    )


def main() -> None:
    """Run the chosen cases, each on a fresh SQLite database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="aus,walmart")
    args = parser.parse_args()
    print(f"salesml forecasting benchmark; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    for data in args.data.split(","):
        for case in CASES[data]:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.db"
                engine = db.create_engine_for(url)
                db.init_db(engine)
                engine.dispose()
                run_case(case, url, Path(tmp) / "models", data)


if __name__ == "__main__":
    main()
