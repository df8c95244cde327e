"""The API reference in docs/api.md, written from the OpenAPI schema so it cannot drift from it."""

from __future__ import annotations

from salesml.api.app import PREFIX

BEGIN = "<!-- api-reference: generated from the OpenAPI schema by `make reference` -->"
END = "<!-- /api-reference -->"


def markdown(schema: dict) -> str:
    """One table row per operation: method, path and what it does."""
    lines = ["| method | path | what it does |", "|---|---|---|"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            summary = (operation.get("description") or operation.get("summary", "")).split("\n")
            lines.append(f"| {method.upper()} | `{PREFIX}{path}` | {summary[0].strip()} |")
    return "\n".join(lines)


def replaced(document: str, schema: dict) -> str:
    """The document with the text between the markers replaced by the current reference."""
    head, found, rest = document.partition(BEGIN)
    if not found or END not in rest:
        raise ValueError(f"the document has no {BEGIN!r} … {END!r} block")
    return f"{head}{BEGIN}\n{markdown(schema)}\n{END}{rest.partition(END)[2]}"


def main(path: str = "docs/api.md") -> None:
    """Rewrite the reference block of the document at path."""
    from pathlib import Path

    from salesml import api
    from salesml.config import load_settings

    schema = api.create_api(api.standalone(load_settings())).openapi()
    document = Path(path)
    document.write_text(replaced(document.read_text(), schema))


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
