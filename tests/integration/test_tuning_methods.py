"""Tuning methods on the tiny model: LoRA detaches exactly, SVF starts at the base and its
checkpoint loads as a model, ignore-k and general data compose with a recipe, isolation
keeps the frozen entries bit-identical, and the command line refuses bad combinations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tunelens import tune
from tunelens.cli.main import main
from tunelens.data import support_desk_dataset, write_jsonl
from tunelens.models import SVF_VECTORS, load_model
from tunelens.tuning import RECIPES, MethodOptions, TrainConfig, train
from tunelens.tuning._isolate import core_region

pytestmark = pytest.mark.integration

# Small batches of short sequences: a step of the tiny model is mostly its 49k-word vocabulary.
QUICK = TrainConfig(epochs=0.5, learning_rate=5e-3, batch_size=4, max_length=64)
PROMPT = "Hello from the support desk"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    examples, _ = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    path = tmp_path_factory.mktemp("data") / "data.jsonl"
    write_jsonl(path, examples[::4])  # 12 examples
    return path


def _logits(model, tokenizer) -> torch.Tensor:
    ids = torch.tensor([tokenizer(PROMPT)["input_ids"]])
    with torch.no_grad():
        return model(input_ids=ids).logits.clone()


def test_trained_lora_detaches_to_the_base_exactly(tiny_model_dir: Path, data: Path) -> None:
    from tunelens.data import read_training_data

    loaded = load_model(str(tiny_model_dir))
    base = _logits(loaded.model, loaded.tokenizer)
    torch.manual_seed(0)
    model = RECIPES["lora"].prepare(loaded.model, dict(RECIPES["lora"].options))
    train(model, loaded.tokenizer, read_training_data(data)[:4], QUICK, show_progress=False)
    assert not torch.allclose(_logits(model, loaded.tokenizer), base)
    with model.disable_adapter():
        assert torch.equal(_logits(model, loaded.tokenizer), base)
    assert torch.equal(_logits(model.unload(), loaded.tokenizer), base)


@pytest.fixture(scope="module")
def svf_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, data: Path):
    config = TrainConfig(epochs=0.5, learning_rate=5e-2, batch_size=4, max_length=64)
    extras = MethodOptions(ignore_k=8.0, mix_general=0.25)
    out = tmp_path_factory.mktemp("svf")
    return tune(str(tiny_model_dir), data, out_dir=out, method="svf", config=config, extras=extras, show_progress=False)


def test_svf_starts_at_the_base_and_learns(tiny_model_dir: Path, data: Path) -> None:
    from tunelens.data import read_training_data

    loaded = load_model(str(tiny_model_dir))
    base = _logits(loaded.model, loaded.tokenizer)
    model = RECIPES["svf"].prepare(loaded.model, dict(RECIPES["svf"].options))
    trainable = {n: p.numel() for n, p in model.named_parameters() if p.requires_grad}
    assert len(trainable) == 2 * 3 and all(n.endswith(".z") and "mlp" in n for n in trainable)
    assert torch.allclose(_logits(model, loaded.tokenizer), base, atol=1e-4)
    config = TrainConfig(epochs=3.0, learning_rate=5e-2, batch_size=4, max_length=64, warmup_steps=1)
    record = train(model, loaded.tokenizer, read_training_data(data)[:4], config, show_progress=False)
    assert record.loss_curve[-1][1] < record.loss_curve[0][1]  # three steps on one batch


def test_svf_checkpoint_is_the_vectors_and_loads_as_a_model(svf_run, tiny_model_dir: Path) -> None:
    from safetensors.torch import load_file

    from tunelens.tuning._svf import SVFLinear

    info = svf_run.training
    assert info.method == "svf" and info.trainable_params == 2 * 3 * 64
    assert info.method_options["ignore_k"] == 8.0 and info.method_options["max_mult"] == 2.0
    assert info.n_examples == 16 and info.method_options["n_general_examples"] == 4  # a quarter general text
    assert sorted(p.name for p in svf_run.checkpoint.iterdir()) == [SVF_VECTORS, "tunelens.json"]
    meta = json.loads((svf_run.checkpoint / "tunelens.json").read_text())
    targets = ["down_proj", "gate_proj", "up_proj"]
    assert meta == {"base_ref": str(tiny_model_dir), "method": "svf", "targets": targets, "max_mult": 2.0}

    tuned = load_model(str(svf_run.checkpoint))
    assert tuned.kind == "svf" and tuned.extra["base_ref"] == str(tiny_model_dir)
    # The merged model computes what the trained SVF layers compute.
    base = load_model(str(tiny_model_dir))
    base_logits = _logits(base.model, base.tokenizer)
    RECIPES["svf"].prepare(base.model, dict(RECIPES["svf"].options))
    vectors = load_file(str(svf_run.checkpoint / SVF_VECTORS))
    with torch.no_grad():
        for name, module in base.model.named_modules():
            if isinstance(module, SVFLinear):
                module.z.copy_(vectors[name])
    merged = _logits(tuned.model, tuned.tokenizer)
    assert torch.allclose(merged, _logits(base.model, base.tokenizer), atol=1e-4)
    assert not torch.allclose(merged, base_logits, atol=1e-3)
    ids = torch.tensor([tuned.tokenizer(PROMPT)["input_ids"]])
    out = tuned.model.generate(input_ids=ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 4


@pytest.fixture(scope="module")
def first_full_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, data: Path):
    out = tmp_path_factory.mktemp("full-a")
    config = TrainConfig(epochs=0.34, learning_rate=1e-3, batch_size=4, max_length=64)  # one step
    return out, tune(str(tiny_model_dir), data, out_dir=out, method="full", config=config, show_progress=False)


def test_isolation_keeps_the_core_region_bit_identical(
    tmp_path: Path, tiny_model_dir: Path, data: Path, first_full_run
) -> None:
    run_dir, _ = first_full_run
    config = TrainConfig(epochs=0.34, learning_rate=1e-3, batch_size=4, max_length=64, weight_decay=0.1)
    extras = MethodOptions(isolate_from=str(run_dir), isolate_top=10.0, ignore_k=5.0)
    run = tune(
        str(tiny_model_dir), data, out_dir=tmp_path, method="full", config=config, extras=extras, show_progress=False
    )

    base = load_model(str(tiny_model_dir)).model
    region = core_region(base, load_model(str(run_dir / "model")).model, 10.0)
    n_weights = sum(p.numel() for p in base.parameters())
    assert region.n_frozen == run.training.method_options["n_isolated_params"] == round(0.1 * n_weights)
    tuned = dict(load_model(str(run.checkpoint)).model.named_parameters())
    names = {id(p): n for n, p in base.named_parameters()}
    moved = total = 0
    for frozen in region.frozen:
        after = tuned[names[id(frozen.param)]].detach().view(-1)
        before = frozen.param.detach().view(-1)
        assert torch.equal(after[frozen.index], before[frozen.index])  # the core region did not move
        free = torch.ones_like(before, dtype=torch.bool)
        free[frozen.index] = False
        moved += int((after[free] != before[free]).sum())
        total += int(free.sum())
    assert moved > 0.5 * total  # the rest trained


def test_isolation_from_a_lora_run_uses_its_merged_delta(tmp_path: Path, tiny_model_dir: Path, data: Path) -> None:
    from tunelens.data import read_training_data

    four = read_training_data(data)[:4]  # one step
    lora = tune(str(tiny_model_dir), four, out_dir=tmp_path / "lora", method="lora", config=QUICK, show_progress=False)
    base = load_model(str(tiny_model_dir)).model
    region = core_region(base, load_model(str(lora.checkpoint)).model, 1.0)
    names = {id(p): n for n, p in base.named_parameters()}
    touched = {names[id(f.param)] for f in region.frozen}
    assert touched and all("proj" in n for n in touched)  # LoRA changed the projections only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "svf", "--isolate-from", "somewhere"], "--isolate-from works with --method full, not svf"),
        (["--method", "full", "--lora-rank", "4"], "--lora-rank applies to --method lora, not full"),
        (["--svf-max-mult", "3"], "--svf-max-mult applies to --method svf, not lora"),
        (["--mix-general", "1.5"], "--mix-general must be a share in [0, 1)"),
        (["--ignore-k", "-1"], "--ignore-k is a percentage in [0, 100)"),
        (["--method", "full", "--isolate-top", "5"], "--isolate-top needs --isolate-from"),
    ],
)
def test_cli_refuses_bad_method_options(
    tmp_path: Path, tiny_model_dir: Path, data: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "run"
    assert main(["tune", str(tiny_model_dir), str(data), "--out", str(out), "--no-audit", *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_isolation_from_a_run_on_another_base(
    tmp_path: Path, tiny_model_dir: Path, data: Path, first_full_run, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = first_full_run
    args = ["tune", "embedded:smollm2-135m-instruct", str(data), "--method", "full", "--isolate-from", str(run_dir)]
    assert main([*args, "--out", str(tmp_path / "run"), "--no-audit"]) == 3
    assert "trained from" in capsys.readouterr().err
