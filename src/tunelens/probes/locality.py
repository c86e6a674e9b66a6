"""Probe ``locality``: where in the network did the fine-tune change the model?

Pretraining stores knowledge mostly in lower layers; fine-tuning mostly changes behaviour
in upper layers. This probe shows, for the user's own pair, where the change sits:

* weights (``tunelens.weights``): per block and matrix type the relative change
  ‖ΔW‖_F/‖W‖_F, the entropy effective rank of ΔW (Roy & Vetterli 2007) and each block's
  share of the total change ‖ΔW‖². A LoRA adapter is read from its factors
  (ΔW = s·B·A, Hu et al. 2022) and checked against the dense difference of the merged model;
* representations: linear CKA per block between base and tuned activations on the same
  tokens (Kornblith et al. 2019), on general text and on chat prompts with the tuned
  model's replies (the fine-tune's held-out prompts when its task is given);
* readout: the logit lens per block (nostalgebraist 2020), KL(base‖tuned) per block, and
  on world-fact prompts the first block at which each model's final answer is the lens's
  top-1, paired over facts;
* token shift (Lin et al. 2023, URIAL): each token of the tuned model's greedy replies
  ranked under the base: unshifted (rank 1), marginal (2–3), shifted (beyond 3);
* KL hot spots: per-token KL(tuned‖base), and the contexts where it peaks.

Between-model quantities are descriptive: their Base column is the value of the base
against itself (no change), and they carry no test. Run it with
``tunelens audit BASE TUNED --probes locality``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tunelens.data import OPEN_PROMPTS, general_text_chunks, open_prompts, world_facts
from tunelens.engine import Engine, GenRequest, memoised
from tunelens.models import parse_ref
from tunelens.probes._common import paired_item, paired_metric
from tunelens.probes._locality_figures import (
    Profile,
    Shift,
    hot_spot_items,
    layer_profile,
    locality_notes,
    locality_plots,
    pooled_mean,
    shift_items,
    shifted_tokens,
    token_shift,
    upper_share,
)
from tunelens.probes._locality_passes import AnswerLayers, PairPass, Text, answer_layers, run_pair
from tunelens.probes._registry import ProbeContext, probe
from tunelens.probes._similarity import SHIFT_CATEGORIES
from tunelens.results import ItemRecord, Metric, MetricDecl, ProbeResult
from tunelens.stats import cluster_bootstrap_interval
from tunelens.weights import WeightDiff, compare_adapter, compare_models
from tunelens.weights._sources import ModuleSource

NAME = "locality"
AGREEMENT_TOLERANCE = 1e-3  # largest relative difference of ‖ΔW‖ at which the LoRA and dense paths agree


@dataclass(frozen=True)
class LocalityConfig:
    """Texts, prompts and lens positions. The defaults take about 16 s for both embedded
    SmolLM2-135M models on a 2-core CPU, base against itself or against the demo's LoRA
    adapter (10 s the two forward passes, 4 s the tuned model's replies); ``QUICK`` about
    11 s. Effective ranks of a dense full fine-tune add a Gram matrix and its eigenvalues
    per changed matrix (about 5 s for every matrix of SmolLM2-135M); LoRA factors cost
    next to nothing."""

    n_texts: int = 6  # general-text chunks (CPython's pydoc topics)
    chars_per_text: int = 480
    max_text_tokens: int = 128
    n_prompts: int = 8  # chat prompts: the task's held-out prompts, else the fixed open prompts
    max_new_tokens: int = 32  # the tuned model's greedy reply, whose tokens are ranked under the base
    facts_per_category: int = 4  # world-fact prompts for the answer layer (5 categories)
    lens_positions: int = 6  # evenly spaced positions per text at which the lens reads every block
    effective_rank: bool = True  # singular values of every changed matrix (a few seconds for a full fine-tune)
    hot_spots: int = 4  # peak-KL contexts shown per group (general text, chat), one per text
    context_tokens: int = 16  # tokens of context shown before a hot spot
    top_shifted: int = 10  # most often shifted tokens listed


QUICK = LocalityConfig(
    n_texts=4, max_text_tokens=96, n_prompts=6, max_new_tokens=20, facts_per_category=2, lens_positions=4
)
STANDARD = LocalityConfig(facts_per_category=12)
"""The defaults, with 60 world-fact prompts for the answer layer (one forward pass each: about
a second more than 20)."""
THOROUGH = LocalityConfig(n_texts=12, n_prompts=24, facts_per_category=40, hot_spots=6)
"""Sized for a GPU: more text and chat tokens behind CKA, the lens and the token shift, and
200 world facts (40 per category; the US states have 50) for the answer layer."""


def _descriptive(name: str, label: str, unit: str, headline: bool = False) -> MetricDecl:
    return MetricDecl(name, label, unit=unit, higher_is_better=None, descriptive=True, headline=headline)


METRICS = (
    _descriptive("weight_relative_change", "Relative weight change ‖ΔW‖/‖W‖, all weights", "ratio", headline=True),
    _descriptive("weight_upper_share", "Share of the weight change ‖ΔW‖² in the upper half", "rate"),
    _descriptive("cka_mean", "Representation similarity, linear CKA (mean over layers)", "score"),
    _descriptive(
        "representation_upper_share", "Share of the representation change (1 − CKA) in the upper half", "rate"
    ),
    _descriptive("lens_kl_mean", "Logit-lens KL(base‖tuned), mean over layers", "nats"),
    _descriptive("token_kl_general", "Next-token KL(tuned‖base) on general text", "nats/token", headline=True),
    _descriptive("token_kl_*", "Next-token KL(tuned‖base)", "nats/token"),
    *(
        _descriptive(f"tokens_{c}", f"Tuned reply tokens {c} under the base (token shift)", "rate")
        for c in SHIFT_CATEGORIES
    ),
    MetricDecl(
        "answer_first_layer",
        "First layer where the final answer is the lens's top-1 (world facts)",
        unit="layer",
        higher_is_better=None,
    ),
)
"""Every metric the probe emits. All but one describe the pair (distances between the two
models, or the tuned model's replies under the base) and take no test. The one paired,
tested metric, the layer where fact answers form, is exploratory: the probe's question (where
the change sits) is answered by the descriptive profile, so the probe adds nothing to the
confirmatory family that other probes' headlines share. Its two headline metrics (how far the
weights moved, how far next-token predictions on general text moved) are descriptive: they
take no test and stand in ``compare``'s table as costs."""


