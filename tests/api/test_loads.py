"""POST /sales under load: bodies held at once are bounded, and a repeat is no failure."""

from __future__ import annotations

from tests.api.conftest import V1, assert_problem, monthly_sales_csv

ROWS = {"rows": [{"date": "2024-02-01", "product_name": "Kettle", "quantity": 2, "revenue": 9}]}


def test_a_load_while_others_hold_the_servers_share_is_503_with_retry_after(client, services):
    limit = services.settings.max_upload_bytes
    with services.loads.hold(limit) as grow:
        grow(limit)  # other loads, in flight
        response = client.post(f"{V1}/sales", json=ROWS)
        assert_problem(response, 503, "send it again in a moment")
        assert int(response.headers["retry-after"]) > 0
        upload = client.post(f"{V1}/sales", files={"file": ("m.csv", monthly_sales_csv())})
        assert_problem(upload, 503, "send it again in a moment")
    assert client.post(f"{V1}/sales", json=ROWS).status_code == 201


def test_a_load_gives_its_share_back_however_it_ends(client, services):
    assert client.post(f"{V1}/sales", json=ROWS).status_code == 201
    assert_problem(client.post(f"{V1}/sales", json={"rows": []}), 422)
    assert_problem(
        client.post(f"{V1}/sales", content=b"{", headers={"content-type": "application/json"}), 422
    )
    assert services.loads.used == 0


def test_a_repeated_load_is_a_success_that_loaded_nothing(client, loaded):
    again = client.post(f"{V1}/sales", files={"file": ("monthly.csv", monthly_sales_csv())})
    assert again.status_code == 200, again.text
    summary = again.json()
    assert "batch_id" not in summary and summary["rows_loaded"] == 0
    assert summary["rows_already_present"] == 144
    assert any("already in the database" in note for note in summary["notes"])


def test_a_load_of_only_rejected_rows_is_still_refused(client):
    rows = {"rows": [{"date": "not a date", "product_name": "Kettle", "revenue": 1}]}
    assert_problem(client.post(f"{V1}/sales", json=rows), 422, "rejected")
