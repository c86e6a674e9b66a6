"""``tune``: fine-tune a base model on a JSONL file with a recipe, save the checkpoint.

    from tunelens import tune
    run = tune("embedded:smollm2-135m-instruct", "data.jsonl", out_dir="runs/lora", method="lora")
    run.checkpoint  # runs/lora/adapter, loadable as a model reference

The checkpoint is written to a temporary folder and renamed into place when complete, so
an interrupted run never leaves a checkpoint that looks finished.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tunelens.data import read_training_data
from tunelens.errors import TunelensError
from tunelens.models import LoadOptions, load_model
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.results import TrainingInfo
from tunelens.tuning._recipes import RECIPES
from tunelens.tuning._sft import TrainConfig, train


@dataclass(frozen=True)
class TuneResult:
    checkpoint: Path
    training: TrainingInfo
    recipe_options: dict = field(default_factory=dict)


def tune(
    base: str,
    data: str | Path | Sequence[Sequence[dict]],
    *,
    out_dir: str | Path,
    method: str = "lora",
    config: TrainConfig = TrainConfig(),
    recipe_options: dict | None = None,
    options: LoadOptions = LoadOptions(),
    show_progress: bool = True,
) -> TuneResult:
    """Fine-tune ``base`` on ``data`` (a JSONL path or conversations) with ``method``."""
    if method not in RECIPES:
        raise TunelensError(f"unknown tuning method '{method}'; available: {', '.join(RECIPES)}")
    recipe = RECIPES[method]
    conversations = read_training_data(data) if isinstance(data, (str, Path)) else [list(c) for c in data]
    if not conversations:
        raise TunelensError(f"no training examples in {data}")
    out = prepare_out_dir(out_dir)
    loaded = load_model(base, options)
    import torch

    torch.manual_seed(config.seed)  # adapters are initialised randomly: same seed, same run
    model = recipe.prepare(loaded.model, recipe_options or {})
    record = train(model, loaded.tokenizer, conversations, config, show_progress=show_progress)
    target = out / recipe.checkpoint_name
    tmp = out / f".{recipe.checkpoint_name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    recipe.save(model, loaded.tokenizer, tmp, base)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    info = TrainingInfo(
        method=method,
        data=str(data) if isinstance(data, (str, Path)) else f"{len(conversations)} conversations",
        n_examples=len(conversations),
        epochs=config.epochs,
        steps=record.steps,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        loss_curve=record.loss_curve,
        seconds=record.seconds,
        checkpoint=str(target),
    )
    atomic_write_text(out / "training.json", info.model_dump_json(indent=1))
    return TuneResult(checkpoint=target, training=info, recipe_options=dict(recipe_options or {}))


def read_training_info(out_dir: str | Path) -> TrainingInfo | None:
    path = Path(out_dir) / "training.json"
    return TrainingInfo.model_validate(json.loads(path.read_text())) if path.is_file() else None
