"""A file's columns, whatever its format: how many it may have, and their names made unique."""

from __future__ import annotations

# Limits on what a file may hold (README: "Input limits").
MAX_COLUMNS = 1_000


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique ('Sales', 'Sales.1'), a blank one named for its place."""
    seen: dict[str, int] = {}
    result = []
    for index, column in enumerate(names):
        column = column or f"Unnamed: {index}"
        if column in seen:
            seen[column] += 1
            column = f"{column}.{seen[column]}"
        seen.setdefault(column, 0)
        result.append(column)
    return result
