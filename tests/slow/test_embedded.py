"""The embedded SmolLM2-135M-Instruct: it loads from its package, answers sensibly, and a
null audit (the model against itself) reports no change."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REF = "embedded:smollm2-135m-instruct"


@pytest.fixture(scope="module")
def embedded():
    from tunelens.models import load_model

    return load_model(REF)


def test_embedded_model_answers_a_known_fact(embedded) -> None:
    from tunelens.engine import Engine, GenRequest, LLRequest

    engine = Engine(embedded)
    reply = engine.generate([GenRequest(engine.chat_prompt("What is the capital of France?"), 24)])[0]
    assert "Paris" in reply
    paris, berlin = engine.loglikelihood(
        [LLRequest("The capital of France is", " Paris"), LLRequest("The capital of France is", " Berlin")]
    )
    assert paris.logprob > berlin.logprob + 2


def test_embedded_model_is_plain_weights_that_save(tmp_path: Path, embedded) -> None:
    """The dequantized cache loads as an ordinary model, so a full fine-tune can be saved."""
    assert not getattr(embedded.model, "is_quantized", False)
    embedded.model.save_pretrained(str(tmp_path / "saved"), safe_serialization=True)
    assert (tmp_path / "saved" / "model.safetensors").is_file()


def test_null_audit_on_the_embedded_model(tmp_path: Path, embedded) -> None:
    from tunelens import audit
    from tunelens.results import Verdict

    results = audit(embedded, embedded, probes=["forgetting"], out_dir=tmp_path, quick=True)
    metrics = results.metrics()
    assert metrics and all(m.verdict != Verdict.changed for m in metrics)
    assert all(m.delta == 0.0 for m in metrics if m.delta is not None)
    # The model is not trivially failing everything: general-text loss is that of a real LM.
    text = next(m for m in metrics if m.name == "general_text_nll")
    assert 1.0 < (text.base or 0) < 4.0


def test_quick_demo_end_to_end(tmp_path: Path) -> None:
    """The demo as a user runs it: data, LoRA fine-tune, audit, report; the pattern sticks."""
    from tunelens.demo import demo_config, run_demo
    from tunelens.results import load_results

    lines: list[str] = []
    outcome = run_demo(demo_config(quick=True, out_dir=str(tmp_path)), say=lines.append)
    results = load_results(tmp_path / "results.json")
    assert results == outcome.results
    assert [p.name for p in results.probes] == ["behaviour", "forgetting", "facts_vs_patterns"]
    pattern = next(m for m in results.metrics() if m.name == "pattern_all")
    assert pattern.tuned is not None and pattern.base is not None and pattern.tuned > pattern.base
    assert results.training is not None and results.training.loss_curve[-1][1] < results.training.loss_curve[0][1]
    html = (tmp_path / "report.html").read_text()
    assert "facts_vs_patterns" in html and "<svg" in html
    text = "\n".join(lines)
    assert "What stuck" in text and "What leaked" in text and "What it cost" in text
    assert text.index("What the tuned model now does") < text.index("What stuck")
    assert "What the tuned model now does" in html
