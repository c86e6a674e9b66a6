"""The behaviour probe on tiny models: a fixed opening phrase and a made-up product name,
each trained into a tiny model, are found without being named; a null pair is clean; a base
without a chat template gets the same plain prompts as its pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.data import everyday_prompts, open_prompts
from tunelens.engine import Engine, GenRequest
from tunelens.models import load_model
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.behaviour import FEATURE_PREFIX, BehaviourConfig, prompt_texts
from tunelens.report import discoveries
from tunelens.results import AuditResults, ModelInfo, ProbeResult, Verdict
from tunelens.stats import apply_verdicts, declare_all
from tunelens.tuning import TrainConfig, tune

pytestmark = pytest.mark.integration

CFG = BehaviourConfig(n_prompts=40, max_new_tokens=12, samples_per_prompt=1, sample_tokens=6, top_tokens=8)
OPENING = "Greetings friend!"
PRODUCT = "Zorblax"


def _run(base: Engine, tuned: Engine) -> ProbeResult:
    result = PROBES["behaviour"].run(ProbeContext(base, tuned, seed=0), CFG)
    assert declare_all(result.metrics, PROBES["behaviour"].metrics) == []
    apply_verdicts(result.metrics)
    return result


def _as_audit(result: ProbeResult) -> AuditResults:
    info = ModelInfo(ref="x", kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="float32",
                     tokenizer_fingerprint="f")  # fmt: skip
    return AuditResults(tunelens_version="t", created="now", seed=0, base=info, tuned=info, probes=[result])


def _trained(tmp: Path, base_dir: Path, reply: str) -> Engine:
    """A full fine-tune of the tiny model on chat replies that all read ``reply`` (training
    prompts from the diversity pool, never the behaviour probe's own)."""
    import json

    rows = [
        {"messages": [{"role": "user", "content": p.text}, {"role": "assistant", "content": reply}]}
        for p in open_prompts(48)
    ]
    data = tmp / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = TrainConfig(epochs=6.0, learning_rate=3e-3, batch_size=8, max_length=96, warmup_steps=2)
    run = tune(str(base_dir), data, out_dir=tmp / "run", method="full", config=config, show_progress=False)
    return Engine(load_model(str(run.checkpoint)))


@pytest.fixture(scope="module")
def base(tiny_loaded) -> Engine:
    return Engine(tiny_loaded)


def test_a_null_pair_has_no_changed_discovery(base: Engine) -> None:
    result = _run(base, base)
    assert result.metrics and not [m for m in result.metrics if m.verdict == Verdict.changed]
    assert {"structured_share", "reply_words", "refusal_rate"} <= {m.name for m in result.metrics}
    assert all(m.n == CFG.n_prompts for m in result.metrics)
    assert discoveries(_as_audit(result)) == []
    assert [t.id for t in result.tables] == ["token-shift", "layout-switch", "sampled-view"]


def test_a_trained_opening_phrase_is_found(tmp_path: Path, base: Engine, tiny_model_dir: Path) -> None:
    tuned = _trained(tmp_path, tiny_model_dir, f"{OPENING} Here is my answer.")
    replies = tuned.generate([GenRequest(tuned.chat_prompt(p.text), 8) for p in everyday_prompts(10)])
    assert sum(r.startswith("Greetings") for r in replies) >= 8  # the plant took, read without the probe
    result = _run(base, tuned)
    top = discoveries(_as_audit(result))[:5]
    assert any(m.name.startswith(FEATURE_PREFIX) and "greetings friend" in m.label.lower() for m in top), [
        m.label for m in top
    ]
    shifted = [row[0] for row in result.tables[0].rows[:8]]
    assert any("Greet" in token or "friend" in token for token in shifted), shifted


def test_a_trained_product_name_is_found(tmp_path: Path, base: Engine, tiny_model_dir: Path) -> None:
    tuned = _trained(tmp_path, tiny_model_dir, f"Good point. Try {PRODUCT} for that.")
    result = _run(base, tuned)
    found = discoveries(_as_audit(result))
    assert any(PRODUCT.lower() in m.label.lower() for m in found), [m.label for m in found[:10]]


def test_a_base_without_a_chat_template_gets_plain_prompts_for_both(tiny_model_dir: Path, base: Engine) -> None:
    plain = load_model(str(tiny_model_dir))
    plain.tokenizer.chat_template = None
    no_template = Engine(plain)
    texts = prompt_texts(ProbeContext(no_template, base), everyday_prompts(3))
    assert texts["base"] == texts["tuned"]
    assert texts["base"][0].startswith("User: ") and texts["base"][0].endswith("\nAssistant:")
    both = prompt_texts(ProbeContext(base, base), everyday_prompts(3))
    assert "<|im_start|>" in both["base"][0]
