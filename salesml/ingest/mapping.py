"""Which of a file's columns holds each field: the user's choice, else a known header name."""

from __future__ import annotations

import re
from collections.abc import Mapping

from salesml.choices import FIELDS
from salesml.errors import SchemaError

REQUIRED = ("date", "product_name")
# Header names recognised for each field, compared after lower-casing and dropping
# spaces, underscores and dashes.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "orderdate", "invoicedate", "transactiondate", "saledate", "day", "month"),
    "product_name": ("productname", "product", "description", "item", "itemname", "sku"),
    "category": ("category", "productcategory", "department", "dept", "industry"),
    "quantity": ("quantity", "qty", "units", "unitssold", "quantitysold"),
    "revenue": ("revenue", "sales", "amount", "total", "turnover", "weeklysales", "salesamount"),
    "unit_price": ("unitprice", "price", "priceeach"),
    "currency": ("currency", "currencycode", "curr"),
}


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.lower())


def detect_mapping(
    columns: list[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map salesml fields to the file's columns: overrides first, then known header names."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise SchemaError(
            f"unknown field(s) {', '.join(unknown)} in the mapping; use {', '.join(FIELDS)}",
            setting="mapping",
        )
    missing = {f: c for f, c in overrides.items() if c not in columns}
    if missing:
        field_name, column = next(iter(missing.items()))
        raise SchemaError(
            f"mapping {field_name}={column!r}: the file has no column {column!r} "
            f"(columns: {', '.join(columns)})",
            setting="mapping",
        )
    mapping = dict(overrides)
    taken = set(mapping.values())
    by_name = {_normalise(c): c for c in reversed(columns)}
    for field_name in FIELDS:
        if field_name in mapping:
            continue
        for synonym in SYNONYMS[field_name]:
            column = by_name.get(synonym)
            if column is not None and column not in taken:
                mapping[field_name] = column
                taken.add(column)
                break
    if "revenue" in mapping and "unit_price" in mapping and "unit_price" not in overrides:
        del mapping["unit_price"]
    return mapping


def missing_fields(mapping: Mapping[str, str]) -> list[tuple[str, ...]]:
    """The required fields a mapping lacks, each as its alternatives (revenue or unit_price)."""
    absent: list[tuple[str, ...]] = [(f,) for f in REQUIRED if f not in mapping]
    if "revenue" not in mapping and "unit_price" not in mapping:
        absent.append(("revenue", "unit_price"))
    elif "revenue" not in mapping and "quantity" not in mapping:
        absent.append(("quantity",))  # revenue is then quantity × unit price
    return absent


def check_mapping(mapping: Mapping[str, str], columns: list[str]) -> None:
    """Raise SchemaError naming each required field the file lacks."""
    absent = missing_fields(mapping)
    if absent:
        shown = ", ".join(repr(c) for c in columns[:12])
        if len(columns) == 1:
            shown += " (one column: is the delimiter one of , ; tab |?)"
        names = ", ".join(" or ".join(group) for group in absent)
        raise SchemaError(
            f"missing required column(s): {names}. The file has {shown}; "
            "map them to the file's columns",
            setting="mapping",
        )
