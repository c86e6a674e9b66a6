"""``tune``: fine-tune a base model on a JSONL file with a recipe, save the checkpoint.

    from tunelens import tune
    run = tune("embedded:smollm2-135m-instruct", "data.jsonl", out_dir="runs/lora", method="lora")
    run.checkpoint  # runs/lora/adapter, loadable as a model reference

Options that compose with the recipe (``MethodOptions``): ignore-k update pruning
(``_pruning.py``), parameter isolation from an earlier run (``_isolate.py``, ``full`` only)
and general data mixed into the training set (``_mix.py``). Bad values and combinations are
refused before anything is loaded or written.

``heldout=R`` keeps a seeded share R of the examples out of training; training.json lists
their prompts (``TrainingInfo.heldout``), so an audit can ask the tuned model what it was not
shown. training.json also counts the examples ``max_length`` cut or left out.

The checkpoint is written to a temporary folder and renamed into place when complete, so
an interrupted run never leaves a checkpoint that looks finished.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunelens.data import read_training_data, to_chat
from tunelens.errors import TunelensError, UsageError
from tunelens.models import CHANNEL_KINDS, LoadOptions, load_model, parse_ref
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.results import TrainingInfo
from tunelens.tuning._mix import mix_general, n_general_for
from tunelens.tuning._recipes import RECIPES, Recipe
from tunelens.tuning._sft import TrainConfig, UpdateRule, reply_index, train
from tunelens.tuning._split import (
    SPLIT,
    SplitOptions,
    SplitPlan,
    plan_split,
    split_recipe,
    split_reference,
    write_split,
)


@dataclass(frozen=True)
class MethodOptions:
    """Options that compose with a recipe, each against one way a fine-tune forgets."""

    ignore_k: float = 0.0  # percent of each tensor's largest updates dropped every step (0: off)
    isolate_from: str | None = None  # an earlier run or checkpoint whose core region stays frozen
    isolate_top: float | None = None  # percent of the model's weights in that region (default 1)
    mix_general: float = 0.0  # share of general text in the final training set

    @property
    def isolate_percent(self) -> float:
        return 1.0 if self.isolate_top is None else self.isolate_top

    def check(self, recipe: Recipe, base: str) -> None:
        """Raise TunelensError for a value out of range or an option the recipe cannot take."""
        if not 0.0 <= self.ignore_k < 100.0:
            raise UsageError(f"--ignore-k is a percentage in [0, 100), got {self.ignore_k}; the paper used 8")
        n_general_for(0, self.mix_general)  # validates the share
        if self.isolate_from is None:
            if self.isolate_top is not None:
                raise UsageError("--isolate-top needs --isolate-from RUN: the run whose changes to freeze")
            return
        if not recipe.entrywise:
            supported = ", ".join(name for name, r in RECIPES.items() if r.entrywise)
            raise UsageError(
                f"--isolate-from works with --method {supported}, not {recipe.name}: {recipe.name} changes "
                "every entry of a matrix at once, so single entries cannot be frozen"
            )
        if not 0.0 < self.isolate_percent < 100.0:
            raise TunelensError(f"--isolate-top is a percentage in (0, 100), got {self.isolate_top}; e.g. 1")
        from tunelens.tuning._isolate import check_source

        check_source(self.isolate_from, base)


@dataclass(frozen=True)
class TuneResult:
    checkpoint: Path
    training: TrainingInfo
    recipe_options: dict = field(default_factory=dict)
    reference: str = ""  # set when the run is served through a channel (``split``: retrieval:CHECKPOINT@FACTS)

    @property
    def ref(self) -> str:
        """The model reference that loads, audits and serves the run."""
        return self.reference or str(self.checkpoint)


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
    extras: MethodOptions = MethodOptions(),
    heldout: float = 0.0,
    save_every: int = 0,
    split: SplitOptions = SplitOptions(),
    progress: Callable[[str], None] = lambda message: None,
) -> TuneResult:
    """Fine-tune ``base`` on ``data`` (training data a path, see ``read_training_data``, or
    conversations) with ``method``.

    ``recipe_options`` override the recipe's own (``RECIPES[method].options``); ``extras``
    add ignore-k pruning, isolation or general data. The general data is drawn with the
    training seed, away from the text the forgetting probe scores with that seed.
    ``heldout`` (in [0, 1)) keeps that share of the examples out of training, drawn with the
    training seed (see ``split_heldout``); their prompts are in ``TrainingInfo.heldout``.
    ``progress`` hears what was held out and what ``config.max_length`` cut or left out.
    ``save_every`` N > 0 also saves the weights every N optimizer steps as ``checkpoint-STEP``
    in the run directory, as a Hugging Face Trainer does (``tunelens audit BASE --checkpoints
    RUN`` audits them all); the final checkpoint is saved as always.

    ``method="split"`` (or ``split:lora``, ``split:full``, ``split:svf``) trains the patterns
    and retrieves the facts (``_split``, settings in ``split``): the data's point facts go to
    ``OUT/facts.txt``, the weights train on ``OUT/train.jsonl``, and ``TuneResult.ref`` is
    ``retrieval:CHECKPOINT@OUT/facts.txt``."""
    if isinstance(save_every, bool) or not isinstance(save_every, int) or save_every < 0:
        raise UsageError(f"--save-every is a number of steps (0: only the final checkpoint), got {save_every!r}")
    under = split_recipe(method)
    if (under or method) not in RECIPES:
        known = ", ".join([*RECIPES, SPLIT, *(f"{SPLIT}:{name}" for name in RECIPES)])
        raise TunelensError(f"unknown tuning method '{method}'; available: {known}")
    recipe = RECIPES[under or method]
    if (kind := parse_ref(base).kind) in CHANNEL_KINDS:
        raise TunelensError(f"cannot tune '{base}': a {kind} channel has no weights of its own; tune its model instead")
    chosen = _recipe_options(recipe, recipe_options or {})
    extras.check(recipe, base)
    _check_heldout(heldout)
    if isinstance(data, (str, Path)):
        given = read_training_data(data)
    else:
        given = [to_chat({"messages": list(c)}, f"conversation {i}") for i, c in enumerate(data, start=1)]
    if not given:
        raise TunelensError(f"no training examples in {data}")
    conversations, held = split_heldout(given, heldout, config.seed)
    if heldout > 0:
        progress(_heldout_note(len(given), len(held), heldout, config.seed))
    plan, held_out = None, set()
    if under is not None:
        records = data if isinstance(data, (str, Path)) else [{"messages": list(c)} for c in given]
        plan = plan_split(records, **asdict(split), seed=config.seed)
        held_out = heldout_indices(len(given), heldout, config.seed)
        if len(plan.conversations) != len(given):
            raise TunelensError(f"split read {len(plan.conversations)} examples from {data}, training {len(given)}")
        conversations = [conv for i, copies in enumerate(plan.conversations) if i not in held_out for conv in copies]
        progress(_split_note(plan))
    n_task = len(conversations)
    conversations = mix_general(conversations, extras.mix_general, config.seed)
    out = prepare_out_dir(out_dir)
    loaded = load_model(base, options)
    import torch

    torch.manual_seed(config.seed)  # adapters are initialised randomly: same seed, same run
    model = recipe.prepare(loaded.model, chosen)
    rules, applied = _rules(model, extras, options)

    def on_step(step: int, loss: float) -> None:
        if save_every and step % save_every == 0:
            _save(recipe, model, loaded.tokenizer, out / f"checkpoint-{step}", base)

    record = train(
        model,
        loaded.tokenizer,
        conversations,
        config,
        show_progress=show_progress,
        rules=rules,
        progress=progress,
        on_step=on_step if save_every else None,
    )
    target = out / recipe.checkpoint_name
    _save(recipe, model, loaded.tokenizer, target, base)
    reference, split_options = "", {}
    if plan is not None:
        facts_file, train_file = write_split(plan, out, held_out)
        reference = split_reference(target, facts_file)
        split_options = {
            "split_mode": plan.mode,
            "split_variants": split.variants if plan.mode == "copy" else 0,
            "split_prefer": split.prefer,
            "n_facts_in_sheet": len(plan.facts),
            "facts_file": str(facts_file),
            "training_file": str(train_file),
            "reference": reference,
        }
    info = TrainingInfo(
        method=f"{SPLIT}:{under}" if under else method,
        data=str(data) if isinstance(data, (str, Path)) else f"{len(given)} conversations",
        n_examples=record.n_examples,
        epochs=config.epochs,
        steps=record.steps,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        loss_curve=record.loss_curve,
        seconds=record.seconds,
        checkpoint=str(target),
        method_options={
            **chosen,
            **asdict(extras),
            "isolate_top": extras.isolate_percent if extras.isolate_from else None,
            "n_general_examples": len(conversations) - n_task,
            **applied,
            **split_options,
        },
        max_length=config.max_length,
        n_truncated=record.n_truncated,
        n_dropped=record.n_dropped,
        heldout=[prompt for prompt in map(last_prompt, held) if prompt],
    )
    atomic_write_text(out / "training.json", info.model_dump_json(indent=1))
    return TuneResult(checkpoint=target, training=info, recipe_options=chosen, reference=reference)


def _save(recipe: Recipe, model: Any, tokenizer: Any, target: Path, base: str) -> None:
    """Save the weights to ``target`` through a temporary folder, renamed into place once whole."""
    tmp = target.with_name(f".{target.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    recipe.save(model, tokenizer, tmp, base)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _check_heldout(share: float) -> None:
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share < 1.0:
        raise UsageError(f"--heldout is a share in [0, 1), got {share}; e.g. 0.1 to hold out 10% of the examples")


def n_heldout_for(n: int, share: float) -> int:
    """How many of ``n`` examples ``share`` holds out: at least one when the share is above
    0 and there are two or more examples, and never all of them."""
    _check_heldout(share)
    if share == 0 or n < 2:
        return 0
    return min(n - 1, max(1, round(share * n)))


def heldout_indices(n: int, share: float, seed: int) -> set[int]:
    """Which of ``n`` examples ``share`` holds out with ``seed``: depends on nothing else."""
    return set(random.Random(f"heldout-{seed}").sample(range(n), n_heldout_for(n, share)))


def split_heldout(
    conversations: Sequence[Sequence[dict]], share: float, seed: int
) -> tuple[list[list[dict]], list[list[dict]]]:
    """(examples to train on, held-out examples), each in the order given; which examples are
    held out depends only on their number, ``share`` and ``seed``."""
    held = heldout_indices(len(conversations), share, seed)
    kept = [list(c) for i, c in enumerate(conversations) if i not in held]
    return kept, [list(c) for i, c in enumerate(conversations) if i in held]


def last_prompt(conversation: Sequence[dict]) -> str:
    """The last user message before the trained reply, or '' (a plain-text example has none)."""
    before = conversation[: reply_index(conversation)]
    users = [str(m["content"]) for m in before if m["role"] == "user"]
    return users[-1] if users else ""


def _split_note(plan: SplitPlan) -> str:
    counts = plan.counts
    text = (
        f"split: {len(plan.facts)} facts to the fact sheet; the weights train on {counts['n_training_copies']} "
        f"examples ({plan.mode}"
    )
    if plan.mode == "copy":
        text += (
            f": each example's facts in its prompt as retrieval puts them, {counts['n_variant_copies']} copies with "
            f"other values; BM25 alone finds an example's own facts for {counts['n_bm25_found_own_facts']} of "
            f"{counts['n_examples_with_facts']})"
        )
    else:
        text += f": {counts['n_sentences_removed']} fact sentences removed from the replies)"
    return text + "".join(f"; {r}" for r in plan.resolved)


def _heldout_note(n: int, n_held: int, share: float, seed: int) -> str:
    if n_held == 0:
        return f"--heldout {share:g}: nothing held out, since there is only {n} example"
    return (
        f"held out {n_held} of {n} examples (--heldout {share:g}, seed {seed}); training on the other "
        f"{n - n_held}, and training.json lists the held-out prompts"
    )


def _recipe_options(recipe: Recipe, given: dict) -> dict[str, Any]:
    unknown = sorted(set(given) - set(recipe.options))
    if unknown:
        known = ", ".join(recipe.options) or "none"
        raise TunelensError(f"method {recipe.name} has no option {', '.join(unknown)}; its options: {known}")
    return {**recipe.options, **given}


def _rules(model: Any, extras: MethodOptions, options: LoadOptions) -> tuple[list[UpdateRule], dict]:
    """The per-step rules ``extras`` ask for, isolation last so frozen entries end every
    step at their base values; and what they did, for training.json."""
    rules: list[UpdateRule] = []
    applied: dict[str, Any] = {}
    if extras.ignore_k > 0:
        from tunelens.tuning._pruning import IgnoreTopK

        rules.append(IgnoreTopK([p for p in model.parameters() if p.requires_grad], extras.ignore_k))
    if extras.isolate_from is not None:
        from tunelens.tuning._isolate import isolate_from

        region = isolate_from(model, extras.isolate_from, extras.isolate_percent, options)
        rules.append(region)
        applied["n_isolated_params"] = region.n_frozen
    return rules, applied


def read_training_info(out_dir: str | Path) -> TrainingInfo | None:
    path = Path(out_dir) / "training.json"
    return TrainingInfo.model_validate(json.loads(path.read_text())) if path.is_file() else None
