"""Save and load trained models: joblib files in the model directory, checked on load."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import platform
import uuid
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import joblib
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from salesml import audit
from salesml.audit import Actor
from salesml.db import TITLE_LENGTH, SavedModel, writing
from salesml.errors import ModelIntegrityError, ModelNotFoundError, ModelTitleError
from salesml.frequencies import FREQUENCIES
from salesml.zoo import ENGINE_VERSION, model_label

# A model pickled by one version of these and unpickled by another can fail or, worse,
# predict differently; loading refuses a mismatch instead.
CHECKED_LIBRARIES = ("scikit-learn", "mlforecast", "statsforecast", "numpy", "pandas")


@dataclass(frozen=True)
class ModelSpec:
    """What a model was trained on, recorded beside its file."""

    name: str
    level: str
    freq: str
    target: str
    horizon: int
    series_count: int
    data_start: dt.date
    data_end: dt.date


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    versions = {"python": platform.python_version()}
    for name in CHECKED_LIBRARIES:
        versions[name] = importlib_metadata.version(name)
    return versions


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(
    engine: Engine,
    model: Any,
    spec: ModelSpec,
    *,
    model_dir: Path,
    details: dict | None = None,
    by: Actor | None = None,
    action: str = "save model",
) -> SavedModel:
    """Write the model with joblib, record it in the models table, and return the record."""
    model_dir.mkdir(parents=True, exist_ok=True)
    file_name = f"model-{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.joblib"
    path = model_dir / file_name
    partial = path.with_suffix(".part")
    joblib.dump(model, partial, compress=3)
    os.replace(partial, path)  # a crash never leaves a half-written model under its real name
    sha = file_sha256(path)
    info = {
        **(details or {}),
        "engine": ENGINE_VERSION,
        "libraries": library_versions(),
        "sha256": sha,
    }
    record = SavedModel(
        **spec.__dict__,
        created_at=dt.datetime.now().replace(microsecond=0),
        file_name=file_name,
        file_sha256=sha,
        metadata_json=json.dumps(info, default=str),
    )
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.add(record)
            session.flush()
            audit.record(
                session.connection(),
                by,
                action,
                f"model {record.id}: {spec.name}",
                f"{spec.level} · {spec.freq} · {spec.series_count} series",
            )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    path.with_suffix(".json").write_text(
        json.dumps({"id": record.id, **spec.__dict__, **info}, default=str, indent=2)
    )
    return record


def get_model_record(engine: Engine, model_id: int | None = None) -> SavedModel:
    """The models row for an id, or the newest one when id is None."""
    with Session(engine, expire_on_commit=False) as session:
        if model_id is None:
            record = session.scalars(sa.select(SavedModel).order_by(SavedModel.id.desc())).first()
            if record is None:
                raise ModelNotFoundError(
                    "there is no saved model yet; train one with `python -m salesml train`"
                )
        else:
            record = session.get(SavedModel, model_id)
            if record is None:
                raise ModelNotFoundError(f"there is no saved model {model_id}")
        session.expunge(record)
    return record


def list_models(engine: Engine) -> list[SavedModel]:
    """Every saved model, newest first."""
    with Session(engine, expire_on_commit=False) as session:
        records = session.scalars(sa.select(SavedModel).order_by(SavedModel.id.desc())).all()
        session.expunge_all()
    return list(records)


def load_model(
    engine: Engine, model_id: int | None = None, *, model_dir: Path
) -> tuple[Any, SavedModel]:
    """Load a saved model after checking its place, its sha256 and the library versions."""
    record = get_model_record(engine, model_id)
    # The bytes checked are the bytes unpickled: opening the file a second time would
    # unpickle whatever was swapped in after the check.
    data = _read_model_file(record, model_dir)
    actual = hashlib.sha256(data).hexdigest()
    if actual != record.file_sha256:
        raise ModelIntegrityError(
            f"model {record.id}'s file {record.file_name} has changed since it was saved "
            f"(sha256 {actual[:12]}… instead of {record.file_sha256[:12]}…); refusing to load "
            "it: restore the original or train a new model"
        )
    _check_engine(record)
    _check_versions(record)
    try:
        model = joblib.load(io.BytesIO(data))
    except Exception as exc:  # a corrupt pickle raises anything from EOFError to KeyError
        raise ModelIntegrityError(f"model {record.id}'s file cannot be read: {exc}") from None
    return model, record


def _read_model_file(record: SavedModel, model_dir: Path) -> bytes:
    try:
        return _model_path(record, model_dir).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ModelNotFoundError(
            f"model {record.id}'s file {record.file_name} is missing from {model_dir}; restore "
            "it there or train a new model"
        ) from None


def _model_path(record: SavedModel, model_dir: Path) -> Path:
    root = model_dir.resolve()
    path = (root / record.file_name).resolve()
    if Path(record.file_name).name != record.file_name or not path.is_relative_to(root):
        raise ModelIntegrityError(
            f"model {record.id} points outside the model directory ({record.file_name!r}); "
            "only files in the model directory are loaded"
        )
    return path


def _check_engine(record: SavedModel) -> None:
    saved = json.loads(record.metadata_json).get("engine", 1)
    if saved != ENGINE_VERSION:
        raise ModelIntegrityError(
            f"model {record.id} was fitted by an earlier forecasting engine ({saved}; this "
            f"release has {ENGINE_VERSION}, with AutoETS, Theta and recalibrated ranges); "
            "retrain it with Train & compare or `python -m salesml train`"
        )


def _check_versions(record: SavedModel) -> None:
    saved = json.loads(record.metadata_json).get("libraries", {})
    current = library_versions()
    changed = [
        f"{name} {saved.get(name)} -> {current[name]}"
        for name in CHECKED_LIBRARIES
        if saved.get(name) != current[name]
    ]
    if changed:
        raise ModelIntegrityError(
            f"model {record.id} was saved with other library versions ({'; '.join(changed)}); "
            "retrain it with the installed versions"
        )


def delete_model(
    engine: Engine, model_id: int, *, model_dir: Path, by: Actor | None = None
) -> None:
    """Delete a model's record, its stored forecasts and its files."""
    record = get_model_record(engine, model_id)
    with Session(engine) as session, session.begin():
        session.execute(sa.delete(SavedModel).where(SavedModel.id == model_id))
        audit.record(session.connection(), by, "delete model", f"model {model_id}: {record.name}")
    path = _model_path(record, model_dir)
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)


