"""Forecasts out and results back: training jobs, saved models, forecasts, stored results."""

from __future__ import annotations

import calendar
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from salesml import predictions, registry, training
from tests.api.conftest import V1, assert_problem, wait_for_job


@pytest.mark.slow
def test_a_training_job_reports_progress_and_saves_a_model(client, loaded):
    response = client.post(f"{V1}/models", json={"level": "total", "horizon": 3})
    assert response.status_code == 202
    accepted = response.json()
    assert response.headers["location"] == f"{V1}/jobs/{accepted['job_id']}"
    assert accepted["status"] in ("queued", "running")
    job = wait_for_job(client, accepted["job_id"])
    assert job["status"] == "done", job
    assert job["request"]["horizon"] == 3
    assert job["started_at"] and job["finished_at"]
    model = client.get(f"{V1}/models/{job['model_id']}").json()
    assert (model["level"], model["freq"], model["horizon"], model["series"]) == (
        "total",
        "M",
        3,
        ["Total"],
    )
    assert model["leaderboard"]
    assert [j["id"] for j in client.get(f"{V1}/jobs").json()] == [accepted["job_id"]]


@pytest.mark.slow
def test_a_training_that_cannot_run_fails_with_the_reason(client):
    response = client.post(f"{V1}/models", json={"horizon": 3})
    job = wait_for_job(client, response.json()["job_id"])
    assert job["status"] == "failed"
    assert "no sales to train on" in job["error"]
    assert "model_id" not in job  # a job has a model only once done


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "horizon"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": "twelve"}, "horizon"),
        ({"horizon": 3, "models": ["prophet"]}, "models"),
        ({"horizon": 3, "level": "region"}, "level"),
        ({"horizon": 3, "freq": "Y"}, "freq"),
        ({"horizon": 3, "start": "2024-02-01", "end": "2024-01-01"}, "after"),
        ({"horizon": 3, "windows": 0}, "windows"),
        ({"horizon": training.HORIZON_MAX + 1}, "horizon"),
        ({"horizon": 3, "windows": training.WINDOWS_MAX + 1}, "windows"),
        ({"horizon": 3, "seed": training.RANDOM_STATE_MAX + 1}, "seed"),
        ({"horizon": 3, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_training_request_is_a_422_problem_and_queues_nothing(client, body, fragment):
    assert_problem(client.post(f"{V1}/models", json=body), 422, fragment)
    assert client.get(f"{V1}/jobs").json() == []


def test_the_training_schema_takes_its_limits_from_the_training_request(client):
    fields = client.get(f"{V1}/openapi.json").json()["components"]["schemas"]["TrainIn"]
    limits = {
        name: (fields["properties"][name]["minimum"], fields["properties"][name]["maximum"])
        for name in ("horizon", "windows", "seed")
    }
    assert limits == {
        "horizon": (training.HORIZON_MIN, training.HORIZON_MAX),
        "windows": (training.WINDOWS_MIN, training.WINDOWS_MAX),
        "seed": (training.RANDOM_STATE_MIN, training.RANDOM_STATE_MAX),
    }


def test_unknown_jobs_and_models_are_404(client):
    assert_problem(client.get(f"{V1}/jobs/nope"), 404, "nope")
    assert_problem(client.get(f"{V1}/models/99"), 404, "99")
    assert_problem(client.delete(f"{V1}/models/99"), 404, "99")
    assert_problem(client.post(f"{V1}/models/99/forecast", json={"horizon": 3}), 404, "99")


@pytest.mark.slow
def test_a_forecast_comes_from_the_saved_model_without_retraining(client, services, trained):
    model, _ = registry.load_model(
        services.engine(), trained, model_dir=services.settings.model_dir
    )
    response = client.post(
        f"{V1}/models/{trained}/forecast", json={"horizon": 5, "series": ["Home"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_id"], body["run_id"], body["horizon"]) == (trained, None, 5)
    expected = predictions.forecast_frame(model, 5, ids=["Home"])
    assert [p["forecast"] for p in body["points"]] == expected["predicted_sales"].tolist()
    assert [p["upper_95"] for p in body["points"]] == expected["upper_95"].tolist()
    assert {p["series"] for p in body["points"]} == {"Home"}
    point = body["points"][0]
    assert point["lower_95"] <= point["lower_80"] <= point["forecast"] <= point["upper_80"]
    assert point["upper_80"] <= point["upper_95"]
    # Every series by default.
    both = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2}).json()
    assert sorted({p["series"] for p in both["points"]}) == ["Home", "Kitchen"]
    assert len(both["points"]) == 4


@pytest.mark.slow
def test_a_saved_forecast_is_stored_and_read_back(client, trained):
    body = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 3, "save": True}).json()
    assert body["run_id"]
    stored = client.get(f"{V1}/predictions", params={"run_id": body["run_id"]}).json()
    assert len(stored) == len(body["points"]) == 6
    assert {s["model_id"] for s in stored} == {trained}
    assert sorted(s["forecast"] for s in stored) == sorted(p["forecast"] for p in body["points"])
    assert all(s["actual"] is None for s in stored)  # the periods are still ahead
    runs = client.get(f"{V1}/predictions/runs").json()
    assert [(r["run_id"], r["periods"], r["series"]) for r in runs] == [(body["run_id"], 3, 2)]
    assert client.get(f"{V1}/predictions/accuracy", params={"model_id": trained}).json() == []


@pytest.mark.slow
def test_a_stored_forecast_is_checked_against_actuals_that_arrive(client, trained):
    run = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 1, "save": True}).json()
    period = run["points"][0]["period"]
    rows = [
        {"date": period, "product_name": name, "category": category, "quantity": 30, "revenue": 400}
        for name, category in [("Kettle", "Kitchen"), ("Lamp", "Home")]
    ]
    # A month counts once it is complete: a sale on its last day closes it.
    start = dt.date.fromisoformat(period)
    last_day = str(start.replace(day=calendar.monthrange(start.year, start.month)[1]))
    rows += [{**row, "date": last_day, "quantity": 1, "revenue": 1} for row in rows]
    assert client.post(f"{V1}/sales", json={"rows": rows}).status_code == 201
    stored = client.get(f"{V1}/predictions", params={"model_id": trained}).json()
    assert {s["series"]: s["actual"] for s in stored} == {"Home": 401.0, "Kitchen": 401.0}
    accuracy = client.get(f"{V1}/predictions/accuracy").json()
    assert [(a["model_id"], a["run_id"], a["periods"]) for a in accuracy] == [
        (trained, run["run_id"], 2)
    ]


