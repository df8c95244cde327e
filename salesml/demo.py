"""A seeded, realistic multi-year demo sales file, loaded through the normal ingest path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from salesml.audit import Actor
from salesml.ingest import IngestSummary, LoadProgress, ingest_file

if TYPE_CHECKING:
    from salesml.db import SavedModel

DEMO_FILE_NAME = "demo_sales.csv"
# The model the demo comes with, so the Forecast page has something to show on a first visit:
# a year ahead of each category's monthly revenue, with the automatic model choice.
DEMO_MODEL = {"level": "category", "freq": "M", "target": "revenue", "horizon": 12}
COLUMNS = ("Order ID", "Order Date", "Category", "Product Name", "Quantity", "Revenue")
# The deliberate imperfections, so the cleaning summary and rejection report have content.
BAD_DATES = 10
MISSING_SHARE = 0.001
RETURN_SHARE = 0.01
# Lines of one (day, product) cell are spread over this many baskets, giving ~1.5 lines/order.
ORDER_BUCKETS = 8
PRICE_RISE = 0.03  # list prices rise once a year, on 1 January
NOISE_SIGMA = 0.25


@dataclass(frozen=True)
class _Product:
    category: str
    name: str
    price: float
    lines_per_day: float  # order lines on an ordinary day at the start of the range
    growth: float  # yearly change in volume: 0.25 is +25 % a year, -0.3 is -30 % a year
    units: float  # mean units per order line


CATALOGUE = (
    _Product("Electronics", "Wireless Earbuds", 59.99, 2.6, 0.30, 1.2),
    _Product("Electronics", "Smartwatch", 199.00, 1.6, 0.18, 1.05),
    _Product("Electronics", "27-inch 4K Monitor", 329.00, 1.0, 0.02, 1.05),
    _Product("Electronics", "Portable Speaker", 79.50, 1.8, -0.10, 1.1),
    _Product("Electronics", "USB-C Charger 65W", 34.99, 2.4, 0.05, 1.4),
    _Product("Electronics", "DVD Player", 49.99, 1.4, -0.35, 1.0),
    _Product("Home & Kitchen", "Espresso Machine", 249.00, 1.0, 0.10, 1.0),
    _Product("Home & Kitchen", "Air Fryer", 119.00, 1.4, 0.35, 1.05),
    _Product("Home & Kitchen", "Chef's Knife", 45.00, 1.6, 0.00, 1.2),
    _Product("Home & Kitchen", "Non-Stick Pan Set", 89.00, 1.3, -0.08, 1.05),
    _Product("Home & Kitchen", "Electric Kettle", 39.90, 1.8, 0.03, 1.1),
    _Product("Office Supplies", "Copy Paper A4 (500 sheets)", 6.49, 3.0, -0.05, 4.0),
    _Product("Office Supplies", "Gel Pens (12-pack)", 11.99, 2.2, 0.00, 2.5),
    _Product("Office Supplies", "Stapler", 14.50, 1.2, -0.15, 1.3),
    _Product("Office Supplies", "Ergonomic Office Chair", 289.00, 0.8, 0.15, 1.05),
    _Product("Outdoor", "Camping Tent 4P", 219.00, 0.9, 0.12, 1.0),
    _Product("Outdoor", "Hiking Backpack 40L", 89.00, 1.3, 0.08, 1.05),
    _Product("Outdoor", "Garden Hose 30m", 34.00, 1.6, -0.05, 1.2),
    _Product("Outdoor", "Charcoal Grill", 159.00, 0.9, 0.02, 1.0),
)

# Monthly volume factors (January..December), interpolated day by day.
YEARLY = {
    "Electronics": (0.85, 0.75, 0.8, 0.8, 0.85, 0.85, 0.9, 0.95, 0.95, 1.0, 1.3, 1.6),
    "Home & Kitchen": (0.9, 0.85, 0.95, 1.0, 1.0, 0.95, 0.9, 0.95, 1.0, 1.05, 1.2, 1.35),
    "Office Supplies": (1.15, 1.05, 1.05, 0.95, 0.9, 0.8, 0.7, 1.3, 1.35, 1.0, 0.95, 0.8),
    "Outdoor": (0.4, 0.5, 0.8, 1.2, 1.6, 1.9, 1.9, 1.6, 1.1, 0.7, 0.5, 0.55),
}
# Day-of-week factors (Monday..Sunday): shoppers buy at weekends, offices on weekdays.
WEEKLY = {
    "Electronics": (0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.2),
    "Home & Kitchen": (0.9, 0.9, 0.9, 0.95, 1.05, 1.35, 1.3),
    "Office Supplies": (1.25, 1.25, 1.2, 1.2, 1.1, 0.45, 0.35),
    "Outdoor": (0.8, 0.8, 0.85, 0.9, 1.1, 1.6, 1.5),
}
# How strongly each category follows the Black Friday / Christmas calendar (1 = fully).
HOLIDAY_SENSITIVITY = {
    "Electronics": 1.0,
    "Home & Kitchen": 0.8,
    "Office Supplies": 0.2,
    "Outdoor": 0.35,
}


def generate_demo(
    *, seed: int = 7, start: dt.date = dt.date(2022, 1, 1), end: dt.date = dt.date(2025, 12, 31)
) -> pd.DataFrame:
    """A deterministic shop export (one row per order line) with trends, seasons and flaws."""
    if end < start:
        raise ValueError(f"the demo range ends ({end}) before it starts ({start})")
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    rate, discount = _daily_rates(days, rng)
    lines = _order_lines(days, rate, discount, rng)
    lines = pd.concat([lines, _returns(lines, days[-1], rng)], ignore_index=True)
    lines = lines.sort_values(["date", "Order ID", "Product Name"], ignore_index=True)
    frame = pd.DataFrame(
        {
            "Order ID": lines["Order ID"],
            "Order Date": lines["date"].dt.strftime("%Y-%m-%d"),
            "Category": lines["Category"],
            "Product Name": lines["Product Name"],
            "Quantity": lines["Quantity"].astype("Int64"),
            "Revenue": lines["Revenue"].astype(float),
        }
    )
    return _add_flaws(frame, rng)


def demo_csv_bytes(
    *, seed: int = 7, start: dt.date = dt.date(2022, 1, 1), end: dt.date = dt.date(2025, 12, 31)
) -> bytes:
    """The demo frame as UTF-8 CSV bytes (to be reported as demo_sales.csv)."""
    frame = generate_demo(seed=seed, start=start, end=end)
    return frame.to_csv(index=False, float_format="%.2f", lineterminator="\n").encode("utf-8")


def load_demo(
    engine: Engine,
    *,
    seed: int = 7,
    progress: Callable[[LoadProgress], None] | None = None,
    by: Actor | None = None,
) -> IngestSummary:
    """Generate the demo file and load it through the normal ingest pipeline."""
    return ingest_file(
        engine, demo_csv_bytes(seed=seed), name=DEMO_FILE_NAME, progress=progress, by=by
    )


def train_demo_model(
    engine: Engine,
    *,
    model_dir: Path,
    progress: Callable[[str], None] | None = None,
    by: Actor | None = None,
    default_currency: str = "",
) -> SavedModel:
    """Train and save the demo's ready model (DEMO_MODEL) on the sales in the database."""
    from salesml import training  # the forecasting stack, only when a model is trained

    request = training.TrainRequest(**DEMO_MODEL)
    result = training.train(engine, request, progress=progress, default_currency=default_currency)
    return training.save(
        engine, result, request, model_dir=model_dir, by=by, action="train and save model"
    )


