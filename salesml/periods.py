"""Calendar arithmetic on dates: month ends, months counted back, years shifted."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange

ONE_DAY = dt.timedelta(days=1)


def shift(day: dt.date, days: int, years: int) -> dt.date:
    """The day `days` and then `years` earlier (29 February a year back: the 28th)."""
    day = day - dt.timedelta(days=days)
    if years:
        try:
            day = day.replace(year=day.year - years)
        except ValueError:  # 29 February
            day = day.replace(year=day.year - years, day=28)
    return day


def is_month_end(day: dt.date) -> bool:
    """Whether a day is the last of its month (31 December 9999 included)."""
    return day == dt.date.max or (day + ONE_DAY).day == 1


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after the day's."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    """The first day of the month before the day's."""
    return (day.replace(day=1) - ONE_DAY).replace(day=1)


def months_before(day: dt.date, months: int) -> dt.date:
    """The day after the same date `months` earlier: 5 Mar -> 6 Dec for three months."""
    return months_back(day, months) + ONE_DAY


def months_back(day: dt.date, months: int) -> dt.date:
    """The same date `months` earlier (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


def months_spanned(start: dt.date, end: dt.date) -> int | None:
    """How many months a range covers when it is whole calendar months or months counted
    back from its last day; None for any other range."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if start.day == 1 and is_month_end(end):
        return months + 1
    try:
        return next(n for n in (months, months + 1) if n > 0 and months_before(end, n) == start)
    except (StopIteration, OverflowError, ValueError):  # before year 1
        return None
