"""Where tunelens keeps its caches: $TUNELENS_CACHE, else ~/.cache/tunelens."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The user cache directory (created on first use)."""
    root = Path(os.environ.get("TUNELENS_CACHE") or Path.home() / ".cache" / "tunelens")
    root.mkdir(parents=True, exist_ok=True)
    return root


def results_cache_dir() -> Path:
    """Where finished probe results are kept for resume and reuse: $TUNELENS_RESULTS_CACHE, else
    the user cache directory's ``results`` folder. Deleting it only costs recomputation."""
    root = Path(os.environ.get("TUNELENS_RESULTS_CACHE") or cache_dir() / "results")
    root.mkdir(parents=True, exist_ok=True)
    return root
