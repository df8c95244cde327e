"""The API's request and response bodies: the contract other systems program against."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    create_model,
    model_validator,
)

from salesml import training
from salesml.choices import BATCH_COUNTERS, SUMMARY_COUNTERS
from salesml.series import FREQS, LEVELS, TARGETS
from salesml.zoo import AUTO, MODELS

Level = Literal[LEVELS]  # type: ignore[valid-type]
Freq = Literal[FREQS]  # type: ignore[valid-type]
Target = Literal[TARGETS]  # type: ignore[valid-type]
ModelName = Literal[(AUTO, *MODELS)]  # type: ignore[valid-type]
ASKED = training.TrainRequest()  # what a training request holds when a field is left out
# Ids are database integers: a larger one cannot exist, so it is refused as input.
MAX_ID = 2**31 - 1
BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]
ModelId = Annotated[int, Path(ge=1, le=MAX_ID)]
# Times are stored as the server's local time; they go out with its UTC offset (RFC 3339).
Timestamp = Annotated[dt.datetime, AfterValidator(lambda v: v if v.tzinfo else v.astimezone())]
# The days the server can count in: pandas' nanosecond timestamps end in Sept 1677 and
# April 2262, and a week or month around a date must fit too.
FIRST_DAY, LAST_DAY = dt.date(1678, 1, 1), dt.date(2261, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: object) -> dt.date:
    """A date written YYYY-MM-DD within FIRST_DAY..LAST_DAY; never a number read as seconds."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        value = dt.date.fromisoformat(value)  # a ValueError names an impossible day
    elif type(value) is not dt.date:
        raise ValueError("a date is written YYYY-MM-DD")
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"a date must be between {FIRST_DAY} and {LAST_DAY}, not {value}")
    return value


Day = Annotated[dt.date, BeforeValidator(_day)]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


# An id a response holds once the thing exists (a job's model, a load's batch): left out
# until then, never null, so that a client or a schema tool following it to the operation
# that takes it (GET /models/{model_id}) never asks for /models/None.
_LATER = Field(exclude_if=lambda value: value is None, json_schema_extra=_no_default)
LaterId = Annotated[int | None, WithJsonSchema({"type": "integer"}), _LATER]
LaterRunId = Annotated[str | None, WithJsonSchema({"type": "string"}), _LATER]
# A cell as a file would hold it: text, a number, or nothing; validation happens in ingest.
Cell = str | float | None


