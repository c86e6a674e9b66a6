"""Proxy-tuning and retrieval on tiny models: exact logit arithmetic, the engine end to end, audits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import build_tiny_model
from tunelens import audit
from tunelens.data import support_desk_dataset, write_jsonl
from tunelens.engine import Engine, GenRequest, LLRequest, Sampling
from tunelens.models import check_same_tokenizer, load_model, model_info, write_fact_sheet
from tunelens.probes.behaviour import BehaviourConfig
from tunelens.probes.facts_vs_patterns import FactsVsPatternsConfig

pytestmark = pytest.mark.integration

TEXT = "The refund window is 30 days from the day your order arrives."
REQUESTS = [
    LLRequest("Question: how long is the refund window?\nAnswer:", " 30 days"),
    LLRequest("Question: how long is the refund window?\nAnswer:", " two weeks, sometimes longer"),
    LLRequest("Our support desk opens at", " 9 am"),
]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, smollm_tokenizer) -> dict[str, str]:
    root = tmp_path_factory.mktemp("proxy")
    tuned = build_tiny_model(root / "small-tuned", smollm_tokenizer, seed=1)
    base = build_tiny_model(root / "small-base", smollm_tokenizer, seed=2)
    return {"L": str(tiny_model_dir), "T": str(tuned), "B": str(base)}


@pytest.fixture(scope="module")
def models(dirs: dict[str, str], tiny_loaded) -> dict[str, object]:
    return {"L": tiny_loaded, "T": load_model(dirs["T"]), "B": load_model(dirs["B"])}


def _logits(loaded, text: str) -> torch.Tensor:
    ids = torch.tensor([loaded.tokenizer(text)["input_ids"]])
    with torch.inference_mode():
        return loaded.model(input_ids=ids).logits[0].float()


def test_proxy_logits_are_the_arithmetic(dirs, models) -> None:
    proxy = load_model(f"proxy:{dirs['L']}+{dirs['T']}-{dirs['B']}")
    assert proxy.kind == "proxy"
    expected = _logits(models["L"], TEXT) + _logits(models["T"], TEXT) - _logits(models["B"], TEXT)
    torch.testing.assert_close(_logits(proxy, TEXT), expected)
    half = load_model(f"proxy:{dirs['L']}+{dirs['T']}-{dirs['B']}*0.5")
    expected = _logits(models["L"], TEXT) + 0.5 * (_logits(models["T"], TEXT) - _logits(models["B"], TEXT))
    torch.testing.assert_close(_logits(half, TEXT), expected)


def test_proxy_with_base_as_large_is_the_tuned_model(dirs, models) -> None:
    proxy = load_model(f"proxy:{dirs['B']}+{dirs['T']}-{dirs['B']}")
    torch.testing.assert_close(_logits(proxy, TEXT), _logits(models["T"], TEXT), rtol=1e-5, atol=1e-5)


def test_proxy_of_an_unchanged_pair_is_the_large_model_everywhere(dirs, models) -> None:
    proxy = load_model(f"proxy:{dirs['L']}+{dirs['T']}-{dirs['T']}")
    check_same_tokenizer(models["L"], proxy)
    plain, steered = Engine(models["L"], max_batch=2), Engine(proxy, max_batch=2)
    assert torch.equal(_logits(proxy, TEXT), _logits(models["L"], TEXT))
    for a, b in zip(plain.loglikelihood(REQUESTS), steered.loglikelihood(REQUESTS)):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-5) and a.is_greedy == b.is_greedy
    for a, b in zip(plain.token_logprobs([TEXT, "Hi"]), steered.token_logprobs([TEXT, "Hi"])):
        np.testing.assert_allclose(a, b, atol=1e-5)
    prompts = [GenRequest(plain.chat_prompt(q), 12) for q in ("Refund window?", "Opening hours of support?", "Hi")]
    assert plain.generate(prompts) == steered.generate(prompts)
    sampled = Sampling(temperature=0.9, top_p=0.95, seed=3)
    assert plain.generate(prompts, sampled) == steered.generate(prompts, sampled)


def test_proxy_loglikelihood_matches_a_manual_computation(dirs, models) -> None:
    proxy = load_model(f"proxy:{dirs['L']}+{dirs['T']}-{dirs['B']}")
    engine = Engine(proxy, max_batch=2)  # two batches, the shared context reused across choices
    for req, got in zip(REQUESTS, engine.loglikelihood(REQUESTS)):
        ctx, cont = engine.encode(req.context), engine.encode_continuation(req.continuation)
        ids = torch.tensor([ctx + cont])
        with torch.inference_mode():
            parts = [m.model(input_ids=ids).logits[0].float() for m in (models["L"], models["T"], models["B"])]
        logprobs = torch.log_softmax(parts[0] + parts[1] - parts[2], dim=-1)
        manual = sum(float(logprobs[len(ctx) - 1 + j, tok]) for j, tok in enumerate(cont))
        assert got.logprob == pytest.approx(manual, abs=1e-4)
    info = model_info(proxy)
    assert info.kind == "proxy" and "Liu et al. 2024" in info.channel
    assert info.n_params == sum(sum(p.numel() for p in m.model.parameters()) for m in models.values())


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory):
    examples, task = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    root = tmp_path_factory.mktemp("channel-data")
    write_jsonl(root / "data.jsonl", examples)
    return root / "data.jsonl", write_fact_sheet(root / "data.jsonl", root / "facts.txt"), task


def test_retrieval_puts_facts_in_chat_prompts_only(tiny_model_dir: Path, tiny_loaded, demo_data) -> None:
    _, facts_file, task = demo_data
    retrieval = load_model(f"retrieval:{tiny_model_dir}@{facts_file}")
    facts = facts_file.read_text().splitlines()
    info = model_info(retrieval)
    assert info.kind == "retrieval" and f"of {len(facts)} in {facts_file}" in info.channel
    plain, rag = Engine(tiny_loaded), Engine(retrieval)
    fact = task.facts[0]
    prompt = rag.chat_prompt(fact.question)
    assert "Facts from the knowledge base:" in prompt and any(f in prompt for f in facts)
    assert prompt.index("knowledge base") < prompt.index(fact.question)
    assert plain.chat_prompt(fact.question) != prompt
    assert [r.logprob for r in plain.loglikelihood(REQUESTS)] == [r.logprob for r in rag.loglikelihood(REQUESTS)]
    for a, b in zip(plain.token_logprobs([TEXT]), rag.token_logprobs([TEXT])):
        np.testing.assert_array_equal(a, b)


def test_retrieval_with_a_missing_or_empty_facts_file(tmp_path: Path, tiny_model_dir: Path) -> None:
    from tunelens.errors import TunelensError

    with pytest.raises(TunelensError, match="facts file not found"):
        load_model(f"retrieval:{tiny_model_dir}@{tmp_path / 'none.txt'}")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(TunelensError, match="holds no facts"):
        load_model(f"retrieval:{tiny_model_dir}@{tmp_path / 'empty.txt'}")


CHEAP = {
    "facts_vs_patterns": FactsVsPatternsConfig(max_new_tokens=6, fact_max_new_tokens=6, max_heldout=12),
    "behaviour": BehaviourConfig(n_prompts=8, max_new_tokens=6, sample_tokens=4, top_tokens=3),
}


def test_audit_of_a_retrieval_channel_skips_weight_probes(tmp_path: Path, tiny_model_dir: Path, demo_data) -> None:
    _, facts_file, task = demo_data
    results = audit(
        str(tiny_model_dir),
        f"retrieval:{tiny_model_dir}@{facts_file}",
        probes=["facts_vs_patterns", "locality", "behaviour"],
        task=task,
        configs=CHEAP,
        out_dir=tmp_path,
    )
    assert results.tuned.kind == "retrieval"
    facts, locality, behaviour = results.probes
    assert facts.metrics and behaviour.metrics and behaviour.tables  # replies and token view through the channel
    assert locality.metrics == [] and locality.notes[0].startswith("does not apply: retrieval:")
    assert results.summary
    html = (tmp_path / "report.html").read_text()
    assert "does not apply" in html and "knowledge base" not in results.base.channel


def test_audit_of_a_proxy(tmp_path: Path, dirs, demo_data) -> None:
    results = audit(
        dirs["L"],
        f"proxy:{dirs['L']}+{dirs['T']}-{dirs['B']}",
        probes=["facts_vs_patterns", "retrieval_heads", "behaviour"],
        task=demo_data[2],
        configs=CHEAP,
        out_dir=tmp_path,
    )
    assert results.tuned.kind == "proxy"
    assert results.probes[0].metrics and results.probes[2].metrics and results.probes[2].tables
    assert "does not apply: proxy:" in results.probes[1].notes[0]
