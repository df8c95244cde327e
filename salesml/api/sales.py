"""Sales in: health, loading rows or files, the ingest history, and the Explorer's figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from salesml import analytics, db, deletion, ingest
from salesml.api import schemas
from salesml.api.access import READ, actor, single_user_local
from salesml.api.deps import ServicesDep, UserMayDelete, UserMayLoad
from salesml.api.schemas import BatchId
from salesml.api.services import Services
from salesml.auth import Principal
from salesml.currency import choose as choose_currency
from salesml.errors import AlreadyLoadedError, SchemaError

router = APIRouter()
GRAINS = {"day": "D", "week": "W", "month": "M"}
# Form fields a multipart upload may carry beside `file`.
FORM_FIELDS = (
    "map",
    "date_format",
    "encoding",
    "decimal",
    "currency",
    "drop_returns",
    "keep_duplicates",
    "impute",
    "name",
)
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "map": {
                        "type": "string",
                        "description": 'JSON object field -> column, e.g. {"date": "Order Date"}',
                    },
                    "date_format": {"type": "string"},
                    "encoding": {"type": "string"},
                    "decimal": {"type": "string", "enum": [".", ","]},
                    "currency": {
                        "type": "string",
                        "maxLength": 8,
                        "description": "of the amounts, a code (EUR) or a symbol ($); default: "
                        "the file's currency column or the sign on its amounts, else "
                        "SALESML_CURRENCY",
                    },
                    "drop_returns": {"type": "boolean"},
                    "keep_duplicates": {"type": "boolean"},
                    "impute": {"type": "boolean"},
                    "name": {"type": "string", "description": "batch name (default: file name)"},
                },
            }
        },
        "application/json": {"schema": {"$ref": "#/components/schemas/SalesRowsIn"}},
    },
}


@router.get(
    "/health",
    response_model=schemas.Health,
    tags=["service"],
    dependencies=[Depends(single_user_local)],
)
def health(found: ServicesDep) -> dict:
    """The database the server uses and the migration its schema is at."""
    engine = found.engine()
    return {"status": "ok", "database": db.backend(engine), "schema": db.schema_revision(engine)}


@router.post(
    "/sales",
    status_code=201,
    response_model=schemas.IngestSummaryOut,
    tags=["sales"],
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={200: {"model": schemas.IngestSummaryOut, "description": "nothing new to load"}},
)
async def post_sales(request: Request, found: ServicesDep, user: UserMayLoad) -> dict:
    """Load a file (multipart `file`) or JSON rows as one batch, with every row accounted for.

    The same rows again load nothing: 200 with the summary (no batch, a note why), where a
    load is 201. Same limits and options as the Data page and `python -m salesml ingest`.
    """
    limit = found.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 1024 * 1024:
        raise HTTPException(413, f"the request is {int(declared):,} bytes; the limit is {limit:,}")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data" and not declared.isdigit():
        # A form is written to disk as it arrives; without a length it could be anything.
        raise HTTPException(411, "send the file with a Content-Length (curl -F does)")
    try:
        with found.loads.hold(limit) as grow:
            grow(int(declared) if declared.isdigit() else 0)
            if kind == "multipart/form-data":
                summary = await _ingest_upload(request, found, user)
            elif kind == "application/json" or kind.endswith("+json"):
                summary = await _ingest_json(request, found, user, grow)
            else:
                raise HTTPException(
                    415,
                    "send a file as multipart/form-data (field 'file') or rows as application/json",
                )
    except AlreadyLoadedError as exc:
        # A nightly job on a day without new sales must not fail: a success loading nothing.
        repeat = exc.summary.as_dict()
        body = schemas.IngestSummaryOut(**{**repeat, "notes": [*repeat["notes"], str(exc)]})
        return JSONResponse(body.model_dump(mode="json"), status_code=200)
    found.changed()
    return summary.as_dict()


async def _ingest_upload(
    request: Request, found: Services, user: Principal
) -> ingest.IngestSummary:
    limit = found.settings.max_upload_bytes
    async with request.form(max_files=1, max_fields=len(FORM_FIELDS)) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise SchemaError("the multipart body has no file in a field named 'file'")
        unknown = sorted(set(form.keys()) - {"file", *FORM_FIELDS})
        if unknown:
            raise SchemaError(f"unknown form field(s) {unknown}; use {list(FORM_FIELDS)}")
        if upload.size is not None and upload.size > limit:
            raise HTTPException(
                413, f"{upload.filename}: {upload.size:,} bytes; the limit is {limit:,}"
            )
        data = await upload.read()
        fields = {name: form.get(name) for name in FORM_FIELDS}
        name = _text(fields["name"]) or upload.filename or "upload"
    options = ingest.IngestOptions(
        date_format=_text(fields["date_format"]) or None,
        impute_missing=_flag(fields["impute"], "impute", default=True),
        drop_returns=_flag(fields["drop_returns"], "drop_returns"),
        keep_duplicates=_flag(fields["keep_duplicates"], "keep_duplicates"),
        decimal=_decimal(fields["decimal"]),
        currency=_text(fields["currency"]) or None,
        default_currency=found.settings.currency,
    )
    return await run_in_threadpool(
        lambda: ingest.ingest_file(
            found.engine(),
            data,
            name=name,
            mapping=_mapping(fields["map"]),
            options=options,
            max_bytes=limit,
            encoding=_text(fields["encoding"]) or None,
            by=actor(user),
        )
    )


async def _ingest_json(
    request: Request, found: Services, user: Principal, grow: Callable[[int], None]
) -> ingest.IngestSummary:
    limit = found.settings.max_upload_bytes
    received = bytearray()
    # Counted as it arrives: a body sent without a Content-Length is held to the limit too.
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise HTTPException(413, f"the rows are over the limit of {limit:,} bytes")
        grow(len(received))
    # Validating many rows takes a while: in a worker thread, not on the event loop.
    return await run_in_threadpool(_load_json, found, received, user)


def _load_json(found: Services, body: bytearray, user: Principal) -> ingest.IngestSummary:
    try:
        rows = schemas.SalesRowsIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    options = ingest.IngestOptions(
        date_format=rows.options.date_format,
        impute_missing=rows.options.impute,
        drop_returns=rows.options.drop_returns,
        keep_duplicates=rows.options.keep_duplicates,
        decimal=rows.options.decimal,
        currency=rows.options.currency,
        default_currency=found.settings.currency,
    )
    records = [row.model_dump(exclude_unset=True, mode="json") for row in rows.rows]
    return ingest.ingest_records(
        found.engine(), records, name=rows.name, options=options, by=actor(user)
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, UploadFile):
        raise SchemaError(f"form field {value.filename!r} must be text, not a file")
    return str(value).strip()


def _flag(value: object, name: str, *, default: bool = False) -> bool:
    text = _text(value).lower()
    if value is None or text == "":
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SchemaError(f"form field {name!r} must be true or false, not {text!r}")


def _decimal(value: object) -> str | None:
    text = _text(value)
    if text in ("", ".", ","):
        return text or None
    raise SchemaError(f"form field 'decimal' must be '.' or ',', not {text!r}")


def _mapping(value: object) -> dict[str, str]:
    text = _text(value)
    if not text:
        return {}
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise SchemaError(
            'form field \'map\' must be a JSON object of field -> column, e.g. {"date": "Day"}'
        )
    return mapping


@router.get("/batches", response_model=list[schemas.BatchOut], tags=["sales"], dependencies=[READ])
def list_batches(found: ServicesDep) -> list:
    """Every loaded batch, newest first."""
    return db.list_batches(found.engine())


@router.get(
    "/batches/{batch_id}", response_model=schemas.BatchOut, tags=["sales"], dependencies=[READ]
)
def get_batch(found: ServicesDep, batch_id: BatchId) -> object:
    """One batch: its file, when, and how its rows were accounted for."""
    return db.get_batch(found.engine(), batch_id)


@router.get(
    "/batches/{batch_id}/rejections",
    response_model=list[schemas.RejectionOut],
    tags=["sales"],
    dependencies=[READ],
)
def batch_rejections(found: ServicesDep, batch_id: BatchId) -> list:
    """Every row of the batch that was not loaded, with the reason."""
    return db.batch_rejections(found.engine(), batch_id)


@router.delete("/batches/{batch_id}", status_code=204, tags=["sales"])
def delete_batch(found: ServicesDep, batch_id: BatchId, user: UserMayDelete) -> Response:
    """Delete a batch with the sales rows it loaded and its rejection report."""
    deletion.delete_batch(found.engine(), batch_id, by=actor(user))
    found.changed()
    return Response(status_code=204)


@router.get(
    "/sales/summary", response_model=schemas.SalesSummaryOut, tags=["sales"], dependencies=[READ]
)
def sales_summary(
    found: ServicesDep,
    start: schemas.Day | None = None,
    end: schemas.Day | None = None,
    category: Annotated[list[str], Query(max_length=1_000)] = [],  # noqa: B006 - FastAPI's way
    product: Annotated[list[str], Query(max_length=10_000)] = [],  # noqa: B006
    grain: Literal["day", "week", "month"] = "week",
    measure: Literal["revenue", "quantity"] = "revenue",
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    rolling: Annotated[int, Query(ge=1, le=366)] = 4,
    currency: Annotated[str | None, Query(max_length=8)] = None,
) -> dict:
    """The Explorer's figures for these filters: totals, over time, by category, top products.

    Amounts are in one currency: a database of several needs `currency`."""
    if start and end and start > end:
        raise SchemaError(f"start {start} is after end {end}")
    engine = found.engine()
    default = found.settings.currency
    unit, kept = choose_currency(
        analytics.currencies(engine, default=default), currency, default=default
    )
    filters = analytics.Filters(start, end, category, product, kept)
    summary = analytics.summarise(engine, filters)
    kpis = summary.kpis()
    over_time = summary.over_time(grain=GRAINS[grain], measure=measure, rolling=rolling)
    top_products = analytics.top_products(engine, filters, n=top, measure=measure)
    return {
        "currency": unit,
        "kpis": {**kpis.__dict__, "average_line_value": round(kpis.average_line_value, 2)},
        "over_time": [
            {"period": ds.date(), "value": value}
            for ds, value in zip(over_time["ds"], over_time["value"], strict=True)
        ],
        "by_category": summary.by_category().to_dict("records"),
        "top_products": top_products.to_dict("records"),
    }