class Strict(BaseModel):
    """Bodies refuse fields they do not know, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    status: Literal["ok"]
    database: str = Field(description="sqlite or mysql")
    schema_: str = Field(alias="schema", description="the migration the schema is at")

    model_config = ConfigDict(populate_by_name=True)


class IngestOptionsIn(Strict):
    date_format: str | None = Field(None, max_length=100, examples=["%d/%m/%Y"])
    decimal: Literal[".", ","] | None = None
    currency: str | None = Field(
        None,
        max_length=8,
        examples=["EUR"],
        description="of the amounts; default: the rows' currency, else SALESML_CURRENCY",
    )
    drop_returns: StrictBool = False
    keep_duplicates: StrictBool = False
    impute: StrictBool = Field(True, description="fill a missing quantity or revenue from the rest")


class SalesRow(Strict):
    date: str | dt.date = Field(examples=["2024-03-01"])
    product_name: Cell
    category: Cell = None
    quantity: Cell = None
    revenue: Cell = None
    unit_price: Cell = None
    currency: str | None = Field(None, max_length=8, examples=["EUR"])


class SalesRowsIn(Strict):
    rows: list[SalesRow] = Field(
        min_length=1, max_length=100_000, description="up to 100,000; send more as a file"
    )
    options: IngestOptionsIn = Field(default_factory=IngestOptionsIn)
    name: str = Field("api", min_length=1, max_length=255, description="batch name")


def _counters(names: tuple[str, ...]) -> dict[str, object]:
    """Required integer fields, one per counter (salesml.choices), in its order."""
    return {name: (int, ...) for name in names}


# The ingest summary (salesml.ingest.IngestSummary) as the API returns it.
IngestSummaryOut = create_model(
    "IngestSummaryOut",
    batch_id=(LaterId, None),
    file_name=(str, ...),
    file_sha256=(str, ...),
    **_counters(SUMMARY_COUNTERS),
    mapping=(dict[str, str], ...),
    encoding=(str, ...),
    date_order=(str, ...),
    decimal_mark=(str, ...),
    currency=(str, ...),
    notes=(list[str], ...),
)
# A batch as the database keeps it: the counters its row stores.
BatchOut = create_model(
    "BatchOut",
    id=(int, ...),
    file_name=(str, ...),
    created_at=(Timestamp, ...),
    **_counters(BATCH_COUNTERS),
    currency=(str, ...),
    status=(str, ...),
)


class RejectionOut(BaseModel):
    row_number: int
    column_name: str
    reason: str
    raw_value: str


class Kpis(BaseModel):
    revenue: float
    quantity: int
    lines: int
    average_line_value: float


class PeriodValue(BaseModel):
    period: dt.date
    value: float


class CategoryTotals(BaseModel):
    category: str
    revenue: float
    quantity: float
    lines: int


class ProductValue(BaseModel):
    product_name: str
    category: str
    value: float


class SalesSummaryOut(BaseModel):
    currency: str = Field(description="the currency of every amount; empty when not stated")
    kpis: Kpis
    over_time: list[PeriodValue]
    by_category: list[CategoryTotals]
    top_products: list[ProductValue]


# A training request: its limits, defaults and checks are salesml.training.TrainRequest's.
class TrainIn(Strict):
    level: Level = ASKED.level
    freq: Freq = ASKED.freq
    target: Target = ASKED.target
    horizon: StrictInt = Field(
        ge=training.HORIZON_MIN, le=training.HORIZON_MAX, description="periods to forecast"
    )
    models: list[ModelName] = Field(
        default_factory=lambda: list(ASKED.models), min_length=1, max_length=7
    )
    windows: StrictInt = Field(
        ASKED.windows,
        ge=training.WINDOWS_MIN,
        le=training.WINDOWS_MAX,
        description="backtest windows",
    )
    start: Day | None = None
    end: Day | None = None
    category: list[str] = Field(default_factory=list, max_length=1_000)
    product: list[str] = Field(default_factory=list, max_length=10_000)
    seed: StrictInt = Field(
        ASKED.random_state,
        ge=training.RANDOM_STATE_MIN,
        le=training.RANDOM_STATE_MAX,
        description="random state of the ML models",
    )

    @model_validator(mode="after")
    def _a_training_request(self) -> TrainIn:
        self.request()  # its SchemaError is a ValueError: a 422 that says what is wrong
        return self

    def request(self) -> training.TrainRequest:
        """The training request this body asks for."""
        return training.TrainRequest(
            level=self.level,
            freq=self.freq,
            target=self.target,
            horizon=self.horizon,
            models=tuple(self.models),
            windows=self.windows,
            random_state=self.seed,
            start=self.start,
            end=self.end,
            categories=tuple(self.category),
            products=tuple(self.product),
        )


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: str
    model_id: LaterId = None
    error: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    request: dict


class JobAccepted(BaseModel):
    job_id: str
    status: str
    location: str


class ModelOut(BaseModel):
    id: int
    name: str
    title: str | None = Field(description="the name people gave it (null if none)")
    display_name: str = Field(description="its title, or its model and what it forecasts")
    created_at: Timestamp
    level: str
    freq: str
    target: str
    horizon: int
    longest_horizon: int
    series_count: int
    data_start: dt.date
    data_end: dt.date


class ModelDetail(ModelOut):
    series: list[str] | None = Field(description="series the model forecasts (null if unloadable)")
    leaderboard: list[dict]
    notes: list[str]
    features: list[str]
    windows: int | None
    filters: dict
    train_seconds: float | None


class ForecastIn(Strict):
    horizon: StrictInt = Field(ge=1, le=10_000, description="periods ahead")
    series: list[str] | None = Field(None, min_length=1, max_length=10_000)
    growth: float = Field(0.0, ge=-100, le=1_000, description="% applied to every period")
    uplift: float = Field(0.0, ge=-100, le=1_000, description="further % in promotion periods")
    promotion_periods: list[Day] = Field(default_factory=list, max_length=10_000)
    save: StrictBool = Field(False, description="store it in prediction_results")


class ForecastPoint(BaseModel):
    series: str
    period: dt.date
    forecast: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float


class ForecastOut(BaseModel):
    model_id: int
    model: str
    run_id: str | None
    horizon: int
    currency: str = Field(description="of a revenue forecast; empty when not stated")
    points: list[ForecastPoint]


class StoredPrediction(BaseModel):
    run_id: str | None
    model_id: int
    scenario: str = Field(description='the what-if it was saved as ("" for the base forecast)')
    model_used: str
    prediction_date: dt.date
    series: str | None
    period: dt.date
    forecast: float
    lower_80: float | None
    upper_80: float | None
    lower_95: float | None
    upper_95: float | None
    actual: float | None


class RunOut(BaseModel):
    run_id: LaterRunId = None
    model_id: int
    scenario: str = Field(description='the what-if it was saved as ("" for the base forecast)')
    model: str
    prediction_date: dt.date
    first_period: dt.date
    last_period: dt.date
    periods: int
    series: int


class AccuracyOut(BaseModel):
    model_id: int
    run_id: str | None
    scenario: str = Field(description='the what-if it was saved as ("" for the base forecast)')
    model_used: str
    periods: int
    mae: float | None
    smape: float | None
    bias: float | None
    coverage_80: float | None
    coverage_95: float | None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict] | None = None
    summary: dict | None = None
