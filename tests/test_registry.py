"""Saved models: reloaded without retraining, and refused when their file is not the original."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LinearRegression

from salesml import registry
from salesml.db import SavedModel
from salesml.errors import ModelIntegrityError, ModelNotFoundError
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
