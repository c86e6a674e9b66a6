"""Reading and writing results.json, atomically and with version checks, and items.jsonl beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tunelens.errors import TunelensError
from tunelens.outdir import atomic_write_text
from tunelens.results._schema import SCHEMA_VERSION, AuditResults, ItemRecord

M = TypeVar("M", bound=BaseModel)


def save_results(results: AuditResults, path: str | Path) -> Path:
    """Write results as pretty JSON; returns the path written."""
    path = Path(path)
    atomic_write_text(path, results.model_dump_json(indent=1))
    return path


def load_versioned(path: str | Path, model: type[M], version: str, name: str, redo: str) -> M:
    """Read a JSON file of ``model``, refusing a major schema version other than ``version``'s.

    ``name`` names the file in messages ("results", "triage"); ``redo`` says how to make it anew.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TunelensError(f"no such {name} file: {path}") from None
    except json.JSONDecodeError as exc:
        raise TunelensError(f"{path} is not valid JSON ({exc}); {redo} to regenerate it") from None
    found = str(raw.get("schema_version", "")) if isinstance(raw, dict) else ""
    if found.split(".")[0] != version.split(".")[0]:
        raise TunelensError(
            f"{path} has schema version {found or 'none'}, this tunelens reads {version}; {redo} with this version"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TunelensError(f"{path} does not match the {name} schema at {where}: {first['msg']}") from None


def load_results(path: str | Path) -> AuditResults:
    """Read a results.json, refusing unknown major schema versions."""
    return load_versioned(path, AuditResults, SCHEMA_VERSION, "results", "re-run the audit")


def save_items(results: AuditResults, path: str | Path) -> Path:
    """Write every probe's item records as JSON lines (items.jsonl), atomically; returns the path.

    Each line is one item record, as results.json holds it, with the name of its probe first:
    ``{"probe": ..., "item_id": ..., "section": ..., "input": ..., ..., "extra": {...}}``.
    A results without items writes an empty file.
    """
    path = Path(path)
    lines = []
    for probe in results.probes:
        for item in probe.items:
            record = json.loads(item.model_dump_json())  # as results.json writes it (NaN and inf as null)
            lines.append(json.dumps({"probe": probe.name, **record}, ensure_ascii=False) + "\n")
    atomic_write_text(path, "".join(lines))
    return path


def load_items(path: str | Path) -> dict[str, list[ItemRecord]]:
    """Read an items.jsonl written by :func:`save_items`: the item records by probe name, in file
    order (``items_frame`` turns them into a DataFrame). Blank lines are skipped; a line that is
    not an item record raises TunelensError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TunelensError(f"no such items file: {path}") from None
    items: dict[str, list[ItemRecord]] = {}
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 may sit in a string
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TunelensError(f"{where} is not valid JSON ({exc})") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("probe"), str):
            raise TunelensError(f"{where} is not an item record: it needs an object with a string 'probe'")
        probe = raw.pop("probe")
        try:
            item = ItemRecord.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise TunelensError(f"{where} does not match the item schema at {field}: {first['msg']}") from None
        items.setdefault(probe, []).append(item)
    return items
