"""The API reference in docs/api.md is the one the OpenAPI schema gives."""

from __future__ import annotations

from pathlib import Path

from salesml.api import reference
from tests.api.conftest import V1

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_api_reference_lists_every_operation_as_the_schema_describes_it(client):
    schema = client.get(f"{V1}/openapi.json").json()
    text = API_DOC.read_text()
    assert reference.replaced(text, schema) == text, "run `make reference` to update docs/api.md"
