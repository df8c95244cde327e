"""Training runs kept in the database: a comparison reopened by its id, on any server."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from salesml import comparisons, db, registry, report, runs
from salesml.db import init_db
from salesml.errors import RunNotFoundError, SalesMLError, SchemaError
from salesml.training import TrainRequest, TrainResult
from tests.test_report import HOSTILE, REQUEST, monthly, train


@pytest.fixture(scope="module")
def result() -> TrainResult:
    return train(monthly([HOSTILE, "Widget & Co", "Gadget"]))


@pytest.fixture
def database(engine):
    init_db(engine)
    return engine


@pytest.mark.slow
def test_a_kept_run_reopens_with_the_same_comparison(database, result):
    run_id = runs.save_run(database, result.comparison, REQUEST)
    run = runs.load_run(database, run_id)
    assert run.id == run_id and run.request == REQUEST and run.model_id is None
    reopened = run.comparison
    assert report.headline(reopened) == report.headline(result)
    assert report.key_figures(reopened) == report.key_figures(result)
    assert report.description(reopened, REQUEST) == report.description(result, REQUEST)
    pd.testing.assert_frame_equal(report.leaderboard(reopened), report.leaderboard(result))
    assert report.chart_series(reopened) == report.chart_series(result)
    assert reopened.notes == result.notes


def test_a_reopened_run_draws_the_same_backtest_lines(database, result):
    reopened = runs.load_run(database, runs.save_run(database, result.comparison, REQUEST))
    models = report.chart_models(result)
    shown = report.backtest_lines(reopened.comparison, HOSTILE, models)
    pd.testing.assert_frame_equal(shown, report.backtest_lines(result, HOSTILE, models))
    assert report.cutoffs(reopened.comparison, HOSTILE) == report.cutoffs(result, HOSTILE)


def test_a_run_remembers_the_model_saved_from_it(database, result, tmp_path):
    run_id = runs.save_run(database, result.comparison, REQUEST)
    from salesml import training

    record = training.save(database, result, REQUEST, model_dir=tmp_path)
    runs.attach_model(database, run_id, record.id)
    assert runs.load_run(database, run_id).model_id == record.id
    registry.delete_model(database, record.id, model_dir=tmp_path)
    assert runs.load_run(database, run_id).model_id is None


def test_a_run_that_is_not_there_says_so(database):
    with pytest.raises(RunNotFoundError, match="training run 999 was not found"):
        runs.load_run(database, 999)


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "1e3", "１２", "9" * 40, "<script>", ""])
def test_only_digits_are_a_run_id(text):
    with pytest.raises(SchemaError, match="is not a training run's id"):
        runs.parse_id(text)


def test_a_large_run_keeps_the_backtest_of_its_first_series_within_the_bound(result):
    comparison = result.comparison
    columns = comparison.backtest.shape[1]
    per_series = len(comparison.backtest) // 3 * columns
    kept = comparisons.bounded(comparison, max_values=2 * per_series)
    assert report.chart_series(kept) == sorted(report.chart_series(result))[:2]
    assert set(kept.history["unique_id"]) == set(report.chart_series(kept))
    assert report.chart_series(comparisons.bounded(comparison, max_values=1)) == [
        sorted(report.chart_series(result))[0]
    ]
    assert kept.series_count == 3 and report.key_figures(kept) == report.key_figures(result)


def test_a_run_keeps_its_request_dates_and_filters(database, result):
    request = TrainRequest(
        level="category", categories=("Tools",), end=pd.Timestamp("2024-06-30").date()
    )
    run = runs.load_run(database, runs.save_run(database, result.comparison, request))
    assert run.request == request


def stored_document(engine, run_id: int, column: str) -> dict:
    table = db.TrainingRun.__table__
    with engine.connect() as conn:
        text = conn.execute(sa.select(table.c[column]).where(table.c.id == run_id)).scalar_one()
    return json.loads(text)


def store_document(engine, run_id: int, column: str, text: str) -> None:
    table = db.TrainingRun.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id == run_id).values({column: text}))


def test_a_run_stored_by_another_version_reopens_without_the_fields_it_does_not_share(
    database, result
):
    run_id = runs.save_run(database, result.comparison, REQUEST)
    comparison = stored_document(database, run_id, "comparison_json")
    comparison["shown_by_a_newer_version"] = [1, 2]
    del comparison["importances"], comparison["rival"], comparison["notes"]
    store_document(database, run_id, "comparison_json", json.dumps(comparison))
    request = stored_document(database, run_id, "request_json")
    request["asked_by_a_newer_version"] = True
    store_document(database, run_id, "request_json", json.dumps(request))
    run = runs.load_run(database, run_id)
    assert report.headline(run.comparison) == report.headline(result)
    assert run.comparison.notes == [] and run.comparison.importances == {}
    assert run.request == REQUEST


@pytest.mark.slow
@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("comparison_json", "{not json"),
        ("comparison_json", '{"chosen": "ets"}'),
        ("comparison_json", '{"leaderboard": 3}'),
        ("comparison_json", "[]"),
        ("request_json", '{"level": "product", "models": 5}'),
        ("request_json", '"text"'),
    ],
)
def test_a_run_that_cannot_be_read_says_so_in_one_line(database, result, column, text):
    run_id = runs.save_run(database, result.comparison, REQUEST)
    store_document(database, run_id, column, text)
    with pytest.raises(SalesMLError, match=f"training run {run_id} cannot be read") as raised:
        runs.load_run(database, run_id)
    assert "\n" not in str(raised.value)


def test_only_the_newest_unsaved_runs_are_kept(database, result, monkeypatch):
    monkeypatch.setattr(runs, "KEPT_UNSAVED_RUNS", 3)
    ids = [runs.save_run(database, result.comparison, REQUEST) for _ in range(5)]
    for run_id in ids[:2]:
        with pytest.raises(RunNotFoundError):
            runs.load_run(database, run_id)
    assert [runs.load_run(database, run_id).id for run_id in ids[2:]] == ids[2:]


def test_a_run_whose_model_was_saved_is_kept_however_many_runs_follow(
    database, result, tmp_path, monkeypatch
):
    from salesml import training

    monkeypatch.setattr(runs, "KEPT_UNSAVED_RUNS", 2)
    saved = runs.save_run(database, result.comparison, REQUEST)
    record = training.save(database, result, REQUEST, model_dir=tmp_path)
    runs.attach_model(database, saved, record.id)
    for _ in range(4):
        runs.save_run(database, result.comparison, REQUEST)
    assert runs.load_run(database, saved).model_id == record.id
