"""The README's API reference is the one the OpenAPI schema gives."""

from __future__ import annotations

from pathlib import Path

from salesml.api import reference
from tests.api.conftest import V1

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_operation_as_the_schema_describes_it(client):
    schema = client.get(f"{V1}/openapi.json").json()
    text = README.read_text()
    assert reference.replaced(text, schema) == text, "run `make reference` to update README.md"
