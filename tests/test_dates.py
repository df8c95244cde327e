"""Dates: ISO, day-first and month-first inferred from the data, or refused when ambiguous."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.errors import AmbiguousDateError
from salesml.ingest.dates import parse_dates


def parse(values, fmt=None):
    dates, order, bad = parse_dates(pd.Series(values, dtype=object), fmt)
    return [str(d) if not np.isnat(d) else None for d in dates], order, bad.tolist()


def test_iso_dates_with_or_without_a_time_are_read():
    dates, order, _ = parse(["2024-01-05", "2024-12-31 23:59:00", "2024-02-29T08:00"])
    assert dates == ["2024-01-05", "2024-12-31", "2024-02-29"]
    assert order == "year-month-day"


def test_day_first_is_inferred_when_a_day_is_above_12():
    dates, order, _ = parse(["03/04/2024", "25/04/2024"])
    assert order == "day-month-year"
    assert dates == ["2024-04-03", "2024-04-25"]


def test_month_first_is_inferred_when_a_second_field_is_above_12():
    dates, order, _ = parse(["03/04/2024", "04/25/2024"])
    assert order == "month-day-year"
    assert dates == ["2024-03-04", "2024-04-25"]


def test_two_digit_years_follow_the_strptime_convention():
    dates, _, _ = parse(["08-11-16", "31-12-99"])
    assert dates == ["2016-11-08", "1999-12-31"]


def test_an_ambiguous_file_is_refused_with_a_request_for_a_format():
    with pytest.raises(AmbiguousDateError, match="give the date format"):
        parse(["03/04/2024", "05/06/2024"])


def test_mixed_day_first_and_month_first_dates_are_refused():
    with pytest.raises(AmbiguousDateError, match="mix"):
        parse(["25/04/2024", "04/25/2024"])


def test_mixed_iso_and_local_dates_are_refused():
    with pytest.raises(AmbiguousDateError, match="mix"):
        parse(["2024-04-25", "25/04/2024"])


def test_an_explicit_format_decides_and_other_values_are_bad():
    dates, order, bad = parse(["03/04/2024", "2024-04-03"], "%d/%m/%Y")
    assert order == "%d/%m/%Y"
    assert dates[0] == "2024-04-03"
    assert bad == [False, True]


def test_impossible_and_unparsable_dates_are_marked_bad_and_blanks_are_not():
    dates, _, bad = parse(["2024-02-30", "soon", "", "2024-02-29"])
    assert dates[3] == "2024-02-29"
    assert bad == [True, True, False, False]


def test_spelled_out_months_are_read():
    dates, _, _ = parse(["5 Jan 2024", "Feb 7, 2024"])
    assert dates == ["2024-01-05", "2024-02-07"]


def test_an_invalid_date_format_is_a_clear_error():
    from salesml.errors import SchemaError

    with pytest.raises(SchemaError, match="date format '%Q' is not valid"):
        parse(["2024-01-01"], "%Q")