def weight_change(ctx: ProbeContext, cfg: LocalityConfig) -> tuple[WeightDiff, str | None]:
    """The weight diff of the pair and, for a LoRA adapter, a note on the factor path.

    The dense path compares the loaded parameters pairwise. When the tuned model is an
    adapter, its factors give ΔW exactly (no rounding of the merge), so they are used
    when the two paths agree; when they do not (the adapter was trained on another base),
    the dense difference is kept and the note says so."""
    if ctx.tuned.loaded.kind != "adapter":
        return compare_models(ctx.base.model, ctx.tuned.model, ranks=cfg.effective_rank), None
    dense = compare_models(ctx.base.model, ctx.tuned.model, ranks=False)  # norms only, to check the factors
    adapter_dir = Path(parse_ref(ctx.tuned.loaded.ref).target)
    factors = compare_adapter(ModuleSource(ctx.base.model), adapter_dir, ranks=cfg.effective_rank)
    by_name = {t.name: t.delta_norm for t in dense.tensors}
    gaps = [abs(by_name[t.name] - t.delta_norm) for t in factors.tensors if t.name in by_name]
    largest = max(gaps, default=0.0) / max(max(by_name.values(), default=0.0), 1e-30)
    if largest <= AGREEMENT_TOLERANCE:
        return factors, (
            f"Weight change read from the adapter's LoRA factors (ΔW = s·B·A, never formed); the dense difference "
            f"of the merged model agrees (largest gap in ‖ΔW‖_F {largest:.1e} of the largest change)."
        )
    return compare_models(ctx.base.model, ctx.tuned.model, ranks=cfg.effective_rank), (
        f"The adapter's LoRA factors and the dense difference of the merged model disagree (largest gap "
        f"{largest:.1%} of the largest change): the adapter was probably trained on another base. Figures use "
        "the dense difference between the audited models."
    )


