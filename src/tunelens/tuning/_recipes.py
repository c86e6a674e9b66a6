"""Tuning recipes: which weights train, and how the result is saved.

``lora``: low-rank adapters (Hu et al. 2022) on every attention and MLP projection; the
saved adapter stays separate from the base, so detaching it gives the base back exactly.
``full``: every weight trains; the checkpoint is a complete safetensors model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.models import ADAPTER_META

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class Recipe:
    name: str
    prepare: Callable[[Any, dict], Any]  # (model, options) -> model to train
    save: Callable[[Any, Any, Path, str], None]  # (model, tokenizer, target dir, base_ref)
    checkpoint_name: str  # folder name of the checkpoint inside the run directory


def _lora_prepare(model: Any, options: dict) -> Any:
    from peft import LoraConfig, get_peft_model

    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    targets = [t for t in LORA_TARGETS if t in names] or ["c_attn", "c_proj"]
    config = LoraConfig(
        r=int(options.get("rank", 16)),
        lora_alpha=int(options.get("alpha", 32)),
        lora_dropout=0.0,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _lora_save(model: Any, tokenizer: Any, target: Path, base_ref: str) -> None:
    model.save_pretrained(str(target), safe_serialization=True)
    (target / ADAPTER_META).write_text(json.dumps({"base_ref": base_ref, "method": "lora"}, indent=1))


def _full_prepare(model: Any, options: dict) -> Any:
    model.requires_grad_(True)
    return model


def _full_save(model: Any, tokenizer: Any, target: Path, base_ref: str) -> None:
    model.save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    (target / ADAPTER_META).write_text(json.dumps({"base_ref": base_ref, "method": "full"}, indent=1))


RECIPES: dict[str, Recipe] = {
    "lora": Recipe("lora", _lora_prepare, _lora_save, "adapter"),
    "full": Recipe("full", _full_prepare, _full_save, "model"),
}
