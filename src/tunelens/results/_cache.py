"""One cache of finished results, keyed by what they were computed from.

A probe's result depends on the two models (their fingerprints), the probe's config, the
seed, the task spec and the user's suite, and on the code that computed it. The key hashes all
of them, the code by a hash of tunelens's own source files, so a result computed by another
version or an edited checkout is never reused. The audit reads the cache before it runs a
probe (a killed audit resumes where it stopped; ``compare`` reuses the audit of a method that
did not change) and writes every result as soon as the probe finishes.

The base model's outputs of a probe (``tunelens.engine.Memo``) are kept here too, keyed by
the base alone, so auditing another checkpoint or method against the same base replays them.

Entries are JSON files under ``$TUNELENS_RESULTS_CACHE`` (default: ``~/.cache/tunelens/results``),
one folder per kind of entry; an entry that no longer reads is ignored and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tunelens.outdir import atomic_write_text
from tunelens.paths import results_cache_dir
from tunelens.results._schema import ProbeResult


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of every source file of the installed tunelens package."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(fields: dict[str, Any]) -> str:
    """The hash of ``fields`` (JSON-serialisable) and the code's fingerprint."""
    text = json.dumps({"fields": fields, "code": code_fingerprint()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ResultCache:
    """Probe results on disk, by key (``cache_key``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else results_cache_dir()

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.json"

    def get_probe(self, key: str) -> tuple[ProbeResult, dict[str, Any]] | None:
        """The stored result and its metadata (when and in how long it was computed), or None."""
        path = self._path("probe", key)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return ProbeResult.model_validate(raw["result"]), dict(raw.get("meta", {}))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None  # a damaged or outdated entry: recompute it

    def put_probe(self, key: str, result: ProbeResult, meta: dict[str, Any]) -> None:
        payload = {"meta": meta, "result": json.loads(result.model_dump_json())}
        try:
            atomic_write_text(self._path("probe", key), json.dumps(payload))
        except OSError:
            pass  # a cache that cannot be written costs recomputation, never the audit

    def get_entry(self, kind: str, key: str) -> dict[str, Any] | None:
        """Any other JSON entry (the base model's memo of a probe: ``kind`` "base"), or None."""
        try:
            raw = json.loads(self._path(kind, key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return raw if isinstance(raw, dict) else None

    def put_entry(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        try:
            atomic_write_text(self._path(kind, key), json.dumps(payload))
        except OSError:
            pass


__all__ = ["ResultCache", "cache_key", "code_fingerprint"]
