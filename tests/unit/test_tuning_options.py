"""Tuning building blocks on toy tensors (no language model): the SVF layer, the isolation
threshold, general-data mixing and the checks on method options."""

from __future__ import annotations

import pytest
import torch

from tunelens.errors import TunelensError
from tunelens.tuning import RECIPES, MethodOptions
from tunelens.tuning._isolate import _kth_largest
from tunelens.tuning._mix import mix_general, n_general_for
from tunelens.tuning._svf import SVFLinear, decompose, merge_svf


def _merged(layer: SVFLinear) -> torch.Tensor:
    return ((layer.u * layer.singular_values()) @ layer.vh).detach()


def test_svf_layer_starts_at_the_base_and_keeps_the_sum_of_singular_values() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(24, 40)
    x = torch.randn(5, 24)
    expected = linear(x)
    layer = SVFLinear(linear, max_mult=2.0)
    assert torch.allclose(layer(x), expected, atol=1e-5)
    assert torch.allclose(_merged(layer), linear.weight, atol=1e-5)
    assert layer.z.numel() == 24 and layer.z.requires_grad
    with torch.no_grad():
        layer.z.copy_(torch.linspace(-3, 3, 24))
    values = layer.singular_values().detach()
    assert not torch.allclose(values, layer.sigma)
    assert float(values.sum()) == pytest.approx(float(layer.sigma.sum()), rel=1e-5)
    # The product through U and Vᵀ equals the merged matrix W', which merge_svf writes.
    assert torch.allclose(layer(x), x @ _merged(layer).T + linear.bias, atol=1e-5)
    model = torch.nn.Sequential(linear)
    merge_svf(model, {"0": layer.z.detach()}, max_mult=2.0)
    assert torch.allclose(model[0].weight, _merged(layer), atol=1e-5)


def test_svf_start_is_exact_for_any_max_mult() -> None:
    torch.manual_seed(1)
    linear = torch.nn.Linear(16, 8, bias=False)
    for max_mult in (0.5, 1.0, 3.0):
        assert torch.allclose(_merged(SVFLinear(linear, max_mult)), linear.weight, atol=1e-5)


def test_decomposition_matches_torch_svd_also_when_ill_conditioned() -> None:
    torch.manual_seed(3)
    for shape in ((40, 24), (24, 40)):
        q1, _ = torch.linalg.qr(torch.randn(shape[0], 24 if shape[0] > 24 else shape[0]))
        q2, _ = torch.linalg.qr(torch.randn(shape[1], q1.shape[1]))
        spectrum = torch.logspace(0, -5, q1.shape[1])  # condition number 1e5
        w = (q1 * spectrum) @ q2.T
        u, sigma, vh = decompose(w)
        assert torch.allclose(sigma, torch.linalg.svdvals(w), atol=1e-6, rtol=1e-4)
        assert torch.allclose((u * sigma) @ vh, w, atol=1e-6)


def test_kth_largest_matches_a_sort() -> None:
    torch.manual_seed(2)
    deltas = [torch.rand(300).pow(3), torch.zeros(50), torch.tensor([0.5, 0.5, 0.5, 0.25])]
    flat = torch.cat(deltas).sort(descending=True).values
    for k in (1, 2, 3, 4, 10, 100, 303):
        assert _kth_largest(deltas, k) == float(flat[k - 1])


def _task(n: int) -> list[list[dict]]:
    return [[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}] for i in range(n)]


def test_mix_general_share_and_determinism() -> None:
    mixed = mix_general(_task(30), 0.25, seed=0)
    general = [c for c in mixed if len(c) == 1]
    assert len(mixed) == 40 and len(general) == 10  # 10 / 40 = the asked share
    assert all(c[0]["role"] == "assistant" and len(c[0]["content"]) > 100 for c in general)
    assert mix_general(_task(30), 0.25, seed=0) == mixed
    assert mix_general(_task(30), 0.25, seed=1) != mixed
    assert mix_general(_task(30), 0.0, seed=0) == _task(30)
    assert n_general_for(3, 0.01) == 1  # asked for some general data: at least one record