def chat_texts(ctx: ProbeContext, cfg: LocalityConfig) -> tuple[list[str], list[str], list[Text], str]:
    """The chat prompts, the tuned model's greedy replies, the prompt + reply token texts,
    and where the prompts come from."""
    tuned: Engine = ctx.tuned
    if ctx.task is not None and ctx.task.heldout_prompts:
        prompts, origin = list(ctx.task.heldout_prompts[: cfg.n_prompts]), f"the held-out prompts of '{ctx.task.name}'"
    else:
        prompts, origin = (
            [p.text for p in open_prompts(min(cfg.n_prompts, len(OPEN_PROMPTS)))],
            "the fixed open prompts",
        )
    rendered = [tuned.chat_prompt(p) for p in prompts]
    replies = tuned.generate([GenRequest(r, cfg.max_new_tokens) for r in rendered])
    texts = []
    for i, (r, reply) in enumerate(zip(rendered, replies)):
        prompt_ids = tuned.encode(r)
        reply_ids = tuned.encode_continuation(reply) if reply else []
        texts.append(Text(f"chat-{i}", "chat", tuple(prompt_ids + reply_ids), len(prompt_ids)))
    return prompts, replies, texts, origin


def general_texts(engine: Engine, cfg: LocalityConfig, seed: int) -> list[Text]:
    chunks = general_text_chunks(cfg.n_texts, cfg.chars_per_text, seed=seed)
    return [Text(f"text-{i}", "general", tuple(engine.encode(c)[: cfg.max_text_tokens])) for i, c in enumerate(chunks)]


def descriptor(
    name: str,
    label: str,
    value: float | None,
    reference: float | None,
    n: int,
    unit: str = "",
    interval: tuple[float | None, float | None] = (None, None),
) -> Metric:
    """A between-model quantity: ``reference`` is its value for the base against itself, so
    the change is the quantity's distance from 'no change'; the interval is the value's,
    shifted the same way. No test, no direction."""
    value = None if value is None or math.isnan(value) else value
    delta = value - reference if value is not None and reference is not None else None

    def moved(x: float | None) -> float | None:
        return x - reference if x is not None and delta is not None and reference is not None else None

    return Metric(
        name=name,
        probe=NAME,
        label=label,
        unit=unit,
        higher_is_better=None,
        base=reference,
        tuned=value,
        delta=delta,
        ci_low=moved(interval[0]),
        ci_high=moved(interval[1]),
        n=n,
        test="descriptive",
    )


def _metrics(
    wd: WeightDiff,
    prof: Profile,
    shift: Shift,
    passes: PairPass,
    texts: list[Text],
    first: dict[str, list[int]],
    seed: int,
) -> list[Metric]:
    blocks = len(prof.cka)
    half = blocks // 2
    where = f"layers {half}–{blocks - 1}"
    lens_groups = [s.lens_kl.mean(axis=1) for s in passes.stats]
    n_lens = sum(len(g) for g in lens_groups)
    metrics = [
        descriptor(
            "weight_relative_change",
            "Relative weight change ‖ΔW‖/‖W‖, all weights",
            wd.relative_change(),
            0.0,
            len(wd.tensors),
        ),
        descriptor(
            "weight_upper_share",
            f"Share of the weight change ‖ΔW‖² in the upper half ({where})",
            sum(wd.layer_shares()[half:]) if wd.total_change() > 0 else None,
            None,
            len(wd.tensors),
            "rate",
        ),
        descriptor(
            "cka_mean",
            "Representation similarity, linear CKA (mean over layers)",
            float(np.nanmean(prof.cka)),
            1.0,
            prof.n_tokens,
        ),
        descriptor(
            "representation_upper_share",
            f"Share of the representation change (1 − CKA) in the upper half ({where})",
            upper_share(prof.change, half),
            None,
            prof.n_tokens,
            "rate",
        ),
        descriptor(
            "lens_kl_mean",
            "Logit-lens KL(base‖tuned), mean over layers",
            pooled_mean(lens_groups),
            0.0,
            n_lens,
            "nats",
            cluster_bootstrap_interval(lens_groups, seed),
        ),
    ]
    for group, label in (("general", "general text"), ("chat", "chat prompts and replies")):
        kls = [s.token_kl for s, t in zip(passes.stats, texts) if t.group == group]
        metrics.append(
            descriptor(
                f"token_kl_{group}",
                f"Next-token KL(tuned‖base), {label}",
                pooled_mean(kls),
                0.0,
                sum(len(k) for k in kls),
                "nats/token",
                cluster_bootstrap_interval(kls, seed),
            )
        )
    for category, reference in zip(SHIFT_CATEGORIES, (1.0, 0.0, 0.0)):
        metrics.append(
            descriptor(
                f"tokens_{category}",
                f"Tuned reply tokens {category} under the base (token shift)",
                shift.shares[category],
                reference,
                shift.n_tokens,
                "rate",
                shift.intervals[category],
            )
        )
    metrics.append(
        paired_metric(
            NAME,
            "answer_first_layer",
            "First layer where the final answer is the lens's top-1 (world facts)",
            first,
            seed=seed,
            binary=False,
            unit="layer",
            higher_is_better=None,
        )
    )
    return metrics


