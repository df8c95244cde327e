"""Settings from the environment and, in the app, the [salesml] table of st.secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from salesml import currency
from salesml.errors import ConfigError, SchemaError

DEFAULT_MAX_UPLOAD_MB = 200
DEFAULT_MAX_TRAININGS = 1
DEFAULT_SESSION_IDLE_MINUTES = 60


@dataclass(frozen=True)
class Settings:
    """Where the data lives and the limits the pipeline enforces."""

    database_url: str
    data_dir: Path
    model_dir: Path
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    # Trainings the API runs at once; more wait in a queue (each one uses a core).
    max_trainings: int = DEFAULT_MAX_TRAININGS
    # A signed-in browser session untouched for this long signs in again.
    session_idle_minutes: int = DEFAULT_SESSION_IDLE_MINUTES
    # The currency of a batch loaded without one stated or found in the file ("EUR", "$").
    currency: str = ""

    @property
    def is_default_sqlite(self) -> bool:
        """True when no database URL was configured and the embedded file is used."""
        return self.database_url == default_sqlite_url(self.data_dir)

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


def default_sqlite_url(data_dir: Path) -> str:
    """The embedded SQLite database used when nothing else is configured."""
    return f"sqlite:///{(data_dir / 'salesml.db').as_posix()}"


def load_settings(
    environ: Mapping[str, str] | None = None, *, secrets: Mapping[str, object] | None = None
) -> Settings:
    """Read settings: environment variables first, then the secrets' [salesml] table."""
    env = os.environ if environ is None else environ
    # The settings live in a [salesml] table: Streamlit copies top-level secrets into the
    # environment, which would let the secrets file override real environment variables.
    section = (secrets or {}).get("salesml") or {}

    def pick(name: str) -> str | None:
        value = env.get(name) or section.get(name.removeprefix("SALESML_").lower())
        return str(value) if value else None

    data_dir = Path(pick("SALESML_DATA_DIR") or "data").expanduser().resolve()
    model_dir = Path(pick("SALESML_MODEL_DIR") or data_dir / "models").expanduser().resolve()
    url = pick("SALESML_DATABASE_URL") or default_sqlite_url(data_dir)
    limit = _positive(pick, "SALESML_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB, "megabytes")
    trainings = _positive(pick, "SALESML_MAX_TRAININGS", DEFAULT_MAX_TRAININGS, "trainings")
    idle = _positive(pick, "SALESML_SESSION_IDLE_MINUTES", DEFAULT_SESSION_IDLE_MINUTES, "minutes")
    currency = _currency(pick("SALESML_CURRENCY"))
    return Settings(
        database_url=url,
        data_dir=data_dir,
        model_dir=model_dir,
        max_upload_mb=limit,
        max_trainings=trainings,
        session_idle_minutes=idle,
        currency=currency,
    )


def _positive(pick, name: str, default: int, unit: str) -> int:
    raw = pick(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of {unit}, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {value}")
    return value


def _currency(raw: str | None) -> str:
    try:
        return currency.check(raw, source="SALESML_CURRENCY")
    except SchemaError as exc:
        raise ConfigError(str(exc)) from None
