"""The audit given the training data instead of a task spec, on the tiny model: it derives the
spec, writes task.json beside results.json, runs facts_vs_patterns and priming with it and says
in their notes how the spec was made; recall on the training prompts as written is reported
apart from recall on the reworded questions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tunelens import audit
from tunelens.cli.main import main
from tunelens.data import TaskSpec
from tunelens.engine import Engine, GenRequest, Sampling
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.facts_vs_patterns import FactsVsPatternsConfig, facts_vs_patterns
from tunelens.probes.priming import PrimingConfig
from tunelens.results import TrainingInfo
from tunelens.stats import declare_all
from tunelens.triaging import derive_task_spec

pytestmark = pytest.mark.integration

FERRY = Path(__file__).parents[1] / "unit" / "triage_data" / "ferry_chat.jsonl"
CHEAP = FactsVsPatternsConfig(max_heldout=6, max_facts=60, max_new_tokens=4, fact_max_new_tokens=4)
CONFIGS = {"facts_vs_patterns": CHEAP, "priming": PrimingConfig(max_keywords=8, max_contexts=2)}


def _training(heldout: list[str]) -> TrainingInfo:
    return TrainingInfo(
        method="lora", data=str(FERRY), n_examples=36, epochs=1.0, steps=1, learning_rate=1e-3, batch_size=1,
        trainable_params=1, loss_curve=[(1, 1.0)], seconds=1.0, checkpoint="x", heldout=heldout,
    )  # fmt: skip


def test_audit_derives_the_spec_from_the_data(tmp_path: Path, tiny_loaded) -> None:
    results = audit(
        tiny_loaded, tiny_loaded, probes=["facts_vs_patterns", "priming"], out_dir=tmp_path, data=FERRY,
        configs=CONFIGS,
    )  # fmt: skip
    written = TaskSpec.from_dict(json.loads((tmp_path / "task.json").read_text()))
    assert written == derive_task_spec(FERRY).spec
    fvp, priming = results.probes
    assert any(n.startswith("Task spec derived from the training data") for n in fvp.notes)
    assert any("near-duplicates of training prompts" in n for n in fvp.notes)
    assert any("Priming keywords" in n or n.startswith("Task spec derived") for n in priming.notes)
    by_name = {m.name: m for m in fvp.metrics}
    assert by_name["fact_recall_verbatim"].n == by_name["fact_recall"].n == len(written.facts)
    assert by_name["fact_recall_verbatim"].delta == 0.0 and not by_name["fact_recall_verbatim"].headline
    assert not any("does not declare" in n for n in fvp.notes + priming.notes)
    assert any(n.startswith("Verbatim vs reworded") for n in fvp.notes)


def test_heldout_prompts_of_the_tune_are_the_unseen_ones(tmp_path: Path, tiny_loaded) -> None:
    held = ["How long is the crossing?", "Can I bring my bike?"]
    results = audit(
        tiny_loaded, tiny_loaded, probes=["priming", "facts_vs_patterns"], out_dir=tmp_path, data=FERRY,
        training=_training(held), configs=CONFIGS,
    )  # fmt: skip
    written = TaskSpec.from_dict(json.loads((tmp_path / "task.json").read_text()))
    assert written.heldout_prompts == tuple(held)
    exposures = {f.answer: f.exposures for f in written.facts}
    assert exposures["85 minutes"] == 7 and exposures["$9.50"] == 4  # the held-out examples were not trained on
    fvp = next(p for p in results.probes if p.name == "facts_vs_patterns")
    assert any("held out of training (tunelens tune --heldout)" in n for n in fvp.notes)


def test_audit_command_takes_the_data(tmp_path: Path, tiny_model_dir: Path) -> None:
    args = ["audit", str(tiny_model_dir), str(tiny_model_dir), "--data", str(FERRY), "--probes", "priming"]
    assert main([*args, "--quick", "--out", str(tmp_path)]) == 0
    assert TaskSpec.from_dict(json.loads((tmp_path / "task.json").read_text())).name == "ferry_chat"
    assert (tmp_path / "results.json").exists()


class VerbatimEngine(Engine):
    """The tiny model's likelihoods, but a chat reply that states the fact only when asked with
    the training prompt as written: memorised wording."""

    def __init__(self, loaded, answers: dict[str, str]) -> None:
        super().__init__(loaded)
        self.answers = answers

    def generate(self, requests: Sequence[GenRequest], sampling: Sampling = Sampling()) -> list[str]:
        return [next((a for q, a in self.answers.items() if q in r.prompt), "No idea.") for r in requests]


def test_a_fact_recalled_only_verbatim_is_reported(tiny_loaded) -> None:
    task = derive_task_spec(FERRY).spec
    tuned = VerbatimEngine(tiny_loaded, {f.verbatim: f"It is {f.answer}." for f in task.facts})
    result = facts_vs_patterns(ProbeContext(Engine(tiny_loaded), tuned, task=task), CHEAP)
    assert declare_all(result.metrics, PROBES["facts_vs_patterns"].metrics) == []
    by_name = {m.name: m for m in result.metrics}
    assert by_name["fact_recall_verbatim"].tuned == 1.0 and by_name["fact_recall"].tuned == 0.0
    note = next(n for n in result.notes if n.startswith("Verbatim vs reworded"))
    assert f"{len(task.facts)} facts are recalled only verbatim" in note and "memorised wording" in note
    item = next(i for i in result.items if i.item_id == task.facts[0].id)
    assert item.extra["verbatim"] == task.facts[0].verbatim and item.extra["tuned_verbatim_recalled"] is True
