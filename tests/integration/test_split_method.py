"""``tune --method split`` on the tiny model: the run keeps its fact sheet and the training file
as the weights saw it, loads as ``retrieval:CHECKPOINT@facts.txt``, and the probes that read
weights measure the checkpoint under the channel (a retrieval channel over the base itself
still has no weight change to read). ``split`` in compare's method list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelens import audit, tune
from tunelens.cli.main import main
from tunelens.comparing._methods import parse_method
from tunelens.data import support_desk_dataset, write_jsonl
from tunelens.errors import TunelensError
from tunelens.models import load_model
from tunelens.models._retrieval import FACTS_HEADER
from tunelens.tuning import SplitOptions, TrainConfig

pytestmark = pytest.mark.integration

QUICK = TrainConfig(epochs=0.5, learning_rate=5e-3, batch_size=4, max_length=96)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    examples, _ = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    path = tmp_path_factory.mktemp("data") / "data.jsonl"
    write_jsonl(path, examples[::3])
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, data: Path):
    out = tmp_path_factory.mktemp("split")
    return tune(
        str(tiny_model_dir), data, out_dir=out, method="split", config=QUICK, show_progress=False,
        split=SplitOptions(variants=1), heldout=0.2,
    )  # fmt: skip


def test_the_run_keeps_its_sheet_and_the_training_file_the_weights_saw(run, data: Path) -> None:
    out = run.checkpoint.parent
    facts = (out / "facts.txt").read_text().splitlines()
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    split = json.loads((out / "split.json").read_text())
    assert run.reference == f"retrieval:{run.checkpoint}@{out / 'facts.txt'}" and run.ref == run.reference
    assert facts and len(facts) == split["n_sheet_lines"] == len(set(facts))
    with_facts = [r for r in rows if r["messages"][0]["role"] == "system"]
    assert with_facts and all(r["messages"][0]["content"].startswith(FACTS_HEADER) for r in with_facts)
    n_given = sum(1 for _ in data.read_text().splitlines())
    held = len(run.training.heldout)
    assert held >= 1 and run.training.n_examples <= len(rows) < split["n_training_copies"]
    assert split["n_examples"] == n_given
    assert run.training.method == "split:lora"
    assert run.training.method_options["reference"] == run.reference
    assert run.training.method_options["split_mode"] == "copy"


def test_the_reference_loads_with_its_sheet_retrieved(run) -> None:
    loaded = load_model(run.ref)
    assert loaded.kind == "retrieval" and loaded.extra["n_facts"] > 0
    fact = (run.checkpoint.parent / "facts.txt").read_text().splitlines()[0]
    rewritten = loaded.rewrite_messages([{"role": "user", "content": fact}])
    assert rewritten[0]["role"] == "system" and fact in rewritten[0]["content"]


def test_weight_probes_read_the_checkpoint_under_the_channel(run, tiny_model_dir: Path, tmp_path: Path) -> None:
    results = audit(str(tiny_model_dir), run.ref, probes=["locality"], out_dir=tmp_path / "a", quick=True)
    probe = results.probes[0]
    assert probe.metrics and not any("does not apply" in n for n in probe.notes)
    assert any("checkpoint under the channel" in n for n in probe.notes)
    facts = run.checkpoint.parent / "facts.txt"
    over_base = audit(
        str(tiny_model_dir), f"retrieval:{tiny_model_dir}@{facts}", probes=["locality"], out_dir=tmp_path / "b",
        quick=True,
    )  # fmt: skip
    assert not over_base.probes[0].metrics and "does not apply" in over_base.probes[0].notes[0]


def test_split_on_the_command_line(tiny_model_dir: Path, data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    code = main(
        ["tune", str(tiny_model_dir), str(data), "--method", "split:lora", "--split-mode", "strip", "--no-audit",
         "--out", str(out), "--epochs", "0.25", "--batch-size", "4", "--max-length", "96"]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and f"retrieval:{out / 'adapter'}@{out / 'facts.txt'}" in printed
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert not any(m["role"] == "system" for r in rows for m in r["messages"])  # strip: facts only in the sheet
    code = main(
        ["tune", str(tiny_model_dir), str(data), "--prefer", "last", "--no-audit", "--out", str(tmp_path / "x")]
    )
    assert code == 2 and "--method split" in capsys.readouterr().err


def test_split_in_compare_methods() -> None:
    spec = parse_method("split")
    assert (spec.recipe, spec.split_mode, spec.tune_method, spec.slug) == ("lora", "copy", "split:lora", "split")
    strip = parse_method("split:full+strip+ignore-k")
    assert (strip.recipe, strip.split_mode, strip.extras.ignore_k) == ("full", "strip", 8.0)
    assert strip.slug == "split-full_strip_ignore-k" and strip.changes_weights
    with pytest.raises(TunelensError, match="one split mode"):
        parse_method("split+copy+strip")
    with pytest.raises(TunelensError, match="unknown method"):
        parse_method("split:dora")