# --------------------------------------------------------------------------- demand


def _daily_rates(days: pd.DatetimeIndex, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Expected order lines per (day, product) and the promotion discount in force."""
    years = np.asarray((days - days[0]).days, dtype=float) / 365.25
    doy = days.dayofyear.to_numpy()
    dow = days.dayofweek.to_numpy()
    holiday = _holiday_effect(days)
    rate = np.empty((len(days), len(CATALOGUE)))
    for j, product in enumerate(CATALOGUE):
        season = _yearly_curve(YEARLY[product.category], doy)
        weekly = np.asarray(WEEKLY[product.category])[dow]
        peaks = 1 + HOLIDAY_SENSITIVITY[product.category] * (holiday - 1)
        trend = (1 + product.growth) ** years
        rate[:, j] = product.lines_per_day * trend * season * weekly * peaks
    boost, discount = _promotions(len(days), rng)
    noise = rng.lognormal(-(NOISE_SIGMA**2) / 2, NOISE_SIGMA, size=rate.shape)
    return rate * boost * noise, discount


def _yearly_curve(monthly: tuple[float, ...], doy: np.ndarray) -> np.ndarray:
    """Monthly factors as a smooth, periodic day-of-year curve."""
    mid_month = np.arange(12) * 30.44 + 15.2
    return np.interp(doy, mid_month, np.asarray(monthly), period=365.25)


def _holiday_effect(days: pd.DatetimeIndex) -> np.ndarray:
    """Volume factor per day for the Black Friday weekend and the Christmas run-up."""
    effect = np.ones(len(days))
    month, day = days.month.to_numpy(), days.day.to_numpy()
    run_up = (month == 12) & (day <= 21)
    effect[run_up] = 1.2 + 0.6 * (day[run_up] - 1) / 20
    december = {22: 1.5, 23: 1.4, 24: 0.7, 25: 0.35, 26: 1.3}
    for d, factor in december.items():
        effect[(month == 12) & (day == d)] = factor
    black_friday = {0: 3.5, 1: 2.2, 2: 1.8, 3: 2.5}  # Friday, weekend, Cyber Monday
    fridays = _black_fridays(days)
    for offset, factor in black_friday.items():
        effect[days.isin(fridays + pd.Timedelta(days=offset))] = factor
    return effect


def _black_fridays(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The day after the fourth Thursday of November, in every year of the range."""
    first = pd.to_datetime([f"{year}-11-01" for year in sorted(set(days.year))])
    thursday = first + pd.to_timedelta((3 - first.dayofweek) % 7 + 21, unit="D")
    return thursday + pd.Timedelta(days=1)


def _promotions(n_days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """About three short promotions per product a year: more volume at a discount."""
    boost = np.ones((n_days, len(CATALOGUE)))
    discount = np.zeros((n_days, len(CATALOGUE)))
    for j in range(len(CATALOGUE)):
        for _ in range(rng.poisson(3 * n_days / 365.25)):
            first = rng.integers(0, n_days)
            window = slice(first, first + rng.integers(3, 11))
            cut = rng.choice((0.1, 0.15, 0.2, 0.25, 0.3))
            discount[window, j] = cut
            boost[window, j] = 1 + 4 * cut
    return boost, discount


# --------------------------------------------------------------------------- order lines


def _order_lines(
    days: pd.DatetimeIndex, rate: np.ndarray, discount: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Draw order lines from the rates and group them into multi-line orders."""
    counts = rng.poisson(rate)
    day = np.repeat(np.arange(len(days)), counts.sum(axis=1))
    product = np.repeat(np.tile(np.arange(len(CATALOGUE)), len(days)), counts.ravel())
    units = np.array([p.units for p in CATALOGUE])[product]
    cut = discount[day, product]
    quantity = 1 + rng.poisson((units - 1) * (1 + cut))
    list_price = _list_prices(days)[day, product]
    return pd.DataFrame(
        {
            "Order ID": _order_ids(counts, day, rng),
            "date": days[day],
            "Category": np.array([p.category for p in CATALOGUE])[product],
            "Product Name": np.array([p.name for p in CATALOGUE])[product],
            "Quantity": quantity,
            "Revenue": np.round(quantity * list_price * (1 - cut), 2),
        }
    )


def _list_prices(days: pd.DatetimeIndex) -> np.ndarray:
    """Each product's list price per day, raised once a year."""
    year = days.year.to_numpy() - days[0].year
    base = np.array([p.price for p in CATALOGUE])
    return np.round(base[None, :] * (1 + PRICE_RISE) ** year[:, None], 2)


def _order_ids(counts: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Order numbers in date order; an order never holds two lines of the same product."""
    cell_start = np.repeat(np.cumsum(counts.ravel()) - counts.ravel(), counts.ravel())
    rank = np.arange(len(day)) - cell_start  # the line's number within its (day, product)
    bucket = rng.integers(0, ORDER_BUCKETS, len(day))
    key = (day * (rank.max(initial=0) + 1) + rank) * ORDER_BUCKETS + bucket
    _, order = np.unique(key, return_inverse=True)
    return np.char.add("SO-", (100_001 + order).astype(str))


def _returns(lines: pd.DataFrame, last_day: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """Some sold lines come back days later: negative quantity and revenue."""
    chosen = rng.choice(len(lines), round(RETURN_SHARE * len(lines)), replace=False)
    picked = lines.iloc[np.sort(chosen)]
    sold = picked["Quantity"].to_numpy()
    back = rng.integers(1, sold + 1)
    later = pd.to_timedelta(rng.integers(2, 31, len(picked)), unit="D")
    return picked.assign(
        **{
            "Order ID": picked["Order ID"].str.replace("SO-", "RET-"),
            "date": (picked["date"] + later).clip(upper=last_day),
            "Quantity": -back,
            "Revenue": -np.round(picked["Revenue"].to_numpy() * back / sold, 2),
        }
    )


def _add_flaws(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Corrupt a few dates and blank a few quantities and revenues, on distinct sale rows."""
    sale = frame["Order ID"].str.startswith("SO-").to_numpy()
    # A mistyped day is plausible only in months shorter than 31 days (2023-04-31, not -32).
    short = pd.to_datetime(frame["Order Date"]).dt.days_in_month.to_numpy() < 31
    pool = np.flatnonzero(sale & short if (sale & short).sum() >= BAD_DATES else sale)
    bad = rng.choice(pool, min(BAD_DATES, len(pool)), replace=False)
    frame.loc[bad, "Order Date"] = _impossible_dates(frame["Order Date"].iloc[bad])
    rest = np.setdiff1d(np.flatnonzero(sale), bad)
    n_missing = max(1, round(MISSING_SHARE * len(frame)))
    blank = rng.choice(rest, min(len(rest), 2 * n_missing), replace=False)
    frame.loc[blank[:n_missing], "Quantity"] = pd.NA
    frame.loc[blank[n_missing:], "Revenue"] = np.nan
    return frame


def _impossible_dates(dates: pd.Series) -> list[str]:
    """The same year and month with the day one past the month's end, e.g. 2023-02-29."""
    parsed = pd.to_datetime(dates, format="%Y-%m-%d")
    return [f"{d.year}-{d.month:02d}-{d.days_in_month + 1}" for d in parsed]
