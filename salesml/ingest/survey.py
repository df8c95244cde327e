"""A first reading of a large file, for what holds for all of it: its date order, its decimal
mark, its currency and the means its gaps are filled with; and how many rows it has."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesml.errors import FileFormatError
from salesml.ingest import dates, numbers
from salesml.ingest.progress import Clock
from salesml.ingest.reading import CsvStream
from salesml.ingest.summary import IngestOptions
from salesml.ingest.validate import (
    MISSING,
    NUMERIC_FIELDS,
    Decisions,
    Report,
    checked,
    column_evidence,
    currency_evidence,
    decide_currency,
    is_missing,
    money_label,
    new_summary,
)


def survey(
    stream: CsvStream, mapping, options: IngestOptions, clock: Clock
) -> tuple[Decisions, int]:
    """Read the columns the whole file's decisions depend on: its date order, its decimal
    mark and, when it has gaps to fill, the means to fill them with; and count its rows."""
    clock.stage("checking", 0.0, 0.1)
    numeric = {f: mapping[f] for f in NUMERIC_FIELDS if f in mapping}
    found_dates: dict[str, str] = {}
    found_numbers: dict[str, numbers.Evidence] = {}
    gaps, rows, given = False, 0, numbers.check_mark(options.decimal)
    named, signs = set(), set()
    read = [
        mapping["date"],
        *numeric.values(),
        *([mapping["currency"]] if "currency" in mapping else []),
    ]
    for frame, share in stream.frames(list(dict.fromkeys(read))):
        rows += len(frame)
        if not options.currency:
            found = currency_evidence(frame, mapping)
            named, signs = named | found[0], signs | found[1]
        if not options.date_format:
            found_dates = dates.merge(found_dates, dates.evidence(frame[mapping["date"]]))
        gaps = gaps or any(_any_missing(frame[column]) for column in numeric.values())
        for field_name, column in ({} if given else numeric).items():
            earlier = found_numbers.get(field_name)
            if earlier and _settled(earlier, frame[column]):
                continue
            evidence = column_evidence(column, frame[column])
            found_numbers[field_name] = numbers.merge(earlier, evidence) if earlier else evidence
        clock.report(share)
    if rows == 0:
        raise FileFormatError(f"{stream.name}: the file has a header but no data rows")
    order = None if options.date_format else dates.decide_order(found_dates)
    decimal = given or numbers.decide(found_numbers)
    unit = decide_currency(named, signs, options)
    decisions = Decisions(order, decimal, {}, unit)
    if gaps and options.impute_missing:
        clock.stage("checking", 0.1, 0.2)
        means = _means(stream, mapping, options, decisions, clock)
        decisions = Decisions(order, decimal, means, unit)
    return decisions, rows


def _any_missing(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.ArrowDtype):  # in pyarrow, without a Python string
        return bool(values.str.strip().str.lower().isin(list(MISSING)).any())
    return bool(is_missing(values).any())


def _settled(earlier: numbers.Evidence, values: pd.Series) -> bool:
    """Whether a column's values can add nothing to the decimal mark its earlier values
    showed: they have one mark and these values never show the other."""
    if bool(earlier.point) == bool(earlier.comma):
        return False
    other = "," if earlier.point else "."
    return not values.str.contains(other, regex=False).any()


def _means(stream: CsvStream, mapping, options, decisions: Decisions, clock) -> dict:
    """The means the whole file's gaps are filled with: of the accepted rows' values, as
    validation imputes them for a file read whole."""
    money = money_label(mapping)
    sums = dict.fromkeys(("quantity", money, "money where quantity is known"), (0.0, 0))
    scratch = new_summary("", "", None, mapping)

    def add(name: str, values: np.ndarray) -> None:
        total, count = sums[name]
        sums[name] = (total + float(values.sum()), count + values.size)

    for frame, share in stream.frames():
        report = Report(frame)
        _, _, _, quantity, amount = checked(frame, mapping, options, decisions, report, scratch)
        known = ~report.bad & ~np.isnan(amount)
        add("quantity", quantity[~report.bad & ~np.isnan(quantity)])
        add(money, amount[known])
        add("money where quantity is known", amount[known & ~np.isnan(quantity)])
        clock.report(share)

    def mean(name: str) -> float | None:
        total, count = sums[name]
        return total / count if count else None

    quantity_mean = mean("quantity")
    # With no quantity to impute from, rows missing one are rejected before the money's mean.
    money_mean = mean(money if quantity_mean is not None else "money where quantity is known")
    return {"quantity": quantity_mean, money: money_mean}
