"""Input the server cannot use is a 422 problem, never a 500: dates, numbers, encodings."""

from __future__ import annotations

import pytest

from tests.api.conftest import V1, assert_problem

CSV = b"date,product,quantity,revenue\n2024-01-01,Pen,1,2.00\n2024-01-02,Ink,2,3.00\n"


@pytest.mark.parametrize(
    "query",
    [
        "end=9999-12-31",
        "start=0001-01-01",
        "start=1677-09-21",
        "start=1677-12-31",
        "end=2262-01-01",
    ],
)
def test_a_date_beyond_the_calendar_the_server_counts_in_is_422(client, loaded, query):
    response = client.get(f"{V1}/sales/summary?{query}")
    assert_problem(response, 422, "between 1678-01-01 and 2261-12-31")


def test_the_first_and_last_dates_the_server_counts_in_are_accepted(client, loaded):
    response = client.get(f"{V1}/sales/summary?start=1678-01-01&end=2261-12-31")
    assert response.status_code == 200, response.text
    assert response.json()["kpis"]["lines"] == 144


@pytest.mark.slow
@pytest.mark.parametrize("value", ["0", "1700000000", "20240101", "2024-1-1", "true"])
def test_a_date_must_be_written_year_month_day(client, value):
    assert_problem(client.get(f"{V1}/sales/summary?start={value}"), 422, "YYYY-MM-DD")


@pytest.mark.parametrize(
    "body",
    [
        {"horizon": 3, "seed": False},
        {"horizon": True},
        {"horizon": 3, "windows": True},
        {"horizon": 3, "start": 0},
        {"horizon": 3, "start": "0001-01-01"},
        {"horizon": 3, "end": "9999-12-31"},
    ],
    ids=["seed-false", "horizon-true", "windows-true", "start-0", "start-year-1", "end-9999"],
)
def test_a_training_request_takes_numbers_as_numbers_and_dates_in_range(client, body):
    assert_problem(client.post(f"{V1}/models", json=body), 422)


def test_a_forecast_takes_its_horizon_as_a_number_not_a_flag(client):
    assert_problem(client.post(f"{V1}/models/1/forecast", json={"horizon": True}), 422)


def upload(client, encoding: str):
    return client.post(f"{V1}/sales", files={"file": ("a.csv", CSV)}, data={"encoding": encoding})


@pytest.mark.parametrize(
    "encoding", ["rot13", "base64", "hex", "zlib_codec", "idna", "punycode", "undefined"]
)
def test_an_encoding_that_is_not_a_character_set_is_refused(client, encoding):
    assert_problem(upload(client, encoding), 422, "not a text encoding")


def test_a_file_that_is_not_in_the_encoding_chosen_is_422(client):
    assert_problem(upload(client, "utf-16"), 422, "not UTF-16")


def test_a_real_text_encoding_is_still_accepted(client):
    response = upload(client, "cp1252")
    assert response.status_code == 201, response.text