def display_name(record: SavedModel) -> str:
    """How people see a model: its title, or its model and what it forecasts.

    'Linear regression · category monthly revenue' for an untitled model.
    """
    if record.title:
        return record.title
    freq = FREQUENCIES.get(record.freq)
    adjective = freq.adjective if freq else record.freq
    return f"{model_label(record.name)} · {record.level} {adjective} {record.target}"


def rename_model(
    engine: Engine, model_id: int, title: str, *, by: Actor | None = None
) -> SavedModel:
    """Give a model a title no other model is shown by (ignoring case); return the record."""
    title = " ".join(title.split())
    if not title:
        raise ModelTitleError("a model's title cannot be empty; type a name for it")
    if len(title) > TITLE_LENGTH:
        raise ModelTitleError(
            f"the title has {len(title)} characters; at most {TITLE_LENGTH} fit, shorten it"
        )
    # Renames take turns, so two cannot both take a title they each found free.
    with writing(engine, lock="models") as conn, Session(bind=conn) as session:
        record = session.get(SavedModel, model_id)
        if record is None:
            raise ModelNotFoundError(f"there is no saved model {model_id}")
        _check_title_is_free(session, model_id, title)
        old = display_name(record)
        if record.title != title:
            record.title = title
            session.flush()
            audit.record(conn, by, "rename model", f"model {model_id}", f"{old} → {title}")
        session.expunge(record)
    return record


def _check_title_is_free(session: Session, model_id: int, title: str) -> None:
    others = session.scalars(sa.select(SavedModel).where(SavedModel.id != model_id))
    for other in others:
        if display_name(other).casefold() == title.casefold():
            raise ModelTitleError(
                f"the title {title!r} already names model {other.id}; choose another"
            )
