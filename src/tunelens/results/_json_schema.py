"""The JSON Schema of results.json, as published in the repository's ``schemas/results.schema.json``.

It is pydantic's schema of :class:`AuditResults` (draft 2020-12, validation mode: what a reader
accepts), with what ``load_results`` checks beyond the model: ``schema_version`` is required and
must have this reader's major version. ``schemas/generate.py`` writes it; a unit test checks that
the published file is what this function gives now.
"""

from __future__ import annotations

from typing import Any

from tunelens.results._schema import SCHEMA_VERSION, AuditResults

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
RESULTS_SCHEMA_ID = f"urn:tunelens:schema:results:{SCHEMA_VERSION}"
"""The ``$id`` of the published schema: it names the schema version (there is no public URL to point at)."""

_FIRST = ("$schema", "$id", "title", "description", "$comment")


def results_json_schema() -> dict[str, Any]:
    """The JSON Schema of a results.json of schema version ``SCHEMA_VERSION``."""
    body = AuditResults.model_json_schema()
    major = SCHEMA_VERSION.split(".")[0]
    version = body["properties"]["schema_version"]
    version["pattern"] = rf"^{major}(\.|$)"
    version["description"] = (
        f"The version of this schema the file was written with ({SCHEMA_VERSION} now); readers refuse a file "
        f"without one or of another major version than {major}."
    )
    body["required"] = ["schema_version", *(name for name in body["required"] if name != "schema_version")]
    head = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": RESULTS_SCHEMA_ID,
        "title": f"tunelens results.json, schema version {SCHEMA_VERSION}",
        "description": body.get("description", ""),
        "$comment": f"Generated from tunelens.results.AuditResults (schema version {SCHEMA_VERSION}) by "
        "`python schemas/generate.py`; do not edit by hand.",
    }
    rest = {key: value for key, value in body.items() if key not in (*_FIRST, "$defs")}
    return {**head, **rest, "$defs": body.get("$defs", {})}