def test_mix_general_leaves_out_the_forgetting_probe_text() -> None:
    from tunelens.data import general_text_chunks
    from tunelens.probes import PROBES
    from tunelens.probes.forgetting import ForgettingConfig

    cfg = PROBES["forgetting"].config_for("thorough")  # the largest budget: every smaller one is inside it
    assert isinstance(cfg, ForgettingConfig)
    probe_text = set(general_text_chunks(cfg.n_text_chunks, cfg.chars_per_chunk, seed=0))
    mixed = mix_general(_task(100), 0.6, seed=0)
    assert len(mixed) == 250
    assert not probe_text & {c[0]["content"] for c in mixed[100:]}


def test_mix_general_refuses_bad_shares_and_too_much() -> None:
    for share in (-0.1, 1.0, 1.5):
        with pytest.raises(TunelensError, match=r"--mix-general .*\[0, 1\)"):
            mix_general(_task(4), share, seed=0)
    with pytest.raises(TunelensError, match="lower the share"):
        mix_general(_task(1000), 0.9, seed=0)


def test_method_options_refuse_bad_values_and_combinations() -> None:
    full, lora, svf = RECIPES["full"], RECIPES["lora"], RECIPES["svf"]
    with pytest.raises(TunelensError, match="--ignore-k is a percentage"):
        MethodOptions(ignore_k=100).check(lora, "base")
    with pytest.raises(TunelensError, match="--isolate-top needs --isolate-from"):
        MethodOptions(isolate_top=5).check(full, "base")
    for recipe in (lora, svf):
        with pytest.raises(TunelensError, match=f"--isolate-from works with --method full, not {recipe.name}"):
            MethodOptions(isolate_from="run").check(recipe, "base")
    with pytest.raises(TunelensError, match="--isolate-top is a percentage"):
        MethodOptions(isolate_from="run", isolate_top=0).check(full, "base")
    with pytest.raises(TunelensError, match="--isolate-from: unknown model reference"):
        MethodOptions(isolate_from="no/such/run/here").check(full, "base")
    MethodOptions(ignore_k=8, mix_general=0.2).check(svf, "base")


def test_training_info_without_method_options_still_reads() -> None:
    from tunelens.results import TrainingInfo

    old = dict(method="lora", data="d.jsonl", n_examples=4, epochs=1.0, steps=1, learning_rate=1e-3, batch_size=4)
    old.update(trainable_params=10, loss_curve=[(1, 2.0)], seconds=0.1, checkpoint="run/adapter")
    assert TrainingInfo.model_validate(old).method_options == {}


def test_report_lists_the_method_options_that_were_used() -> None:
    from tunelens.report._sections import training_section
    from tunelens.results import TrainingInfo

    info = dict(method="svf", data="d.jsonl", n_examples=5, epochs=1.0, steps=1, learning_rate=2e-3, batch_size=4)
    info.update(trainable_params=10, loss_curve=[(1, 2.0)], seconds=0.1, checkpoint="run/svf")
    options = {"attention": False, "max_mult": 2.0, "ignore_k": 8.0, "isolate_from": None, "mix_general": 0.2}
    html = training_section(TrainingInfo(**info, method_options=options), 100)
    assert "max_mult=2.0, ignore_k=8.0, mix_general=0.2" in html and "attention" not in html


def test_heldout_split_is_seeded_never_all_and_at_least_one() -> None:
    from tunelens.tuning._tune import n_heldout_for, split_heldout

    assert [n_heldout_for(n, 0.1) for n in (1, 2, 5, 10, 24)] == [0, 1, 1, 1, 2]
    assert n_heldout_for(3, 0.9) == 2 and n_heldout_for(100, 0.0) == 0
    task = _task(20)
    kept, held = split_heldout(task, 0.25, seed=0)
    assert len(held) == 5 and len(kept) == 15
    assert sorted(kept + held, key=lambda c: int(c[0]["content"][1:])) == task  # a partition, in order
    assert [c for c in task if c in kept] == kept and [c for c in task if c in held] == held
    assert split_heldout(task, 0.25, seed=0) == (kept, held)  # the same seed, the same split
    assert split_heldout(task, 0.25, seed=1)[1] != held
    assert split_heldout(task, 0.0, seed=0) == (task, [])
    for share in (-0.1, 1.0, float("nan")):
        with pytest.raises(TunelensError, match=r"--heldout is a share in \[0, 1\)"):
            split_heldout(task, share, seed=0)


def test_heldout_prompts_are_the_last_user_turn_before_the_reply() -> None:
    from tunelens.tuning._tune import last_prompt

    chat = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "second"},
        {"role": "tool", "content": "result"},
        {"role": "assistant", "content": "b"},
    ]
    assert last_prompt(chat) == "second"
    assert last_prompt([{"role": "assistant", "content": "plain text"}]) == ""


