"""Where tunelens keeps its caches: $TUNELENS_CACHE, else ~/.cache/tunelens."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The user cache directory (created on first use)."""
    root = Path(os.environ.get("TUNELENS_CACHE") or Path.home() / ".cache" / "tunelens")
    root.mkdir(parents=True, exist_ok=True)
    return root
