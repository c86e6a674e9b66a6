"""The locality probe on the tiny model: a null pair shows no change anywhere, a perturbed
upper layer shows its change there, and a LoRA adapter's factors agree with the dense
difference of the merged model (in memory and from the files)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

from tunelens.engine import Engine
from tunelens.models import ADAPTER_META, LoadedModel, load_model
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.locality import LocalityConfig, weight_change
from tunelens.report import render_html
from tunelens.results import AuditResults, ModelInfo, ProbeResult
from tunelens.stats import apply_verdicts, declare_all
from tunelens.weights import ModuleSource, compare_adapter, compare_checkpoints, compare_models

pytestmark = pytest.mark.integration

TINY = LocalityConfig(
    n_texts=3, max_text_tokens=40, n_prompts=3, max_new_tokens=6, facts_per_category=1, lens_positions=3
)


def run(base: Engine, tuned: Engine) -> ProbeResult:
    result = PROBES["locality"].run(ProbeContext(base, tuned, seed=0), TINY)
    apply_verdicts(result.metrics)
    return result


def by_name(result: ProbeResult) -> dict:
    return {m.name: m for m in result.metrics}


@pytest.fixture(scope="module")
def engine(tiny_loaded) -> Engine:
    return Engine(tiny_loaded)


@pytest.fixture(scope="module")
def null_result(engine: Engine) -> ProbeResult:
    return run(engine, engine)


def test_null_pair_shows_no_change_anywhere(null_result: ProbeResult) -> None:
    m = by_name(null_result)
    assert m["weight_relative_change"].tuned == 0.0 and m["weight_upper_share"].tuned is None
    assert m["cka_mean"].tuned == 1.0
    assert m["lens_kl_mean"].tuned == 0.0
    assert m["token_kl_general"].tuned == 0.0 and m["token_kl_chat"].tuned == 0.0
    assert m["tokens_unshifted"].tuned == 1.0 and m["tokens_shifted"].tuned == 0.0
    assert all(metric.delta in (0.0, None) for metric in null_result.metrics)
    assert m["answer_first_layer"].n == 5 and m["answer_first_layer"].test == "sign_flip_exact"
    assert m["answer_first_layer"].verdict != "changed"
    assert all(metric.test == "descriptive" for name, metric in m.items() if name != "answer_first_layer")
    assert null_result.notes[0].startswith("No change anywhere")
    assert not [i for i in null_result.items if i.section.startswith("KL hot spots")]
    assert ProbeResult.model_validate_json(null_result.model_dump_json()) == null_result


def test_every_metric_is_declared_and_only_the_paired_one_is_tested(null_result: ProbeResult) -> None:
    spec = PROBES["locality"]
    assert declare_all(null_result.metrics, spec.metrics) == []
    assert spec.headline == []  # descriptive profile; the one tested metric is exploratory
    tested = [d.name for d in spec.metrics if not d.descriptive]
    assert tested == ["answer_first_layer"]
    for metric in null_result.metrics:
        decl = spec.declaration(metric.name)
        assert decl is not None and decl.descriptive == (metric.test == "descriptive"), metric.name
    # Descriptive metrics take no verdict.
    assert all(m.verdict is None for m in null_result.metrics if m.test == "descriptive")


def test_budgets_grow_the_fact_prompts_of_the_answer_layer() -> None:
    spec = PROBES["locality"]
    n_facts = {b: 5 * spec.config_for(b).facts_per_category for b in ("quick", "standard", "thorough")}
    assert n_facts["quick"] < n_facts["standard"] == 60 and n_facts["thorough"] == 200
    from tunelens.data import world_facts

    facts = world_facts(spec.config_for("thorough").facts_per_category, seed=0)
    assert len(facts) == 200 and len({f.prompt for f in facts}) == 200


def test_null_result_renders_with_plots_and_descriptive_badges(null_result: ProbeResult) -> None:
    ids = [p.id for p in null_result.plots]
    assert ids == ["layer-profile", "weight-change", "token-shift"]  # no effective-rank map without change
    profile = null_result.plots[0]
    assert [s.x for s in profile.series] == [[0, 1]] * 3 and all(s.y == [0.0, 0.0] for s in profile.series)
    info = ModelInfo(
        ref="tiny", kind="directory", n_params=1, n_layers=2, n_heads=4, dtype="float32", tokenizer_fingerprint="f"
    )
    results = AuditResults(
        tunelens_version="0",
        created="2026-01-01T00:00:00+00:00",
        seed=0,
        base=info,
        tuned=info,
        probes=[null_result.model_copy(update={"title": "Locality"})],
    )
    html = render_html(results)
    assert html.count('class="badge descriptive"') == len(null_result.metrics) - 1


def _perturbed(loaded: LoadedModel, layer: int, scale: float = 0.02) -> LoadedModel:
    model = copy.deepcopy(loaded.model)
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if f"layers.{layer}." in name and p.dim() == 2:
                p.add_(scale * torch.randn(p.shape, generator=gen))
    return LoadedModel(ref="perturbed", kind="directory", model=model, tokenizer=loaded.tokenizer)


def test_a_perturbed_upper_layer_shows_its_change_there(tiny_loaded, engine: Engine) -> None:
    result = run(engine, Engine(_perturbed(tiny_loaded, layer=1)))
    m = by_name(result)
    assert m["weight_upper_share"].tuned == pytest.approx(1.0)
    assert m["weight_relative_change"].tuned > 0.01
    profile = {s.name: s.y for s in result.plots[0].series}
    # Block 0 is untouched and reads the same input, so its output is identical.
    assert profile["representation change 1 − CKA"] == [0.0, 1.0]
    assert profile["relative weight change"] == [0.0, 1.0]
    assert m["representation_upper_share"].tuned == pytest.approx(1.0)
    assert m["token_kl_general"].tuned > 0 and m["lens_kl_mean"].tuned > 0
    assert result.notes[0].startswith("100% of the weight change (‖ΔW‖²) and 100% of the representation change")
    assert "effective-rank" in [p.id for p in result.plots]
    hot = [i for i in result.items if i.section.startswith("KL hot spots")]
    assert hot and all(i.input[slice(*i.extra["highlight"])] for i in hot)


@pytest.fixture(scope="module")
def lora_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A saved LoRA adapter on the tiny model with non-zero B (so it changes the weights)."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    base = load_model(str(tiny_model_dir)).model
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config)
    target = tmp_path_factory.mktemp("lora") / "adapter"
    peft_model.save_pretrained(str(target), safe_serialization=True)
    (target / ADAPTER_META).write_text(json.dumps({"base_ref": str(tiny_model_dir), "method": "lora"}))
    return target


def test_lora_factor_path_agrees_with_the_dense_path(tiny_loaded, tiny_model_dir: Path, lora_dir: Path) -> None:
    merged = load_model(str(lora_dir))
    dense = {t.name: t for t in compare_models(tiny_loaded.model, merged.model).tensors}
    factors = compare_adapter(ModuleSource(tiny_loaded.model), lora_dir)
    files = {t.name: t for t in compare_checkpoints(tiny_model_dir, lora_dir).tensors}  # streamed from disk
    assert {t.name for t in factors.tensors} == set(files) == set(dense)
    changed = [t for t in factors.tensors if t.delta_norm > 0]
    assert {t.kind for t in changed} == {"q", "v", "down"} and len(changed) == 6
    for f in factors.tensors:
        d = dense[f.name]
        assert f.delta_norm == pytest.approx(d.delta_norm, rel=1e-3, abs=1e-7)
        assert f.delta_norm == pytest.approx(files[f.name].delta_norm, rel=1e-6, abs=1e-12)
        if f.delta_norm > 0:
            assert f.effective_rank == pytest.approx(d.effective_rank, rel=0.02)
            assert f.effective_rank <= 4.0
    ctx = ProbeContext(Engine(tiny_loaded), Engine(merged))
    diff, note = weight_change(ctx, TINY)
    assert diff.source == "LoRA factors" and note is not None and "agrees" in note