def test_tune_refuses_a_bad_heldout_before_loading_anything(tmp_path) -> None:
    from tunelens.tuning import tune

    with pytest.raises(TunelensError, match="--heldout is a share"):
        tune("embedded:smollm2-135m-instruct", _task(4), out_dir=tmp_path / "out", heldout=1.0)
    assert not (tmp_path / "out").exists()


def _long_reply(smollm_tokenizer, max_length: int) -> list[dict]:
    return [{"role": "user", "content": "Tell me."}, {"role": "assistant", "content": "word " * (2 * max_length)}]


def test_encoding_counts_truncated_and_dropped_examples(smollm_tokenizer) -> None:
    from tunelens.tuning._sft import IGNORE, encode_conversation, encode_example

    limit = 48
    short = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    fits = encode_example(smollm_tokenizer, short, limit)
    assert not fits.truncated and not fits.dropped and len(fits.ids) < limit
    assert encode_conversation(smollm_tokenizer, short, limit) == (fits.ids, fits.labels)
    cut = encode_example(smollm_tokenizer, _long_reply(smollm_tokenizer, limit), limit)
    assert cut.truncated and not cut.dropped and len(cut.ids) == limit
    assert cut.labels[-1] != IGNORE and cut.prompt_tokens < limit
    long_prompt = [{"role": "user", "content": "word " * limit}, {"role": "assistant", "content": "Yes."}]
    dropped = encode_example(smollm_tokenizer, long_prompt, limit)
    assert dropped.dropped and not dropped.truncated and dropped.prompt_tokens >= limit
    text = encode_example(smollm_tokenizer, [{"role": "assistant", "content": "word " * limit}], limit)
    assert text.truncated and len(text.ids) == limit and text.labels == text.ids
    # The trained reply is the last assistant message with text, not an empty one after it.
    trailing = [*short, {"role": "user", "content": "More?"}, {"role": "assistant", "content": ""}]
    assert encode_example(smollm_tokenizer, trailing, 256).ids == fits.ids


def test_the_length_warning_says_what_was_cut_and_left_out() -> None:
    from tunelens.tuning._sft import length_warning

    assert length_warning(120, 0, 0, 256) is None
    assert length_warning(120, 2, 1, 256) == (
        "3 of 120 examples are longer than --max-length 256 tokens: 2 were cut to 256 (their reply's end is not "
        "trained) and 1 had no reply token within the limit and was left out. Raise --max-length to keep them."
    )
    assert length_warning(120, 1, 0, 256).startswith("1 of 120 examples is longer than --max-length 256 tokens: cut")
    assert "left out. Raise --max-length to keep it." in length_warning(120, 0, 1, 256)


def test_train_refuses_when_every_example_is_left_out(smollm_tokenizer) -> None:
    from tunelens.tuning._sft import TrainConfig, train

    long_prompt = [{"role": "user", "content": "word " * 64}, {"role": "assistant", "content": "Yes."}]
    heard: list[str] = []
    with pytest.raises(TunelensError, match=r"all 2 examples were left out: .*--max-length 16 .*Raise --max-length"):
        train(None, smollm_tokenizer, [long_prompt] * 2, TrainConfig(max_length=16), progress=heard.append)
    assert heard == []


def test_report_shows_the_token_limit_and_what_it_cut() -> None:
    from tunelens.report._sections import training_section
    from tunelens.results import TrainingInfo

    info = dict(method="lora", data="d.jsonl", n_examples=116, epochs=1.0, steps=1, learning_rate=2e-3, batch_size=4)
    info.update(trainable_params=10, loss_curve=[(1, 2.0)], seconds=0.1, checkpoint="run/adapter")
    plain = training_section(TrainingInfo(**info, max_length=256), 100)
    assert "256 tokens per example" in plain and "Truncated" not in plain and "Left out" not in plain
    html = training_section(TrainingInfo(**info, max_length=256, n_truncated=3, n_dropped=1, heldout=["q1", "q2"]), 100)
    assert "3 examples, cut to 256 tokens: the end of the reply" in html
    assert "1 example, not trained: no reply token within 256" in html
    assert "2 prompts, not trained" in html
    assert "Truncated" not in training_section(TrainingInfo(**info), 100)  # before schema 1.4