@pytest.mark.slow
def test_growth_and_uplift_scale_the_forecast_as_the_forecast_page_does(client, trained):
    plain = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2}).json()
    first = plain["points"][0]["period"]
    scaled = client.post(
        f"{V1}/models/{trained}/forecast",
        json={"horizon": 2, "growth": 10, "uplift": 50, "promotion_periods": [first]},
    ).json()
    for before, after in zip(plain["points"], scaled["points"], strict=True):
        factor = 1.1 * (1.5 if before["period"] == first else 1.0)
        assert after["forecast"] == pytest.approx(before["forecast"] * factor, abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 37}, "between 1 and 36"),
        ({"horizon": "soon"}, "horizon"),
        ({"horizon": 3, "series": ["Garden"]}, "Garden"),
        ({"horizon": 3, "series": []}, "series"),
        ({"horizon": 3, "uplift": 20}, "promotion_periods"),
        ({"horizon": 3, "uplift": 20, "promotion_periods": ["2031-01-01"]}, "2031-01-01"),
        ({"horizon": 3, "growth": "lots"}, "growth"),
        ({"horizon": 3, "save": "maybe"}, "save"),
    ],
)
def test_a_bad_forecast_request_is_a_422_problem(client, trained, body, fragment):
    assert_problem(client.post(f"{V1}/models/{trained}/forecast", json=body), 422, fragment)


@pytest.mark.slow
def test_a_deleted_model_is_gone_with_its_forecasts(client, services, trained):
    client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2, "save": True})
    assert client.delete(f"{V1}/models/{trained}").status_code == 204
    assert client.get(f"{V1}/models").json() == []
    assert client.get(f"{V1}/predictions").json() == []
    assert_problem(client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2}), 404)


@pytest.mark.slow
def test_a_model_file_changed_on_disk_is_refused_with_409(client, services, trained):
    record = registry.get_model_record(services.engine(), trained)
    services.forget_models()
    path = services.settings.model_dir / record.file_name
    path.write_bytes(path.read_bytes() + b"tampered")
    response = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2})
    assert_problem(response, 409, "has changed since it was saved")
    assert client.get(f"{V1}/models/{trained}").json()["series"] is None


def test_beyond_the_waiting_limit_a_training_request_is_429_with_retry_after(client, services):
    services.jobs.max_waiting = 0
    response = client.post(f"{V1}/models", json={"horizon": 3})
    assert_problem(response, 429, "waiting already")
    assert response.headers["retry-after"]


def set_currency(services, currency: str) -> None:
    with services.engine().begin() as conn:
        conn.execute(sa.text("UPDATE ingest_batches SET currency = :c"), {"c": currency})


@pytest.mark.slow
def test_a_revenue_forecast_says_the_currency_its_model_was_trained_in(client, services, loaded):
    set_currency(services, "CHF")
    response = client.post(
        f"{V1}/models", json={"level": "category", "freq": "M", "horizon": 3, "models": ["lr"]}
    )
    model_id = wait_for_job(client, response.json()["job_id"])["model_id"]
    set_currency(services, "GBP")  # the sales as they read later: the model's stay in CHF
    body = client.post(f"{V1}/models/{model_id}/forecast", json={"horizon": 2}).json()
    assert body["currency"] == "CHF"


@pytest.mark.slow
def test_a_model_saved_before_models_kept_their_currency_says_the_databases(
    client, services, trained
):
    with services.engine().begin() as conn:
        saved = json.loads(conn.exec_driver_sql("SELECT metadata_json FROM models").scalar_one())
        del saved["currency"]
        update = sa.text("UPDATE models SET metadata_json = :kept")
        conn.execute(update, {"kept": json.dumps(saved)})
    set_currency(services, "CHF")
    body = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2}).json()
    assert body["currency"] == "CHF"
