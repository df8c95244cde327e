"""The Explorer's views: date presets counted back from the last sale, and a view (filters,
files, measure, grain, rolling window, currency) kept in the page address."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from salesml import periods
from salesml.analytics import GRAINS, MEASURES, Catalogue, Filters

ROLLING_MAX = 12  # the longest rolling average the explorer offers, in periods


# --------------------------------------------------------------------------- date presets


def date_presets(first: dt.date, last: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """Named date ranges counted back from the last sale (not today), cut to the sales.

    A preset with no day of sales in it (last year, for a history started this year)
    is left out.
    """
    year_start = last.replace(month=1, day=1)
    wanted = {
        "All": (first, last),
        "Last 30 days": (last - dt.timedelta(days=29), last),
        "Last 3 months": (periods.months_before(last, 3), last),
        "Last 12 months": (periods.months_before(last, 12), last),
        "Year to date": (year_start, last),
        "Last year": (year_start.replace(year=last.year - 1), year_start - periods.ONE_DAY),
    }
    return {
        name: (max(start, first), min(end, last))
        for name, (start, end) in wanted.items()
        if start <= last and end >= first
    }


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class View:
    """What the Explorer shows: the filters, the measure, the grain, the rolling window and
    the currency picked among several ("" when there is nothing to pick)."""

    filters: Filters
    measure: str = "revenue"
    grain: str = "W"
    rolling: int = 4
    currency: str = ""


# The names a view's parts take in the page address, with the field each one fills.
PARAM_FIELDS = {
    "start": "Dates",
    "end": "Dates",
    "category": "Categories",
    "product": "Products",
    "file": "Files",
    "measure": "Measure",
    "grain": "Grain",
    "rolling": "Rolling average",
    "currency": "Currency",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def view_params(view: View, *, first: dt.date, last: dt.date) -> dict[str, list[str]]:
    """A view as page address parameters; the defaults (whole history, ...) are left out."""
    default, f = View(Filters(first, last)), view.filters
    params = {
        "start": [f.start.isoformat()] if f.start not in (None, first) else [],
        "end": [f.end.isoformat()] if f.end not in (None, last) else [],
        "category": list(f.categories),
        "product": list(f.products),
        "file": [str(batch) for batch in f.batches],
        "measure": [view.measure] if view.measure != default.measure else [],
        "grain": [view.grain] if view.grain != default.grain else [],
        "rolling": [str(view.rolling)] if view.rolling != default.rolling else [],
        "currency": [view.currency] if view.currency else [],
    }
    return {name: values for name, values in params.items() if values}


def parse_view(
    params: Mapping[str, Sequence[str]],
    catalogue: Catalogue,
    *,
    first: dt.date,
    last: dt.date,
    currencies: Sequence[str] = (),
    files: Sequence[int] = (),
) -> tuple[View, list[str]]:
    """The view a page address asks for, and the fields whose values were not understood.

    Whatever is not understood (an unknown category, a malformed date, an unknown
    measure, a currency none of the sales are in: `currencies`, as shown, a file not
    loaded: `files`, by batch id) is left out: every value is checked against a fixed set
    or a strict pattern, so no text from the address reaches the page.
    """
    ignored: set[str] = set()

    def known(name: str, choices: Sequence[str]) -> list[str]:
        values = list(dict.fromkeys(params.get(name, ())))
        kept = [value for value in values if value in set(choices)]
        if len(kept) < len(values):
            ignored.add(PARAM_FIELDS[name])
        return kept

    def one(name: str, choices: Sequence[str], default: str) -> str:
        kept = known(name, choices)
        return kept[-1] if kept else default

    start, end = _param_date(params, "start", first), _param_date(params, "end", last)
    if start is not None and end is not None:
        start, end = max(start, first), min(end, last)  # cut to the sales
    if start is None or end is None or start > end:
        ignored.add("Dates")
        start, end = first, last
    categories = known("category", catalogue.categories())
    products = known("product", catalogue.products(categories))
    batches = [int(batch) for batch in known("file", [str(batch) for batch in files])]
    rolling = one("rolling", [str(n) for n in range(1, ROLLING_MAX + 1)], str(View.rolling))
    view = View(
        Filters(start, end, categories, products, batches=batches),
        measure=one("measure", MEASURES, View.measure),
        grain=one("grain", GRAINS, View.grain),
        rolling=int(rolling),
        currency=one("currency", [unit for unit in currencies if unit], ""),
    )
    return view, [field for field in dict.fromkeys(PARAM_FIELDS.values()) if field in ignored]


def _param_date(params: Mapping[str, Sequence[str]], name: str, default: dt.date) -> dt.date | None:
    """The last value of a date parameter, the default without one, None if malformed."""
    values = params.get(name) or ()
    if not values:
        return default
    if not _ISO_DATE.fullmatch(values[-1]):
        return None
    try:
        return dt.date.fromisoformat(values[-1])
    except ValueError:
        return None