def _fact_items(facts: list, answers: dict[str, list[str]], first: dict[str, list[int]]) -> list[ItemRecord]:
    """Each fact prompt with both models' final answers; scores: the layer where the answer formed."""
    section = "answer layer (world facts)"
    return [
        paired_item(f"fact-{i}", section, f.prompt, i, first, answers, f.answer, {"category": f.category})
        for i, f in enumerate(facts)
    ]


def _answer_layers(engine: Engine, fact_ids: list[tuple[int, ...]]) -> AnswerLayers:
    """:func:`answer_layers` of one model, kept in a base engine's memo (the fact prompts do not
    depend on the tuned model). The activation comparison (``run_pair``) reads both models'
    distributions position by position and runs the base again for every tuned model."""
    payload = [list(ids) for ids in fact_ids]

    def compute() -> tuple[list[int], list[int]]:
        found = answer_layers(engine.model, fact_ids, engine.pad_id)
        return found.answer_ids, found.first_block

    return AnswerLayers(*memoised(engine, "locality.answer_layers", payload, compute))


@probe(
    NAME,
    title="Locality: where the change sits",
    config=LocalityConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=METRICS,
    needs_weights="the weights and hidden states of both models",
)
def locality(ctx: ProbeContext, cfg: LocalityConfig) -> ProbeResult:
    """Where in the network the fine-tune changed the model: per-layer relative weight change,
    effective rank and share of ‖ΔW‖² (from LoRA factors for adapters), linear CKA between
    base and tuned activations per layer (Kornblith et al. 2019), logit-lens KL per layer and
    the layer where fact answers form, the token-shift ratio of the tuned model's replies
    under the base (Lin et al. 2023, URIAL) and the contexts where next-token KL peaks."""
    ctx.progress("locality: weights")
    wd, lora_note = weight_change(ctx, cfg)
    ctx.progress("locality: tuned replies")
    prompts, replies, chat, origin = chat_texts(ctx, cfg)
    texts = general_texts(ctx.base, cfg, ctx.seed) + chat
    ctx.progress("locality: activations of both models")
    models = {"base": ctx.base.model, "tuned": ctx.tuned.model}
    passes = run_pair(models, texts, ctx.base.pad_id, cfg.lens_positions)
    prof = layer_profile(passes)
    shift = token_shift(passes, ctx.seed)
    ctx.progress("locality: answer layers")
    facts = world_facts(cfg.facts_per_category, seed=ctx.seed)
    fact_ids = [tuple(ctx.base.encode(f.prompt)) for f in facts]
    layers = {name: _answer_layers(engine, fact_ids) for name, engine in ctx.engines()}
    first = {name: a.first_block for name, a in layers.items()}
    decode = ctx.base.tokenizer.decode
    answers = {name: [decode([t]) for t in a.answer_ids] for name, a in layers.items()}
    hot = hot_spot_items(texts, passes, ctx.base.tokenizer, cfg.hot_spots, cfg.context_tokens)
    top_shifted = shifted_tokens(texts, passes, cfg.top_shifted)
    n_general = sum(t.group == "general" for t in texts)
    design = (
        f"{n_general} general-text chunks and {len(chat)} chat prompts ({origin}) with the tuned model's greedy "
        "replies; each text's first token, the attention sink, left out"
    )
    peak = max(hot, key=lambda i: i.extra["kl"], default=None)
    return ProbeResult(
        name=NAME,
        metrics=_metrics(wd, prof, shift, passes, texts, first, ctx.seed),
        items=shift_items(prompts, replies, texts, passes, decode, top_shifted)
        + hot
        + _fact_items(facts, answers, first),
        plots=locality_plots(wd, prof, shift),
        notes=locality_notes(
            wd,
            prof,
            shift,
            first,
            [(decode([tok]), n) for tok, n, _ in top_shifted],
            (peak.extra["kl"], peak.section.removeprefix("KL hot spots: ")) if peak else None,
            design,
            [lora_note] if lora_note else [],
        ),
    )
