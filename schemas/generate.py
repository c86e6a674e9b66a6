"""Write the published JSON Schemas from the code: ``results.schema.json`` and ``task.schema.json``.

Run after changing the results schema (``tunelens.results``) or the task spec (``tunelens.data``):

    .venv/bin/python schemas/generate.py          # rewrite the files in this folder
    .venv/bin/python schemas/generate.py --check  # exit 1 if a file is not what the code gives

tests/unit/test_json_schemas.py runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # run from a checkout without an installed tunelens

COMMAND = "python schemas/generate.py"


def generators() -> dict[str, Callable[[], dict[str, Any]]]:
    """Each published file's name and the function that gives its schema."""
    from tunelens.data import task_json_schema
    from tunelens.results import results_json_schema

    return {"results.schema.json": results_json_schema, "task.schema.json": task_json_schema}


def render(schema: dict[str, Any]) -> str:
    """A schema as the published file holds it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale(folder: Path = HERE) -> list[str]:
    """The files in ``folder`` that are missing or differ from what the code gives now."""
    return [
        name
        for name, make in generators().items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != render(make())
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are up to date")
    args = parser.parse_args(argv)
    if args.check:
        behind = stale()
        for name in behind:
            print(f"schemas/{name} is out of date: run `{COMMAND}`", file=sys.stderr)
        return 1 if behind else 0
    from tunelens.outdir import atomic_write_text

    for name, make in generators().items():
        atomic_write_text(HERE / name, render(make()))
        print(f"wrote schemas/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
