"""Saved models: reloaded without retraining, and refused when their file is not the original."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LinearRegression

from salesml import audit, registry
from salesml.audit import Actor
from salesml.db import SavedModel
from salesml.errors import ModelIntegrityError, ModelNotFoundError, ModelTitleError
from salesml.zoo import ENGINE_VERSION

SPEC = registry.ModelSpec(
    name="lr",
    level="total",
    freq="M",
    target="revenue",
    horizon=3,
    series_count=1,
    data_start=dt.date(2022, 1, 1),
    data_end=dt.date(2023, 12, 1),
)


@pytest.fixture
def saved(engine, tmp_path):
    model = LinearRegression().fit(np.arange(10).reshape(-1, 1), np.arange(10) * 2.0)
    record = registry.save_model(
        engine, model, SPEC, model_dir=tmp_path / "models", details={"features": ["x"]}
    )
    return engine, tmp_path / "models", record


def test_a_saved_model_loads_and_predicts_without_retraining(saved):
    engine, model_dir, record = saved
    model, loaded = registry.load_model(engine, record.id, model_dir=model_dir)
    assert model.predict([[20]])[0] == pytest.approx(40.0)
    assert (loaded.id, loaded.level, loaded.freq, loaded.horizon) == (record.id, "total", "M", 3)


def test_the_record_carries_data_range_versions_and_the_file_hash(saved):
    _engine, model_dir, record = saved
    details = json.loads(record.metadata_json)
    assert details["libraries"]["scikit-learn"]
    assert details["features"] == ["x"]
    assert record.file_sha256 == registry.file_sha256(model_dir / record.file_name)
    assert record.data_start == dt.date(2022, 1, 1)
    assert (model_dir / record.file_name).with_suffix(".json").is_file()


def test_the_latest_model_is_the_default(saved):
    engine, model_dir, record = saved
    newer = registry.save_model(engine, {"any": "model"}, SPEC, model_dir=model_dir)
    assert registry.get_model_record(engine).id == newer.id > record.id
    assert [m.id for m in registry.list_models(engine)] == [newer.id, record.id]


def test_a_missing_model_file_is_a_clear_error(saved):
    engine, model_dir, record = saved
    (model_dir / record.file_name).unlink()
    with pytest.raises(ModelNotFoundError, match="is missing"):
        registry.load_model(engine, record.id, model_dir=model_dir)


def test_a_moved_model_directory_is_a_clear_error(saved, tmp_path):
    engine, model_dir, record = saved
    model_dir.rename(tmp_path / "elsewhere")
    with pytest.raises(ModelNotFoundError, match="is missing"):
        registry.load_model(engine, record.id, model_dir=model_dir)


@pytest.mark.parametrize("damage", ["tamper", "truncate", "garbage"])
def test_a_changed_model_file_is_refused_before_it_is_unpickled(saved, damage):
    engine, model_dir, record = saved
    path = model_dir / record.file_name
    data = path.read_bytes()
    path.write_bytes(
        {
            "tamper": data[:-1] + bytes([data[-1] ^ 1]),
            "truncate": data[: len(data) // 2],
            "garbage": b"not a model",
        }[damage]
    )
    with pytest.raises(ModelIntegrityError, match="has changed since it was saved"):
        registry.load_model(engine, record.id, model_dir=model_dir)


def test_a_file_swapped_after_the_check_is_never_unpickled(saved, monkeypatch):
    engine, model_dir, record = saved
    path = model_dir / record.file_name
    impostor = LinearRegression().fit(np.arange(10).reshape(-1, 1), np.arange(10) * -7.0)
    real_load = registry.joblib.load

    def swap_then_load(source, *args, **kwargs):
        # The swap lands between the sha256 check and the unpickling.
        registry.joblib.dump(impostor, path)
        return real_load(source, *args, **kwargs)

    monkeypatch.setattr(registry.joblib, "load", swap_then_load)
    model, _ = registry.load_model(engine, record.id, model_dir=model_dir)
    assert model.predict([[20]])[0] == pytest.approx(40.0)


def test_a_record_pointing_outside_the_model_directory_is_refused(saved):

    engine, model_dir, record = saved
    with engine.begin() as conn:
        conn.execute(
            sa.update(SavedModel)
            .where(SavedModel.id == record.id)
            .values(file_name="../outside.joblib")
        )
    with pytest.raises(ModelIntegrityError, match="outside the model directory"):
        registry.load_model(engine, record.id, model_dir=model_dir)


def test_other_library_versions_are_refused(saved, monkeypatch):
    engine, model_dir, record = saved
    real = registry.library_versions()
    monkeypatch.setattr(registry, "library_versions", lambda: {**real, "scikit-learn": "0.1"})
    with pytest.raises(ModelIntegrityError, match="other library versions"):
        registry.load_model(engine, record.id, model_dir=model_dir)


@pytest.mark.parametrize("engine_version", [None, 1])
def test_a_model_from_an_earlier_forecasting_engine_is_refused_with_retrain(saved, engine_version):
    engine, model_dir, record = saved
    details = json.loads(record.metadata_json)
    details.pop("engine")
    if engine_version is not None:
        details["engine"] = engine_version
    with engine.begin() as conn:
        conn.execute(
            sa.update(SavedModel)
            .where(SavedModel.id == record.id)
            .values(metadata_json=json.dumps(details))
        )
    with pytest.raises(ModelIntegrityError, match=r"earlier forecasting engine.*retrain"):
        registry.load_model(engine, record.id, model_dir=model_dir)


def test_a_saved_model_records_the_forecasting_engine(saved):
    _engine, _model_dir, record = saved
    assert json.loads(record.metadata_json)["engine"] == ENGINE_VERSION


def test_an_unknown_model_id_is_a_clear_error(engine, tmp_path):
    with pytest.raises(ModelNotFoundError, match="no saved model yet"):
        registry.load_model(engine, model_dir=tmp_path)
    with pytest.raises(ModelNotFoundError, match="no saved model 7"):
        registry.load_model(engine, 7, model_dir=tmp_path)


# --------------------------------------------------------------------------- titles


def test_a_renamed_model_keeps_its_title(saved):
    engine, _model_dir, record = saved
    renamed = registry.rename_model(engine, record.id, "Office revenue, spring plan")
    assert renamed.id == record.id
    assert renamed.title == "Office revenue, spring plan"
    assert registry.get_model_record(engine, record.id).title == "Office revenue, spring plan"


def test_a_title_is_stripped_of_surrounding_and_repeated_spaces(saved):
    engine, _model_dir, record = saved
    assert registry.rename_model(engine, record.id, "  Spring   plan \n").title == "Spring plan"


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("x" * 101, "101 characters; at most 100"),
    ],
)
def test_an_empty_or_long_title_is_refused_in_plain_words(saved, title, words):
    engine, _model_dir, record = saved
    with pytest.raises(ModelTitleError, match=words):
        registry.rename_model(engine, record.id, title)
    assert registry.get_model_record(engine, record.id).title is None


def test_a_title_of_100_characters_is_accepted(saved):
    engine, _model_dir, record = saved
    assert registry.rename_model(engine, record.id, "x" * 100).title == "x" * 100


def test_a_title_another_model_has_is_refused_whatever_its_case(saved):
    engine, model_dir, record = saved
    other = registry.save_model(engine, {"any": "model"}, SPEC, model_dir=model_dir)
    registry.rename_model(engine, other.id, "Spring plan")
    with pytest.raises(ModelTitleError, match=rf"'SPRING PLAN'.*model {other.id}"):
        registry.rename_model(engine, record.id, "SPRING PLAN")
    assert registry.get_model_record(engine, record.id).title is None


def test_a_title_that_another_untitled_model_is_shown_as_is_refused(saved):
    engine, model_dir, record = saved
    other = registry.save_model(engine, {"any": "model"}, SPEC, model_dir=model_dir)
    shown = registry.display_name(other)
    with pytest.raises(ModelTitleError, match=f"model {other.id}"):
        registry.rename_model(engine, record.id, shown.upper())


def test_a_model_may_change_the_case_of_its_own_title(saved):
    engine, _model_dir, record = saved
    registry.rename_model(engine, record.id, "spring plan")
    assert registry.rename_model(engine, record.id, "Spring Plan").title == "Spring Plan"


def test_renaming_an_unknown_model_is_a_clear_error(engine):
    with pytest.raises(ModelNotFoundError, match="no saved model 7"):
        registry.rename_model(engine, 7, "Spring plan")


def test_a_rename_is_audited_with_the_old_and_new_names(saved):
    engine, _model_dir, record = saved
    ann = Actor("ann", "app")
    registry.rename_model(engine, record.id, "Spring plan", by=ann)
    registry.rename_model(engine, record.id, "Summer plan", by=ann)
    newest, older = audit.entries(engine, limit=2)
    assert (older.actor, older.action, older.target) == (
        "ann",
        "rename model",
        f"model {record.id}",
    )
    assert older.detail == "Linear regression · total monthly revenue → Spring plan"
    assert newest.detail == "Spring plan → Summer plan"


@pytest.mark.parametrize(
    ("name", "level", "freq", "target", "shown"),
    [
        ("lr", "total", "M", "revenue", "Linear regression · total monthly revenue"),
        ("snaive", "category", "W", "quantity", "Seasonal naive · category weekly quantity"),
    ],
)
def test_an_untitled_model_is_shown_by_its_model_and_what_it_forecasts(
    name, level, freq, target, shown
):
    record = SavedModel(name=name, level=level, freq=freq, target=target, title=None)
    assert registry.display_name(record) == shown


def test_a_titled_model_is_shown_by_its_title(saved):
    engine, _model_dir, record = saved
    assert registry.display_name(registry.rename_model(engine, record.id, "Spring")) == "Spring"


# --------------------------------------------------------------------------- delete


def test_deleting_a_model_removes_its_files_record_and_forecasts_and_is_audited(saved):
    import pandas as pd

    from salesml import predictions

    engine, model_dir, record = saved
    table = pd.DataFrame(
        {
            "series": ["Total"],
            "target_period": ["2024-01-01"],
            "predicted_sales": [1.0],
            **{bound: [1.0] for bound in predictions.BOUNDS},
            "model_used": ["lr"],
        }
    )
    predictions.store_forecast(engine, table, record)
    registry.delete_model(engine, record.id, model_dir=model_dir, by=Actor("ann", "app"))
    assert list(model_dir.iterdir()) == []
    with pytest.raises(ModelNotFoundError):
        registry.get_model_record(engine, record.id)
    assert predictions.stored_forecasts(engine).empty
    [entry] = audit.entries(engine, limit=1)
    assert (entry.action, entry.target) == ("delete model", f"model {record.id}: lr")
