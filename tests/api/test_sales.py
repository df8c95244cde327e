"""Sales in over HTTP: files and JSON rows, the ingest history, and the Explorer's figures."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from salesml import analytics, cli, db
from tests.api.conftest import V1, assert_problem, monthly_sales_csv

SUMMARY_KEYS = {
    "batch_id",
    "file_name",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "rows_duplicate",
    "rows_already_present",
    "notes",
}


def sales_rows(engine: sa.Engine) -> pd.DataFrame:
    """Every sales line, as values, in a stable order."""
    s = db.SalesData.__table__.c
    query = sa.select(s.date, s.product_name, s.category, s.quantity, s.revenue).order_by(
        s.date, s.product_name, s.quantity, s.revenue
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=list(query.selected_columns.keys()))


def test_health_names_the_database_and_its_schema_revision(client, services):
    response = client.get(f"{V1}/health")
    assert response.status_code == 200
    engine = services.engine()
    assert response.json() == {
        "status": "ok",
        "database": db.backend(engine),
        "schema": db.init_db(engine),  # the newest migration, which the database is at
    }
    assert response.json()["database"] in ("sqlite", "mysql")


def test_a_posted_file_loads_once_with_the_summary_the_cli_prints(client):
    body = monthly_sales_csv()
    first = client.post(f"{V1}/sales", files={"file": ("monthly.csv", body)})
    assert first.status_code == 201
    summary = first.json()
    assert set(summary) >= SUMMARY_KEYS
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"]) == (144, 144, 0)

    again = client.post(f"{V1}/sales", files={"file": ("monthly.csv", body)})
    assert again.status_code == 200, again.text
    assert again.json()["rows_already_present"] == 144
    assert again.json()["rows_loaded"] == 0


def test_the_api_and_the_cli_load_a_file_into_identical_tables(
    client, services, database_url, tmp_path, capsys
):
    path = tmp_path / "sales.csv"
    path.write_bytes(
        b"Order Date;Item;Dept;Units;Amount\n"
        b"03/01/2024;Caf\xc3\xa9 cr\xc3\xa8me;Food;2;12,50\n"
        b"04/01/2024;Tea;Food;1;7,5\n"
        b"04/01/2024;Tea;Food;1;7,5\n"
        b"05/01/2024;Cake;Food;x;3,00\n"
        b"13/01/2024;Scone;Food;-1;-2,25\n"
    )
    mapping = {"date": "Order Date", "product_name": "Item", "quantity": "Units"}
    argv = ["--database-url", database_url, "ingest", str(path), "--date-format", "%d/%m/%Y"]
    argv += [f"--map={field}={column}" for field, column in mapping.items()]
    assert cli.main(argv) == 0
    by_cli = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    engine = services.engine()
    rows_by_cli = sales_rows(engine)
    assert client.delete(f"{V1}/batches/{by_cli['batch_id']}").status_code == 204
    assert sales_rows(engine).empty

    response = client.post(
        f"{V1}/sales",
        files={"file": ("sales.csv", path.read_bytes())},
        data={"map": json.dumps(mapping), "date_format": "%d/%m/%Y"},
    )
    assert response.status_code == 201, response.text
    by_api = response.json()
    pd.testing.assert_frame_equal(sales_rows(engine), rows_by_cli)
    ignored = {"batch_id"}
    assert {k: v for k, v in by_api.items() if k not in ignored} == {
        k: v for k, v in by_cli.items() if k not in ignored
    }
    rejections = client.get(f"{V1}/batches/{by_api['batch_id']}/rejections").json()
    assert [r["column_name"] for r in rejections] == ["Units"]  # the Cake line


def test_json_rows_load_with_the_same_validation_as_a_file(client, services):
    rows = [
        {
            "date": "2024-02-01",
            "product_name": "Kettle",
            "category": "Kitchen",
            "quantity": 2,
            "revenue": "12,50",
        },
        {"date": "2024-02-02", "product_name": "Kettle", "quantity": 1, "revenue": 6.25},
        {"date": "not a date", "product_name": "Kettle", "quantity": 1, "revenue": 6.25},
    ]
    response = client.post(f"{V1}/sales", json={"rows": rows, "options": {"decimal": ","}})
    assert response.status_code == 201, response.text
    summary = response.json()
    assert (summary["rows_loaded"], summary["rows_rejected"]) == (2, 1)
    loaded = sales_rows(services.engine())
    assert sorted(loaded["revenue"].astype(float)) == [6.25, 12.5]
    assert set(loaded["category"]) == {"Kitchen", db.DEFAULT_CATEGORY}

    again = client.post(f"{V1}/sales", json={"rows": rows, "options": {"decimal": ","}})
    assert (again.status_code, again.json()["rows_loaded"]) == (200, 0)


def test_rows_already_loaded_from_a_file_are_recognised_when_sent_as_json(client, loaded):
    rows = [
        {
            "date": "2022-01-01",
            "product_name": "Kettle",
            "category": "Kitchen",
            "quantity": q,
            "revenue": q * 10,
        }
        for q in range(20, 40)
    ]
    response = client.post(f"{V1}/sales", json={"rows": rows})
    # One of these lines is in the file (its quantity), the others are new.
    assert response.status_code == 201
    assert response.json()["rows_already_present"] == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"rows": []}, "rows"),
        ({"rows": "Kettle"}, "rows"),
        ({"rows": [{"date": "2024-01-01"}]}, "product_name"),
        ({"rows": [{"date": "2024-01-01", "product_name": "A", "colour": "red"}]}, "colour"),
        (
            {"rows": [{"date": "2024-01-01", "product_name": "A"}], "options": {"decimal": ";"}},
            "decimal",
        ),
        (
            {"rows": [{"date": "2024-01-01", "product_name": "A", "revenue": 1}], "extra": 1},
            "extra",
        ),
    ],
)
def test_malformed_json_rows_are_a_422_problem_naming_the_field(client, body, fragment):
    problem = assert_problem(client.post(f"{V1}/sales", json=body), 422)
    assert fragment in json.dumps(problem)


def test_json_that_does_not_parse_is_a_422_problem(client):
    response = client.post(
        f"{V1}/sales", content=b'{"rows": [', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("files", "data", "status", "fragment"),
    [
        ({"file": ("x.csv", b"\x00\x01\x02garbage")}, {}, 422, "not a CSV"),
        ({"file": ("x.csv", b"")}, {}, 422, "empty"),
        ({"file": ("x.csv", b"a,b\n1,2\n")}, {}, 422, "missing required column"),
        ({"file": ("x.csv", monthly_sales_csv())}, {"map": "{not json"}, 422, "map"),
        ({"file": ("x.csv", monthly_sales_csv())}, {"map": '{"date": "Nope"}'}, 422, "Nope"),
        ({"file": ("x.csv", monthly_sales_csv())}, {"decimal": ";"}, 422, "decimal"),
        ({"file": ("x.csv", monthly_sales_csv())}, {"impute": "perhaps"}, 422, "impute"),
        ({"file": ("x.csv", monthly_sales_csv())}, {"colour": "red"}, 422, "colour"),
        ({"upload": ("x.csv", monthly_sales_csv())}, {}, 422, "'file'"),
    ],
)
def test_a_bad_upload_is_a_4xx_problem_and_loads_nothing(
    client, services, files, data, status, fragment
):
    assert_problem(client.post(f"{V1}/sales", files=files, data=data), status, fragment)
    assert db.overview(services.engine()).rows == 0


def test_a_file_over_the_upload_limit_is_413(database_url, tmp_path):
    from starlette.testclient import TestClient

    from salesml import api
    from tests.api.conftest import make_settings

    found = api.standalone(make_settings(database_url, tmp_path, max_upload_mb=1))
    big = monthly_sales_csv() * 300  # about 1.5 MB
    with TestClient(api.asgi(found), base_url="http://localhost") as client:
        response = client.post(f"{V1}/sales", files={"file": ("big.csv", big)})
        assert_problem(response, 413, "limit")
    found.engine().dispose()


def test_json_rows_over_the_upload_limit_are_413_even_without_a_length(database_url, tmp_path):
    from starlette.testclient import TestClient

    from salesml import api
    from tests.api.conftest import make_settings

    found = api.standalone(make_settings(database_url, tmp_path, max_upload_mb=1))
    row = b'{"date": "2024-01-01", "product_name": "Kettle", "revenue": 1},'

    def chunks():
        yield b'{"rows": ['
        for _ in range(20_000):  # about 1.3 MB, sent chunked
            yield row
        yield b'{"date": "2024-01-01", "product_name": "Kettle", "revenue": 1}]}'

    with TestClient(api.asgi(found), base_url="http://localhost") as client:
        response = client.post(
            f"{V1}/sales", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(response, 413, "limit")
    found.engine().dispose()


def test_a_form_without_a_length_is_refused_before_it_is_written_anywhere(client):
    def chunks():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
        yield monthly_sales_csv()
        yield b"\r\n--b--\r\n"

    response = client.post(
        f"{V1}/sales", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert_problem(response, 411, "Content-Length")


def test_a_body_that_is_neither_a_form_nor_json_is_415(client):
    response = client.post(
        f"{V1}/sales", content=b"date,product\n", headers={"content-type": "text/csv"}
    )
    assert_problem(response, 415, "multipart/form-data")


def test_batches_can_be_listed_read_and_deleted_and_unknown_ids_are_404(client, loaded):
    batch_id = loaded["batch_id"]
    listed = client.get(f"{V1}/batches").json()
    assert [b["id"] for b in listed] == [batch_id]
    one = client.get(f"{V1}/batches/{batch_id}").json()
    assert (one["file_name"], one["rows_loaded"]) == ("monthly.csv", 144)
    assert client.get(f"{V1}/batches/{batch_id}/rejections").json() == []

    assert client.delete(f"{V1}/batches/{batch_id}").status_code == 204
    assert client.get(f"{V1}/batches").json() == []
    for method, path in [
        ("get", f"/batches/{batch_id}"),
        ("get", f"/batches/{batch_id}/rejections"),
        ("delete", f"/batches/{batch_id}"),
    ]:
        assert_problem(getattr(client, method)(V1 + path), 404, str(batch_id))
    assert_problem(client.get(f"{V1}/batches/seven"), 422, "batch_id")


def test_the_summary_gives_the_explorers_numbers_for_the_same_filters(client, services, loaded):
    params = {
        "start": "2022-03-01",
        "end": "2023-06-30",
        "category": ["Kitchen"],
        "grain": "month",
        "measure": "quantity",
        "top": 5,
    }
    body = client.get(f"{V1}/sales/summary", params=params).json()
    engine = services.engine()
    filters = analytics.Filters(
        start=pd.Timestamp("2022-03-01").date(),
        end=pd.Timestamp("2023-06-30").date(),
        categories=("Kitchen",),
    )
    summary = analytics.summarise(engine, filters)
    kpis = summary.kpis()
    assert body["kpis"]["revenue"] == kpis.revenue
    assert body["kpis"]["quantity"] == kpis.quantity
    assert body["kpis"]["lines"] == kpis.lines == 32
    over_time = summary.over_time(grain="M", measure="quantity")
    assert [p["value"] for p in body["over_time"]] == over_time["value"].tolist()
    assert body["over_time"][0]["period"] == "2022-03-01"
    assert [c["category"] for c in body["by_category"]] == ["Kitchen"]
    top = analytics.top_products(engine, filters, n=5, measure="quantity")
    assert [p["product_name"] for p in body["top_products"]] == top["product_name"].tolist()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"start": "2024-02-01", "end": "2024-01-01"}, "after"),
        ({"grain": "year"}, "grain"),
        ({"measure": "profit"}, "measure"),
        ({"start": "yesterday"}, "start"),
        ({"top": 0}, "top"),
    ],
)
def test_bad_summary_filters_are_a_422_problem(client, params, fragment):
    assert_problem(client.get(f"{V1}/sales/summary", params=params), 422, fragment)


def test_an_empty_database_has_an_empty_summary(client):
    body = client.get(f"{V1}/sales/summary").json()
    assert body["kpis"]["lines"] == 0
    assert body["over_time"] == body["by_category"] == body["top_products"] == []


# --------------------------------------------------------------------------- currencies


def test_a_posted_file_records_the_currency_it_is_sent_with(client):
    response = client.post(
        f"{V1}/sales",
        files={"file": ("monthly.csv", monthly_sales_csv())},
        data={"currency": "eur"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["currency"] == "EUR"
    assert [batch["currency"] for batch in client.get(f"{V1}/batches").json()] == ["EUR"]
    assert client.get(f"{V1}/sales/summary").json()["currency"] == "EUR"


def test_json_rows_record_the_currency_they_name(client):
    rows = [{"date": "2024-02-01", "product_name": "Kettle", "revenue": 6.25, "currency": "GBP"}]
    response = client.post(f"{V1}/sales", json={"rows": rows})
    assert response.status_code == 201, response.text
    assert response.json()["currency"] == "GBP"


def test_a_summary_over_two_currencies_needs_one_chosen(client):
    for currency, day in (("USD", "2024-02-01"), ("GBP", "2024-02-02")):
        rows = [{"date": day, "product_name": "Kettle", "revenue": 6.25, "quantity": 1}]
        options = {"currency": currency}
        assert client.post(f"{V1}/sales", json={"rows": rows, "options": options}).is_success
    assert_problem(client.get(f"{V1}/sales/summary"), 422, "2 currencies")
    body = client.get(f"{V1}/sales/summary", params={"currency": "GBP"}).json()
    assert (body["currency"], body["kpis"]["revenue"], body["kpis"]["lines"]) == ("GBP", 6.25, 1)
    assert_problem(client.get(f"{V1}/sales/summary", params={"currency": "CHF"}), 422, "CHF")
