"""Reading and writing results.json, atomically and with version checks."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from tunelens.errors import TunelensError
from tunelens.outdir import atomic_write_text
from tunelens.results._schema import SCHEMA_VERSION, AuditResults


def save_results(results: AuditResults, path: str | Path) -> Path:
    """Write results as pretty JSON; returns the path written."""
    path = Path(path)
    atomic_write_text(path, results.model_dump_json(indent=1))
    return path


def load_results(path: str | Path) -> AuditResults:
    """Read a results.json, refusing unknown major schema versions."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TunelensError(f"no such results file: {path}") from None
    except json.JSONDecodeError as exc:
        raise TunelensError(f"{path} is not valid JSON ({exc}); re-run the audit to regenerate it") from None
    version = str(raw.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise TunelensError(
            f"{path} has schema version {version or 'none'}, this tunelens reads {SCHEMA_VERSION}; "
            "re-run the audit with this version"
        )
    try:
        return AuditResults.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TunelensError(f"{path} does not match the results schema at {where}: {first['msg']}") from None
