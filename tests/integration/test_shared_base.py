"""A LoRA adapter run on its base without a second copy of the base (``load_pair``), on the
tiny model: the base view computes the base model's numbers, the tuned view the merged
adapter's, both read one set of base weights, and what reads weights (weight diffs,
fingerprints, the locality probe) sees what it sees for a base and a merged adapter loaded
apart. Also the device-map load path, which runs on a CPU too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tunelens.engine import Engine, GenRequest, LLRequest
from tunelens.models import (
    ADAPTER_META,
    EMBEDDED,
    LoadOptions,
    SharedView,
    load_model,
    load_pair,
    model_fingerprint,
    model_identity,
    model_info,
)
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.locality import LocalityConfig, weight_change
from tunelens.weights import ModuleSource, compare_adapter, compare_models

pytestmark = pytest.mark.integration

SHARE = LoadOptions(share_base=True)  # on a CPU sharing is off unless asked for
TEXTS = [
    "The capital of France is Paris, and the capital of Peru is Lima.",
    "Hello there! How can I help you today?",
    "def add(a, b):\n    return a + b",
]
REQUESTS = [
    LLRequest("Question: what is the capital of France?\nAnswer:", choice) for choice in (" Paris", " Lyon", " a city")
] + [LLRequest("The sky is", " blue"), LLRequest("The sky is", " green and wide")]
PROMPTS = [GenRequest("Tell me about the weather.", max_new_tokens=12), GenRequest("Hi", max_new_tokens=8)]
TINY = LocalityConfig(
    n_texts=3, max_text_tokens=40, n_prompts=3, max_new_tokens=6, facts_per_category=1, lens_positions=3
)


@pytest.fixture(scope="module")
def lora_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A saved LoRA adapter of the tiny model with non-zero B (it changes outputs), naming its base."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    base = load_model(str(tiny_model_dir)).model
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.05)  # large enough to move the logits well past float noise
    target = tmp_path_factory.mktemp("shared-lora") / "adapter"
    peft_model.save_pretrained(str(target), safe_serialization=True)
    (target / ADAPTER_META).write_text(json.dumps({"base_ref": str(tiny_model_dir), "method": "lora"}))
    return target


@pytest.fixture(scope="module")
def pair(tiny_model_dir: Path, lora_dir: Path):
    return load_pair(str(tiny_model_dir), str(lora_dir), SHARE)


@pytest.fixture(scope="module")
def merged(lora_dir: Path):
    return load_model(str(lora_dir))


def _close(a: list[np.ndarray], b: list[np.ndarray], tol: float) -> float:
    gap = max(float(np.abs(x - y).max()) for x, y in zip(a, b))
    assert all(x.shape == y.shape for x, y in zip(a, b))
    assert gap <= tol, gap
    return gap


def test_the_pair_is_two_views_of_one_model(pair, tiny_model_dir: Path, lora_dir: Path) -> None:
    base, tuned = pair
    assert isinstance(base.model, SharedView) and isinstance(tuned.model, SharedView)
    assert not base.model.adapter_on and tuned.model.adapter_on
    assert base.model._lm is tuned.model._lm
    assert (base.ref, base.kind, base.extra) == (str(tiny_model_dir), "directory", {"shared_base": True})
    assert (tuned.ref, tuned.kind) == (str(lora_dir), "adapter")
    assert tuned.extra == {"base_ref": str(tiny_model_dir), "shared_base": True}
    assert base.tokenizer is tuned.tokenizer
    assert base.device == tuned.device == torch.device("cpu")


def test_only_one_copy_of_the_base_weights(pair) -> None:
    base, tuned = pair
    base_params = dict(base.model.named_parameters())
    stored = {name: t for name, t, _ in tuned.model._walk("_parameters")}
    assert set(base_params) == set(stored)
    for name, tensor in base_params.items():
        assert isinstance(tensor, torch.nn.Parameter)
        assert stored[name].data_ptr() == tensor.data_ptr(), name  # the tuned view runs on these very weights
    tuned_params = dict(tuned.model.named_parameters())
    lora_targets = {n for n in base_params if any(k in n for k in ("q_proj", "v_proj", "down_proj"))}
    assert len(lora_targets) == 6
    for name in base_params:
        if name in lora_targets:  # base + s·B·A, formed on request, never stored
            assert tuned_params[name].data_ptr() != base_params[name].data_ptr()
        else:
            assert tuned_params[name].data_ptr() == base_params[name].data_ptr(), name
    # The module tree holds the base weights once, plus the small factors.
    lm = tuned.model._lm
    factor_numel = sum(p.numel() for n, p in lm.named_parameters() if "lora_" in n)
    assert sum(p.numel() for p in lm.parameters()) == sum(p.numel() for p in base_params.values()) + factor_numel
    assert factor_numel < 0.05 * sum(p.numel() for p in base_params.values())


def test_base_view_computes_the_base_alone(pair, tiny_loaded) -> None:
    base_view, alone = Engine(pair[0]), Engine(tiny_loaded)
    assert _close(base_view.token_logprobs(TEXTS), alone.token_logprobs(TEXTS), 1e-5) == 0.0
    for a, b in zip(base_view.loglikelihood(REQUESTS), alone.loglikelihood(REQUESTS)):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-5) and a.is_greedy == b.is_greedy
    assert base_view.generate(PROMPTS) == alone.generate(PROMPTS)


def test_tuned_view_computes_the_merged_adapter(pair, merged, tiny_loaded) -> None:
    tuned_view, merged_engine = Engine(pair[1]), Engine(merged)
    _close(tuned_view.token_logprobs(TEXTS), merged_engine.token_logprobs(TEXTS), 1e-4)
    for a, b in zip(tuned_view.loglikelihood(REQUESTS), merged_engine.loglikelihood(REQUESTS)):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4) and a.n_tokens == b.n_tokens
    assert tuned_view.generate(PROMPTS) == merged_engine.generate(PROMPTS)
    # ... and the adapter matters: the tuned view is not the base.
    gaps = [
        np.abs(x - y).max() for x, y in zip(tuned_view.token_logprobs(TEXTS), Engine(tiny_loaded).token_logprobs(TEXTS))
    ]
    assert min(gaps) > 1e-2


def test_the_views_interleave_without_leaking_the_switch(pair, tiny_loaded, merged) -> None:
    """Alternating calls (as an audit alternates base and tuned) each get their own model."""
    base_view, tuned_view = Engine(pair[0]), Engine(pair[1])
    want_base, want_tuned = Engine(tiny_loaded).token_logprobs(TEXTS), Engine(merged).token_logprobs(TEXTS)
    for _ in range(2):
        _close(base_view.token_logprobs(TEXTS), want_base, 1e-5)
        _close(tuned_view.token_logprobs(TEXTS), want_tuned, 1e-4)
    assert not any(m._disable_adapters for m in pair[0].model._switch.modules)  # the adapter is on between calls


def test_the_switch_is_peft_disable_adapter(pair) -> None:
    base, tuned = pair
    switch = base.model._switch
    assert switch.fast  # this peft keeps the flag the fast switch sets
    ids = torch.tensor([base.tokenizer("The capital of France is")["input_ids"]])
    with torch.inference_mode():
        ours = base.model(input_ids=ids).logits
        with switch.peft_model.disable_adapter():
            peft_off = tuned.model._lm(input_ids=ids).logits
    assert torch.equal(ours, peft_off)


def test_submodules_a_base_view_hands_out_run_without_the_adapter(pair, tiny_loaded) -> None:
    base, _ = pair
    ids = torch.tensor([base.tokenizer("Hello there")["input_ids"]])
    with torch.inference_mode():
        hidden = base.model.model(input_ids=ids).last_hidden_state  # the decoder, through the base view
        want = tiny_loaded.model.model(input_ids=ids).last_hidden_state
        assert torch.equal(hidden, want)
        assert torch.equal(base.model.get_decoder()(input_ids=ids).last_hidden_state, want)
    assert base.model.model.layers is pair[1].model.model.layers  # hooks and attention capture find the layers
    assert base.model.lm_head is pair[1].model.lm_head  # untouched by the adapter: the module itself


def test_attention_capture_head_ablation_and_greedy_decoding_see_each_views_model(pair, tiny_loaded, merged) -> None:
    from tunelens.engine._attention import ablate_heads, attention_argmax, greedy_decode

    ids = pair[0].tokenizer("The capital of France is Paris. The capital of Peru is")["input_ids"]
    queries = [len(ids) - 1, len(ids) - 3]
    for view, alone in ((pair[0], tiny_loaded), (pair[1], merged)):
        assert np.array_equal(attention_argmax(view.model, ids, queries), attention_argmax(alone.model, ids, queries))
        assert view.model.config._attn_implementation == alone.model.config._attn_implementation  # restored
        assert greedy_decode(view.model, ids, 6, set()) == greedy_decode(alone.model, ids, 6, set())
        heads = [(0, 1), (1, 0), (1, 3)]
        with ablate_heads(view.model, heads):
            masked = Engine(view).token_logprobs(TEXTS)
        with ablate_heads(alone.model, heads):
            want = Engine(alone).token_logprobs(TEXTS)
        _close(masked, want, 1e-4)
        _close(Engine(view).token_logprobs(TEXTS), Engine(alone).token_logprobs(TEXTS), 1e-4)  # hooks removed


def test_fingerprints_and_info_match_the_models_loaded_apart(pair, tiny_loaded, merged) -> None:
    base, tuned = pair
    assert model_fingerprint(base) == model_fingerprint(tiny_loaded)
    assert model_fingerprint(tuned) == model_fingerprint(merged)
    assert model_fingerprint(tuned) != model_fingerprint(base)
    for view, alone in ((base, tiny_loaded), (tuned, merged)):
        a, b = model_info(view), model_info(alone)
        assert (a.n_params, a.n_layers, a.dtype, a.kind, a.fingerprint) == (
            b.n_params,
            b.n_layers,
            b.dtype,
            b.kind,
            b.fingerprint,
        )


def test_weight_readers_see_base_and_merged_weights(pair, tiny_loaded, merged, lora_dir: Path) -> None:
    base, tuned = pair
    merged_params = dict(merged.model.named_parameters())
    for name, tensor in tuned.model.named_parameters():
        assert torch.equal(tensor, merged_params[name]), name  # peft's merge, on a copy
    source = ModuleSource(tuned.model)
    assert not source.params and set(source.names()) == set(ModuleSource(merged.model).names())
    shared, apart = compare_models(base.model, tuned.model), compare_models(tiny_loaded.model, merged.model)
    assert [t.name for t in shared.tensors] == [t.name for t in apart.tensors]
    for s, a in zip(shared.tensors, apart.tensors):
        assert (s.base_norm, s.delta_norm) == (a.base_norm, a.delta_norm)
        assert s.effective_rank == pytest.approx(a.effective_rank, abs=1e-9)
    assert shared.relative_change() > 0
    factors = compare_adapter(ModuleSource(base.model), lora_dir)
    assert factors.tensors == compare_adapter(ModuleSource(tiny_loaded.model), lora_dir).tensors
    # Reading the weights left the shared model as it was.
    _close(Engine(base).token_logprobs(TEXTS), Engine(tiny_loaded).token_logprobs(TEXTS), 0.0)


def test_locality_of_a_shared_pair_is_that_of_the_merged_pair(pair, tiny_loaded, merged) -> None:
    shared_ctx = ProbeContext(Engine(pair[0]), Engine(pair[1]), seed=0)
    apart_ctx = ProbeContext(Engine(tiny_loaded), Engine(merged), seed=0)
    diff, note = weight_change(shared_ctx, TINY)
    assert diff.source == "LoRA factors" and note is not None and "agrees" in note
    shared = {m.name: m for m in PROBES["locality"].run(shared_ctx, TINY).metrics}
    apart = {m.name: m for m in PROBES["locality"].run(apart_ctx, TINY).metrics}
    assert set(shared) == set(apart)
    moved = 0
    for name, metric in apart.items():
        for side in ("base", "tuned", "delta"):
            want, got = getattr(metric, side), getattr(shared[name], side)
            if want is None:
                assert got is None, (name, side)
            else:
                assert got == pytest.approx(want, rel=1e-4, abs=1e-6), (name, side)
                moved += side == "tuned" and want != 0
    assert moved > 3  # the adapter shows up in the numbers being compared
    assert apart["weight_relative_change"].tuned > 0


def test_no_sharing_unless_asked_on_cpu_or_for_another_base(tiny_model_dir: Path, lora_dir: Path, tmp_path) -> None:
    base, tuned = load_pair(str(tiny_model_dir), str(lora_dir))  # CPU: share_base resolves off
    assert not isinstance(base.model, SharedView) and not isinstance(tuned.model, SharedView)
    assert "shared_base" not in base.extra and "shared_base" not in tuned.extra
    other = tmp_path / "copy-of-base"
    shutil.copytree(tiny_model_dir, other)  # same weights, another model reference
    base, tuned = load_pair(str(other), str(lora_dir), SHARE)
    assert not isinstance(tuned.model, SharedView) and base.ref == str(other)
    base, tuned = load_pair(str(tiny_model_dir), str(lora_dir), LoadOptions(share_base=False))
    assert not isinstance(tuned.model, SharedView)
    base, tuned = load_pair(str(tiny_model_dir), str(tiny_model_dir), SHARE)  # not an adapter
    assert not isinstance(tuned.model, SharedView)


def test_a_base_reference_matches_however_it_is_written(tiny_model_dir: Path, tmp_path, monkeypatch) -> None:
    assert model_identity(str(tiny_model_dir)) == model_identity(f"{tiny_model_dir}/")
    monkeypatch.chdir(tiny_model_dir.parent)
    assert model_identity(tiny_model_dir.name) == model_identity(str(tiny_model_dir))
    gguf = EMBEDDED["smollm2-135m-instruct"]()
    assert model_identity("embedded:smollm2-135m-instruct") == model_identity(str(gguf))
    cache = tmp_path / "gguf-cache"  # the safetensors directory written from that GGUF file
    cache.mkdir()
    (cache / "config.json").write_text("{}")
    (cache / "source.json").write_text(json.dumps({"gguf": str(gguf)}))
    assert model_identity(str(cache)) == model_identity("embedded:smollm2-135m-instruct")
    assert model_identity(str(tiny_model_dir)) != model_identity("embedded:smollm2-135m-instruct")


def test_device_map_auto_loads_through_accelerate_without_moving(
    tiny_model_dir: Path, tiny_loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForCausalLM

    real = AutoModelForCausalLM.from_pretrained
    seen: dict = {}

    def spy(*args, **kwargs):
        seen.update(kwargs)
        model = real(*args, **kwargs)

        def no_move(*_a, **_k):
            raise AssertionError("a model placed by a device map must not be moved")

        model.to = no_move
        return model

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    loaded = load_model(str(tiny_model_dir), LoadOptions(device_map="auto"))
    assert seen["device_map"] == "auto" and "quantization_config" not in seen
    assert loaded.device == torch.device("cpu")
    _close(Engine(loaded).token_logprobs(TEXTS), Engine(tiny_loaded).token_logprobs(TEXTS), 1e-6)


def test_adapters_the_views_do_not_handle_load_apart(tiny_model_dir: Path, tmp_path) -> None:
    from peft import LoraConfig, get_peft_model

    from tunelens.models._shared import _unshareable

    def config(**fields) -> Path:
        folder = tmp_path / f"cfg{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "adapter_config.json").write_text(json.dumps(fields))
        return folder

    assert _unshareable(config(peft_type="LORA", r=4)) is None
    assert "DoRA" in _unshareable(config(peft_type="LORA", use_dora=True))
    assert "bias" in _unshareable(config(peft_type="LORA", lora_bias=True))
    assert "IA3" in _unshareable(config(peft_type="IA3"))
    torch.manual_seed(2)
    dora = get_peft_model(
        load_model(str(tiny_model_dir)).model, LoraConfig(r=2, target_modules=["q_proj"], use_dora=True)
    )
    target = tmp_path / "dora"
    dora.save_pretrained(str(target), safe_serialization=True)
    (target / ADAPTER_META).write_text(json.dumps({"base_ref": str(tiny_model_dir), "method": "dora"}))
    base, tuned = load_pair(str(tiny_model_dir), str(target), SHARE)
    assert not isinstance(base.model, SharedView) and not isinstance(tuned.model, SharedView)
    assert "shared_base" not in tuned.extra
