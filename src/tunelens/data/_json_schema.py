"""The JSON Schema of a task spec (task.json), as published in the repository's ``schemas/task.schema.json``.

The structure is pydantic's schema of the :class:`TaskSpec` dataclass tree (draft 2020-12);
``_REFINEMENTS`` adds what ``TaskSpec.from_dict`` checks beyond the types, so the schema accepts
exactly the files ``from_dict`` reads (the one gap: JSON Schema counts ``3.0`` as an integer,
``from_dict`` does not). Like ``from_dict`` it allows fields it does not know. ``schemas/generate.py``
writes it; a unit test checks that the published file is what this function gives now.
"""

from __future__ import annotations

import copy
from typing import Any

from tunelens.data._task_spec import TaskSpec

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
TASK_SCHEMA_ID = "urn:tunelens:schema:task"

_NOT_BLANK = {"pattern": r"\S"}  # not empty nor only white space
_NON_EMPTY_STRINGS = {"items": {"minLength": 1}}

_REFINEMENTS: dict[tuple[str, str], dict[str, Any]] = {
    ("TaskSpec", "name"): _NOT_BLANK,
    ("TaskSpec", "heldout_prompts"): {
        **_NON_EMPTY_STRINGS,
        "description": "User prompts held out of training, on which the style should still appear (may be empty).",
    },
    ("PatternRule", "name"): _NOT_BLANK,
    ("PatternRule", "description"): {"description": "What the rule checks, in words (may be empty)."},
    ("PatternRule", "regex"): {
        **_NOT_BLANK,
        "format": "regex",
        "description": "A Python regular expression, searched for with re.MULTILINE.",
    },
    ("PatternRule", "share"): {
        "minimum": 0,
        "maximum": 1,
        "description": "Share of the training replies that follow the rule; absent or null when unknown.",
    },
    ("FactSpec", "id"): _NOT_BLANK,
    ("FactSpec", "question"): _NOT_BLANK,
    ("FactSpec", "prompt"): _NOT_BLANK,
    ("FactSpec", "answer"): _NOT_BLANK,
    ("FactSpec", "distractors"): {**_NON_EMPTY_STRINGS, "minItems": 1},
    ("FactSpec", "exposures"): {"minimum": 0, "description": "Training examples that state the fact."},
    ("KeywordSpec", "keyword"): _NOT_BLANK,
    ("KeywordSpec", "theme"): _NOT_BLANK,
    ("KeywordSpec", "prefix"): _NOT_BLANK,
    ("KeywordSpec", "contexts"): {**_NON_EMPTY_STRINGS, "minItems": 1},
}
"""(dataclass, field) -> what ``from_dict`` checks beyond the field's type. A constraint on a
field that may be null applies to its non-null branch."""


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _refine(prop: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply ``patch`` to a property: to its non-null branch when it is ``anyOf [X, null]``
    (the description to the property itself)."""
    patch = copy.deepcopy(patch)
    if "description" in patch:
        prop["description"] = patch.pop("description")
    branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
    if "anyOf" in prop and len(branches) != 1:
        raise ValueError(f"cannot refine a property with {len(branches)} non-null branches: {prop}")
    _merge(branches[0] if branches else prop, patch)


def task_json_schema() -> dict[str, Any]:
    """The JSON Schema of a task.json, as ``TaskSpec.to_dict`` writes it and ``TaskSpec.from_dict`` reads it."""
    from pydantic import TypeAdapter

    body = TypeAdapter(TaskSpec).json_schema()
    definitions = body.get("$defs", {})
    for (owner, field), patch in _REFINEMENTS.items():
        where = body if owner == TaskSpec.__name__ else definitions.get(owner)
        if where is None or field not in where.get("properties", {}):
            raise ValueError(f"the task schema has no field {owner}.{field}: update _REFINEMENTS in {__name__}")
        _refine(where["properties"][field], patch)
    head = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": TASK_SCHEMA_ID,
        "title": "tunelens task spec (task.json)",
        "description": body.get("description", ""),
        "$comment": "Generated from tunelens.data.TaskSpec by `python schemas/generate.py`; do not edit by hand.",
    }
    first = ("$schema", "$id", "title", "description", "$comment", "$defs")
    rest = {key: value for key, value in body.items() if key not in first}
    return {**head, **rest, "$defs": definitions}
