"""Tuning recipes and the audit pipeline on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tunelens import audit, tune
from tunelens.data import support_desk_dataset, write_jsonl
from tunelens.models import load_model
from tunelens.results import Verdict, load_results
from tunelens.tuning import TrainConfig

pytestmark = pytest.mark.integration

QUICK_TRAIN = TrainConfig(epochs=1.0, learning_rate=5e-3, batch_size=8, max_length=128)


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory):
    examples, task = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    path = tmp_path_factory.mktemp("data") / "data.jsonl"
    write_jsonl(path, examples)
    return path, task


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, demo_data):
    return tune(
        str(tiny_model_dir),
        demo_data[0],
        out_dir=tmp_path_factory.mktemp("lora"),
        method="lora",
        config=QUICK_TRAIN,
        show_progress=False,
    )


def test_lora_trains_saves_and_detaches_exactly(lora_run, tiny_model_dir: Path) -> None:
    from peft import PeftModel

    assert (lora_run.checkpoint / "adapter_model.safetensors").is_file()
    assert len(lora_run.training.loss_curve) == lora_run.training.steps > 0
    assert lora_run.training.loss_curve[-1][1] < lora_run.training.loss_curve[0][1]
    base = load_model(str(tiny_model_dir))
    ids = torch.tensor([base.tokenizer("Hello from the support desk")["input_ids"]])
    with torch.no_grad():
        before = base.model(input_ids=ids).logits.clone()
        peft_model = PeftModel.from_pretrained(base.model, str(lora_run.checkpoint))
        with_adapter = peft_model(input_ids=ids).logits
        with peft_model.disable_adapter():
            detached = peft_model(input_ids=ids).logits
    assert not torch.allclose(with_adapter, before)  # the adapter changes the model ...
    assert torch.equal(detached, before)  # ... and detaching it gives the base back exactly
    tuned = load_model(str(lora_run.checkpoint))  # an adapter directory is a model reference
    assert tuned.kind == "adapter"


def test_full_tune_writes_a_loadable_model(tmp_path: Path, tiny_model_dir: Path, demo_data) -> None:
    run = tune(
        str(tiny_model_dir),
        demo_data[0],
        out_dir=tmp_path,
        method="full",
        config=TrainConfig(epochs=0.5, learning_rate=1e-3, batch_size=8, max_length=96),
        show_progress=False,
    )
    assert (run.checkpoint / "model.safetensors").is_file()
    assert json.loads((tmp_path / "training.json").read_text())["method"] == "full"
    assert load_model(str(run.checkpoint)).kind == "directory"


def test_null_audit_reports_no_change(tmp_path: Path, tiny_model_dir: Path, demo_data) -> None:
    """A model audited against itself must show no significant change on any metric."""
    results = audit(str(tiny_model_dir), str(tiny_model_dir), out_dir=tmp_path, task=demo_data[1], quick=True)
    metrics = results.metrics()
    assert len(metrics) > 10
    assert all(m.verdict != Verdict.changed for m in metrics)
    assert all(m.delta in (0.0, None) for m in metrics)
    assert {m.verdict for m in metrics} <= {Verdict.equivalent, Verdict.inconclusive, None}
    # Every metric every probe emitted matches one of that probe's declarations.
    assert not [n for p in results.probes for n in p.notes if "does not declare" in n]
    assert all(m.margin is not None for m in metrics if m.verdict is not None)
    assert load_results(tmp_path / "results.json") == results
    assert (tmp_path / "report.html").stat().st_size > 1000


def test_audit_of_a_tune_carries_training_and_all_fields(
    tmp_path: Path, tiny_model_dir: Path, lora_run, demo_data
) -> None:
    results = audit(
        str(tiny_model_dir),
        str(lora_run.checkpoint),
        out_dir=tmp_path,
        task=demo_data[1],
        quick=True,
        probes=["facts_vs_patterns"],
        training=lora_run.training,
    )
    raw = json.loads((tmp_path / "results.json").read_text())
    assert raw["schema_version"].startswith("1.")
    assert raw["training"]["method"] == "lora"
    metric = raw["probes"][0]["metrics"][0]
    for key in ("name", "base", "tuned", "delta", "ci_low", "ci_high", "n", "verdict"):
        assert key in metric
    assert metric["verdict"] in ("changed", "equivalent", "inconclusive")
    assert results.tuned.kind == "adapter"
    assert results.base.tokenizer_fingerprint == results.tuned.tokenizer_fingerprint


def test_trimmed_loss_equals_the_full_sequence_loss(tiny_model_dir: Path, monkeypatch) -> None:
    from tunelens.tuning import _sft

    loaded = load_model(str(tiny_model_dir))
    examples, _ = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    batch = [_sft.encode_conversation(loaded.tokenizer, e["messages"], 256) for e in examples[:5]]
    ids, labels, mask = _sft._collate(batch, 0)
    with torch.no_grad():
        full = loaded.model(input_ids=ids, attention_mask=mask, labels=labels).loss
        gathered = _sft.causal_lm_loss(loaded.model, ids, labels, mask)
        # A model whose forward changes its logits after the unembedding keeps that forward.
        monkeypatch.setattr(_sft, "decoder_and_unembedding", lambda model: None)
        own_forward = _sft.causal_lm_loss(loaded.model, ids, labels, mask)
    assert gathered.item() == pytest.approx(full.item(), rel=1e-5)
    assert own_forward.item() == pytest.approx(full.item(), rel=1e-5)


def test_a_shared_prefix_run_once_gives_the_same_loss_and_gradients(tiny_model_dir: Path, monkeypatch) -> None:
    """The chat template's system prompt, shared by every example, runs once for the batch,
    and only labelled positions are unembedded; the loss and every parameter's gradient (the
    tied unembedding's included) are those of the model's own full-sequence pass."""
    from tunelens.tuning import _sft

    loaded = load_model(str(tiny_model_dir))
    examples, _ = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    batch = [_sft.encode_conversation(loaded.tokenizer, e["messages"], 256) for e in examples[:5]]
    ids, labels, mask = _sft._collate(batch, 0)
    assert _sft._shared_prefix(ids, mask, ids.shape[1]) >= _sft.SHARED_PREFIX_MIN
    model = loaded.model
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)
    grads = []
    # The model's own forward with labels (every position unembedded) is the reference; then
    # the shared prefix run once, then not (both unembed only the labelled positions).
    for minimum in (None, _sft.SHARED_PREFIX_MIN, 10**9):
        monkeypatch.setattr(_sft, "SHARED_PREFIX_MIN", minimum or 0)
        model.zero_grad()
        if minimum is None:
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        else:
            loss = _sft.causal_lm_loss(model, ids, labels, mask)
        loss.backward()
        grads.append((loss.item(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    model.eval()
    (full_loss, full_grads), *ours = grads
    for loss, got in ours:
        assert loss == pytest.approx(full_loss, rel=1e-5)
        assert got.keys() == full_grads.keys() and len(full_grads) > 5
        for name, grad in full_grads.items():
            assert torch.allclose(got[name], grad, atol=1e-5, rtol=1e-4), name


def test_null_audits_from_a_real_audit_keep_their_error_rates(
    tmp_path: Path, tiny_model_dir: Path, lora_run, demo_data
) -> None:
    """Calibration on a real audit's items: swapping the two models' outcomes item by item
    at random (2,000 null audits) must keep the family-wise error of the headline metrics and
    the false discovery rate of the report at or under 5%."""
    from tunelens.stats._calibration import null_audits

    results = audit(
        str(tiny_model_dir),
        str(lora_run.checkpoint),
        out_dir=tmp_path,
        task=demo_data[1],
        quick=True,
        probes=["forgetting", "facts_vs_patterns", "context", "diversity"],
    )
    calibration = null_audits(results.metrics(), n_audits=2000, seed=0)
    assert calibration.n_metrics >= 10 and calibration.n_headline >= 3
    assert calibration.familywise_rate <= 0.05
    assert calibration.false_discovery_rate <= 0.05


def test_tune_holds_out_examples_and_counts_what_max_length_cut(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunelens.data import read_training_data
    from tunelens.tuning import _tune

    records = [{"prompt": f"Where is office {i}?", "completion": f"On floor {i}."} for i in range(12)]
    records += [{"prompt": "Tell me everything.", "completion": "word " * 60}] * 2  # cut at the limit
    records.append({"prompt": "word " * 60, "completion": "Yes."})  # nothing of the reply fits: left out
    records.append({"text": "A note with no prompt."})
    path = tmp_path / "train.jsonl"
    write_jsonl(path, records)
    trained: list[list[dict]] = []
    real_train = _tune.train

    def spy(model, tokenizer, conversations, *args, **kwargs):
        trained.extend(conversations)
        return real_train(model, tokenizer, conversations, *args, **kwargs)

    monkeypatch.setattr(_tune, "train", spy)
    heard: list[str] = []
    config = TrainConfig(epochs=1.0, learning_rate=5e-3, batch_size=8, max_length=64, seed=3)
    run = tune(
        str(tiny_model_dir), path, out_dir=tmp_path / "run", config=config, show_progress=False,
        heldout=0.25, progress=heard.append,
    )  # fmt: skip
    kept, held = _tune.split_heldout(read_training_data(path), 0.25, seed=3)
    assert trained == kept  # the held-out examples were not trained on
    # Seed 3 holds out examples 7, 9 and 13 (one of the two long replies) and the text record.
    assert run.training.heldout == ["Where is office 6?", "Where is office 8?", "Tell me everything."]
    info = json.loads((tmp_path / "run" / "training.json").read_text())
    assert info["heldout"] == run.training.heldout and info["max_length"] == 64
    assert (info["n_examples"], info["n_truncated"], info["n_dropped"]) == (11, 1, 1)
    assert heard == [
        "held out 4 of 16 examples (--heldout 0.25, seed 3); training on the other 12, and training.json lists "
        "the held-out prompts",
        "2 of 12 examples are longer than --max-length 64 tokens: 1 was cut to 64 (their reply's end is not "
        "trained) and 1 had no reply token within the limit and was left out. Raise --max-length to keep them.",
    ]
    again = tune(  # the same data and seed hold out the same examples
        str(tiny_model_dir), path, out_dir=tmp_path / "again", config=config, show_progress=False, heldout=0.25
    )
    assert again.training.heldout == run.training.heldout


def test_tune_refuses_when_max_length_leaves_out_every_example(tmp_path: Path, tiny_model_dir: Path) -> None:
    from tunelens.errors import TunelensError

    path = tmp_path / "long.jsonl"
    write_jsonl(path, [{"prompt": "word " * 60, "completion": "Yes."}] * 3)
    with pytest.raises(TunelensError, match=r"all 3 examples were left out.*Raise --max-length above"):
        tune(
            str(tiny_model_dir), path, out_dir=tmp_path / "run", config=TrainConfig(max_length=24), show_progress=False
        )
    assert not (tmp_path / "run" / "training.json").exists()


def test_cli_tune_heldout_reports_and_records_it(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunelens.cli.main import main

    data = tmp_path / "data.json"  # a JSON array, as people export it
    data.write_text(json.dumps([{"instruction": f"Where is office {i}?", "output": f"Floor {i}."} for i in range(6)]))
    out = tmp_path / "run"
    args = ["tune", str(tiny_model_dir), str(data), "--out", str(out), "--no-audit", "--epochs", "0.5"]
    assert main([*args, "--heldout", "0.5"]) == 0
    printed = capsys.readouterr()
    assert "held out 3 of 6 examples (--heldout 0.5, seed 0)" in printed.err
    info = json.loads((out / "training.json").read_text())
    assert info["n_examples"] == 3 and len(info["heldout"]) == 3
    assert all(prompt.startswith("Where is office") for prompt in info["heldout"])
    assert main([*args, "--heldout", "1"]) == 2
    assert "--heldout is a share in [0, 1)" in capsys.readouterr().err
