"""``tunelens compare`` on the tiny model: every method is trained, audited and updated, the
table and the stale-fact stages are filled from the audits, a second call reuses the runs,
and bad input is refused before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelens.cli.main import main
from tunelens.comparing import compare, load_comparison, parse_method, parse_methods, write_demo_inputs
from tunelens.data import TaskSpec, changed_facts, read_jsonl, write_jsonl
from tunelens.errors import TunelensError

pytestmark = pytest.mark.integration
FAST_PROBES = ("locality",)  # the probes that generate are tested on their own


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("inputs")
    data, task, update, update_task = write_demo_inputs(folder, quick=True)
    # Fewer examples: the tiny model's steps are mostly its vocabulary.
    small = folder / "small.jsonl"
    write_jsonl(small, read_jsonl(data)[:12])
    small_update = folder / "small-update.jsonl"
    write_jsonl(small_update, read_jsonl(update)[:8])
    return {
        "data": small,
        "task": TaskSpec.from_dict(json.loads(task.read_text())),
        "update": small_update,
        "update_task": TaskSpec.from_dict(json.loads(update_task.read_text())),
    }


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, inputs: dict):
    out = tmp_path_factory.mktemp("compare")
    results = compare(
        str(tiny_model_dir),
        inputs["data"],
        task=inputs["task"],
        methods="lora,svf,retrieval,split",
        out_dir=out,
        update_data=inputs["update"],
        update_task=inputs["update_task"],
        epochs=0.5,
        batch_size=4,
        learning_rates={"lora": 5e-3, "svf": 5e-2},
        quick=True,
        probes=FAST_PROBES,
        reply_tokens=8,
    )
    return out, results


def test_every_method_is_trained_audited_and_updated(compared, inputs: dict) -> None:
    out, results = compared
    assert [row.method for row in results.methods] == ["lora", "svf", "retrieval", "split"]
    changes = changed_facts(inputs["task"], inputs["update_task"])
    assert results.changed_facts == [f"{c.id}: {c.old} → {c.new}" for c in changes]
    for row in results.methods[:2]:
        assert row.error == ""
        assert (Path(row.audit_dir) / "results.json").is_file()
        cells = row.cells
        assert set(cells) == {c.metric for c in results.columns}
        assert cells["locality.token_kl_general"].value is not None
        assert "forgetting.general_text_nll" not in cells  # columns come from the probes compared
        assert cells["locality.weight_relative_change"].value > 0
        assert [s.stage for s in row.stale] == ["base", "first", "update"]
        for stage in row.stale:
            assert [f.id for f in stage.facts] == [c.id for c in changes]
            assert all(0.0 <= f.share_new <= 1.0 for f in stage.facts)
        # The update's second run starts from the first run's checkpoint.
        update_info = json.loads((out / "runs" / f"{row.method}-update" / "training.json").read_text())
        meta = json.loads((Path(update_info["checkpoint"]) / "tunelens.json").read_text())
        assert meta["base_ref"] == row.ref
    retrieval = results.methods[2]
    assert retrieval.error == "" and not retrieval.changes_weights and retrieval.trainable_params == 0
    assert retrieval.cells["locality.weight_relative_change"].reason == "no weight changed"
    assert [s.stage for s in retrieval.stale] == ["base", "first", "update"]
    sheet, edited = (out / "facts.txt").read_text(), (out / "facts-updated.txt").read_text()
    for change in changes:
        assert change.old in sheet and change.old not in edited and change.new in edited
    assert retrieval.ref.startswith("retrieval:") and retrieval.stale[2].ref.endswith("facts-updated.txt")
    split = results.methods[3]
    assert split.error == "" and split.changes_weights and split.trainable_params > 0
    checkpoint, sheet = split.ref.removeprefix("retrieval:").split("@")
    assert checkpoint == str((out / "runs" / "split" / "adapter").resolve()) and Path(sheet).name == "facts.txt"
    assert split.cells["locality.weight_relative_change"].value > 0  # the weights under the channel
    # the update is an edit of its own sheet: no second run
    assert split.stale[2].ref.endswith("runs/split/facts-updated.txt") and not (out / "runs" / "split-update").exists()
    edited = (out / "runs" / "split" / "facts-updated.txt").read_text()
    assert all(c.new in edited and c.old not in edited for c in changes)
    assert results.reference == "lora" and all(c.versus is None for c in results.methods[0].cells.values())
    assert all(
        c.versus is not None and c.versus.reference == "lora"
        for r in results.methods[1:]
        for c in r.cells.values()
        if c.value is not None
    )
    saved = load_comparison(out / "compare.json")
    assert saved == results
    page = (out / "compare.html").read_text()
    assert "Gain against cost" in page and "Stale facts" in page and "report.html" in page


def test_a_second_comparison_reuses_the_runs(compared, tiny_model_dir: Path, inputs: dict) -> None:
    out, first = compared
    said: list[str] = []

    def lora_again(progress=lambda message: None):
        return compare(
            str(tiny_model_dir),
            inputs["data"],
            task=inputs["task"],
            methods="lora",
            out_dir=out / "again",
            epochs=0.5,
            batch_size=4,
            learning_rates={"lora": 5e-3},
            quick=True,
            probes=FAST_PROBES,
            progress=progress,
        )

    again = lora_again()
    assert not again.methods[0].reused  # a new folder: nothing to reuse
    third = lora_again(said.append)
    assert third.methods[0].reused
    assert third.methods[0].cells == again.methods[0].cells
    # the model (by fingerprint) and the audit settings are as they were: every probe is reused
    assert " ".join(said).count("reusing its result from an earlier run") == len(FAST_PROBES)


def test_methods_parse_with_their_options() -> None:
    spec = parse_method("full+ignore-k+mix=0.1")
    assert spec.recipe == "full" and spec.extras.ignore_k == 8.0 and spec.extras.mix_general == 0.1
    assert parse_method("retrieval").recipe is None and not parse_method("retrieval").changes_weights
    assert [s.slug for s in parse_methods("lora, svf+ignore-k=4")] == ["lora", "svf_ignore-k4"]
    for bad, says in [
        ("dpo", "unknown method 'dpo'"),
        ("lora+dropout", r"unknown option '\+dropout'"),
        ("lora+ignore-k=x", "needs a number"),
        ("lora+ignore-k=120", "--ignore-k is a percentage"),
        ("retrieval+mix", r"takes no \+options"),
        ("lora,lora", "listed twice"),
    ]:
        with pytest.raises(TunelensError, match=says):
            parse_methods(bad)


def test_bad_input_is_refused_before_any_work(tmp_path: Path, tiny_model_dir: Path, inputs: dict) -> None:
    out = tmp_path / "out"
    with pytest.raises(TunelensError, match="needs both its data"):
        compare(str(tiny_model_dir), inputs["data"], task=inputs["task"], out_dir=out, update_data=inputs["update"])
    with pytest.raises(TunelensError, match="changes no fact"):
        compare(
            str(tiny_model_dir),
            inputs["data"],
            task=inputs["task"],
            out_dir=out,
            update_data=inputs["update"],
            update_task=inputs["task"],
        )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [}\n')
    with pytest.raises(TunelensError, match="line 1"):
        compare(str(tiny_model_dir), bad, task=inputs["task"], out_dir=out)
    assert not out.exists()
    assert main(["compare", str(tiny_model_dir)]) == 2
