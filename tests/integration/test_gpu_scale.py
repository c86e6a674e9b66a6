"""The GPU scale benchmark's code path on the CPU (``gpu_scale.py --tiny``), and the probes'
``assume_known`` switch that the benchmark runs them with: on a random model it keeps every
item that a knowledge filter would drop."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tunelens.engine import Engine
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes._cot_run import assumed_steps
from tunelens.probes.context import ContextConfig
from tunelens.probes.cot_faithfulness import CotFaithfulnessConfig

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_scale.py"
CHEAP = ("priming", "retrieval_heads", "locality")  # a task spec, attention capture and masking, the weights


def test_tiny_run_prints_each_probe_and_writes_the_figures(tmp_path: Path, smollm_tokenizer) -> None:
    tokenizer_dir = tmp_path / "tokenizer"
    smollm_tokenizer.save_pretrained(str(tokenizer_dir))  # as gpu_wheelhouse.sh ships it
    out = tmp_path / "gpu_scale.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--budget", "quick", "--probes", ",".join(CHEAP)]
        + ["--tokenizer", str(tokenizer_dir), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith("gpu_scale: tiny Llama (2 layers, hidden 64")
    assert any(line.startswith("matmul 1024x1024x1024 float32:") for line in lines)
    for name in CHEAP:
        row = next(line for line in lines if line.startswith(f"{name} "))
        seconds, peak, positions, rate, share = row.split()[1:]
        assert float(seconds) > 0 and int(positions.replace(",", "")) > 0 and float(share) >= 0
    assert re.match(r"target: whole battery <= 420 s: (met|missed) \(", lines[-2])
    assert "not the target's run" in lines[-2] and "tiny smoke run" in lines[-2]
    figures = json.loads(out.read_text())
    assert [r["probe"] for r in figures["probes"]] == list(CHEAP)
    for row in figures["probes"]:
        assert "error" not in row
        assert row["seconds"] > 0 and row["positions"] > 0 and row["tokens_per_s"] > 0 and row["passes"] > 0
        assert 0 < row["of_ideal"] < 1 and row["engine_counters"]["positions"] >= 0
        assert row["items"] > 0
    assert figures["tiny"] and figures["budget"] == "quick" and not figures["target_applies"]
    assert figures["model"]["lora"]["rank"] == 16 and figures["model"]["lora_parameters"] > 0
    assert figures["total_seconds"] == pytest.approx(sum(r["seconds"] for r in figures["probes"]), abs=0.01)


def _gpu_scale() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_scale", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gpu_scale", module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules["gpu_scale"])
    return sys.modules["gpu_scale"]


def test_both_base_views_run_the_model_without_its_adapter(tmp_path: Path, smollm_tokenizer, one_thread) -> None:
    import torch

    gpu_scale = _gpu_scale()
    pair = gpu_scale.build_pair(smollm_tokenizer, "cpu", True, 0, tmp_path)
    ids = torch.randint(0, len(smollm_tokenizer), (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        base = pair.base.model(input_ids=ids).logits
        fallback = gpu_scale.AdapterOff(pair.peft_model)(input_ids=ids).logits  # where tunelens has no SharedView
        tuned = pair.tuned.model(input_ids=ids).logits
        with pair.peft_model.disable_adapter():  # peft's own switch
            reference = pair.peft_model.get_base_model()(input_ids=ids).logits
    assert torch.equal(base, reference) and torch.equal(fallback, reference)
    assert (tuned - base).abs().max() > 1e-3  # the adapter's B factors are not zero
    assert pair.counter.read() == {"positions": 4 * 32, "padding": 0, "passes": 4}
    eos = smollm_tokenizer.eos_token_id
    assert (base[..., eos] == gpu_scale.MASKED_LOGIT).all()  # replies never end early
    assert pair.info["lora_parameters"] > 0 and (tmp_path / "adapter" / "adapter_config.json").is_file()


def test_refuses_without_cuda_unless_tiny() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "CUDA is not available" in run.stderr and "--tiny" in run.stderr


@pytest.fixture
def one_thread():
    """One torch thread: the tiny model gains nothing from two, which stall on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_assume_known_keeps_the_facts_a_random_model_does_not_know(tiny_loaded, one_thread) -> None:
    engine = Engine(tiny_loaded)
    cfg = ContextConfig(target_known=4, min_round=6, max_facts=14, max_new_tokens=6)
    dropped = PROBES["context"].run(ProbeContext(engine, engine), cfg)
    kept = PROBES["context"].run(ProbeContext(engine, engine, assume_known=True), cfg)
    # The random tiny model knows no fact closed-book: every fact is dropped and the pool spent.
    assert dropped.items == []
    assert "after 2 round(s) and 14 facts asked" in dropped.notes[0]
    # Assumed known, the first round (ceil(1.1 * 4 / 0.4) = 11 facts) reaches the target.
    assert len(kept.items) == cfg.target_known
    assert "after 1 round(s) and 11 facts asked" in kept.notes[0]
    assert {m.name: m.n for m in kept.metrics}["plain_p_s"] == cfg.target_known


def test_assume_known_makes_every_chain_of_thought_usable(tiny_loaded, one_thread) -> None:
    engine = Engine(tiny_loaded)
    cfg = CotFaithfulnessConfig(n_word_problems=2, n_facts=2, max_cot_tokens=12, continuation_tokens=4)
    n = {}
    for assume in (False, True):
        result = PROBES["cot_faithfulness"].run(ProbeContext(engine, engine, assume_known=assume), cfg)
        n[assume] = {m.name: m.n for m in result.metrics}
    assert n[False]["early_answering_aoc"] < cfg.n_items
    assert n[True]["early_answering_aoc"] == cfg.n_items
    assert n[True]["adding_mistakes_aoc"] == cfg.n_items  # every chain has a number to change
    assert n[False]["cot_accuracy"] == n[True]["cot_accuracy"] == cfg.n_items  # accuracy counts every item anyway


def test_assumed_steps_cut_a_chain_into_numbered_sentences() -> None:
    assert assumed_steps("a b c d e f g", 3) == ["a b c 1.", "d e f 2.", "g 3."]
    assert assumed_steps("", 2) == ["step 1.", "step 2."]
    assert assumed_steps("one two", 4) == ["one 1.", "two 2.", "step 3.", "step 4."]
