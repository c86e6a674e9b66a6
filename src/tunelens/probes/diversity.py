"""Probe ``diversity``: does the fine-tune collapse a model's answers onto one format?

Post-training narrows what a model says and how it says it: Zhao et al. 2025 ("Echo
Chamber: RL Post-training Amplifies Behaviors Learned in Pretraining", arXiv:2504.07912)
label sampled answers by surface format with rules and find RL post-training drives one
format to dominance within the first epoch. This probe samples several replies per prompt from
both models, on a fixed set of open prompts (``tunelens.data.OPEN_PROMPTS``) with the same
seeded random streams, and compares, paired over prompts:

* format entropy (bits) and the dominant format's share among a prompt's samples, with
  the rule-based labels of ``tunelens.probes._formats``;
* distinct-1 and distinct-2 (Li et al. 2016) over a prompt's samples;
* self-BLEU (Zhu et al. 2018, Texygen): how much a prompt's samples repeat each other;
* embedding diversity: mean pairwise cosine distance of the samples' all-MiniLM-L6-v2
  embeddings, when the optional package is installed (``pip install "tunelens[embeddings]"``).

The format distribution over all samples is drawn for both models side by side. No
direction is marked better: a fine-tune may narrow formats on purpose, and the report
should say that it did, not judge it. Run it with
``tunelens audit BASE TUNED --probes diversity``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from tunelens.data import OpenPrompt, open_prompts
from tunelens.engine import GenRequest, Sampling
from tunelens.probes._common import paired_item, paired_metric
from tunelens.probes._diversity_metrics import (
    distinct_n,
    dominant_share,
    entropy_bits,
    mean_pairwise_cosine_distance,
    self_bleu,
    words,
)
from tunelens.probes._embeddings import EMBEDDER_NAME, INSTALL_HINT, load_embedder
from tunelens.probes._formats import FORMAT_NAMES, FORMATS, ONE_LINE_WORDS, label_format
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import Metric, MetricDecl, Plot, ProbeResult, Series
from tunelens.stats import MIN_ITEMS

NAME = "diversity"

MIN_WORDS = 3
"""A sample with fewer words than this says too little to have a format or a vocabulary."""

STATS: tuple[tuple[str, str, str], ...] = (
    ("format_entropy", "Format entropy among a prompt's samples", "bits"),
    ("dominant_format_share", "Share of a prompt's samples in its most common format", "rate"),
    ("distinct_1", "Distinct-1 (distinct words / words) over a prompt's samples", "distinct"),
    ("distinct_2", "Distinct-2 (distinct word pairs / pairs) over a prompt's samples", "distinct"),
    ("self_bleu", "Self-BLEU-4 of a prompt's samples (higher: more repetitive)", "distinct"),
    ("embedding_diversity", "Mean pairwise cosine distance of a prompt's sample embeddings", "distinct"),
)
"""Every per-prompt statistic: (metric name, label, unit), in report order."""

HEADLINE = ("self_bleu", "distinct_2")
"""The statistics that answer the probe's question (did a prompt's replies grow alike?):
Texygen's self-BLEU and distinct-2, which a collapse onto one way of answering moves first.
Paired over prompts; no direction is marked better. Both sit mid-scale on the embedded
SmolLM2-135M-Instruct (60 prompts x 3 samples x 48 tokens: self-BLEU 0.13, distinct-2 0.89),
so they can move either way. The dominant format's share is not a headline: 95% on the same
run (most short replies are prose), at the ceiling of its scale, it has no room to show the
collapse it is meant to show."""


@dataclass(frozen=True)
class DiversityConfig:
    """Prompts, samples and sampling; the paired unit is a prompt, so the prompt count is the
    n of every metric. Generation is the cost (each sample is a chat generation row), so a
    budget buys prompts with few samples each (3: the fewest that give a format entropy
    and a dominant share finer than all-or-nothing) and short replies (48 tokens: enough
    for a lead-in line and two or three list items, which is where a format shows).

    Cost with the embedded SmolLM2-135M on a 2-core CPU: ``QUICK`` (8 x 3 x 28) about 16 s
    for both models; ``standard`` (60 prompts x 3 samples x 48 tokens, 180 sampled rows per
    model) about 1.5 minutes on a quiet machine, extrapolated from 30 rows x 64 tokens in
    35 s (on a machine shared with four other jobs one model took 15 minutes).
    ``THOROUGH`` (200 x 3 x 64) is sized for a GPU."""

    n_prompts: int = 60  # the first n of OPEN_PROMPTS (at most POOL_SIZE); the paired unit
    samples_per_prompt: int = 3  # at least 2: self-BLEU and pairwise distances need pairs
    temperature: float = 1.0  # the model's own distribution, not sharpened
    top_p: float = 0.95  # cut the far tail, whose junk tokens would pass for diversity
    max_new_tokens: int = 48  # enough to see a reply's shape (a lead-in line and a few items)
    seed_offset: int = 0  # added to the audit seed: another draw of samples, same prompts
    embeddings: bool = True  # embedding diversity when the optional embedder is installed
    samples_shown: int = 2  # samples per model written into each item's outputs


QUICK = DiversityConfig(n_prompts=8, max_new_tokens=28)
"""A smoke run: 8 prompts is the fewest for a verdict, and far too few for a headline one."""
STANDARD = DiversityConfig()
THOROUGH = DiversityConfig(n_prompts=200, max_new_tokens=64)


def _prompts(cfg: DiversityConfig) -> int:
    return cfg.n_prompts


METRICS = tuple(
    MetricDecl(
        stat,
        label,
        unit=unit,
        higher_is_better=None,
        headline=stat in HEADLINE,
        items=_prompts if stat in HEADLINE else None,
    )
    for stat, label, unit in STATS
)
"""Every metric the probe emits, one per statistic of :data:`STATS`."""


def sample_replies(ctx: ProbeContext, prompts: list[OpenPrompt], cfg: DiversityConfig) -> dict[str, list[list[str]]]:
    """``cfg.samples_per_prompt`` sampled chat replies per prompt and model, in one batched
    generation per model. Request j of the batch draws from seeded stream j in both
    models, so the two are paired down to the random numbers."""
    k = cfg.samples_per_prompt
    sampling = Sampling(temperature=cfg.temperature, top_p=cfg.top_p, seed=ctx.seed + cfg.seed_offset)
    out: dict[str, list[list[str]]] = {}
    for name, engine in ctx.engines():
        ctx.progress(f"diversity: {name} model, {len(prompts)} prompts x {k} samples")
        requests = [GenRequest(engine.chat_prompt(p.text), cfg.max_new_tokens) for p in prompts for _ in range(k)]
        texts = engine.generate(requests, sampling)
        out[name] = [texts[i * k : (i + 1) * k] for i in range(len(prompts))]
    return out


def embedding_diversity(samples: dict[str, list[list[str]]]) -> dict[str, list[float]] | None:
    """Per prompt and model, the mean pairwise cosine distance of the samples' embeddings;
    None when the embedder is not installed. Each distinct text is embedded once, so the
    same text gets the same vector on both sides."""
    embedder = load_embedder()
    if embedder is None:
        return None
    unique = sorted({t for sets in samples.values() for s in sets for t in s})
    vectors = dict(zip(unique, embedder.embed(unique)))
    return {
        name: [mean_pairwise_cosine_distance(np.stack([vectors[t] for t in s])) for s in sets]
        for name, sets in samples.items()
    }


def prompt_stats(
    samples: dict[str, list[list[str]]], labels: dict[str, list[list[str]]]
) -> dict[str, dict[str, list[float]]]:
    """``stats[stat][model]``: one value per prompt for every text statistic of :data:`STATS`."""
    per_set = {
        "format_entropy": lambda s, lab: entropy_bits(lab),
        "dominant_format_share": lambda s, lab: dominant_share(lab),
        "distinct_1": lambda s, lab: distinct_n(s, 1),
        "distinct_2": lambda s, lab: distinct_n(s, 2),
        "self_bleu": lambda s, lab: self_bleu(s),
    }
    return {
        stat: {name: [fn(s, lab) for s, lab in zip(samples[name], labels[name])] for name in samples}
        for stat, fn in per_set.items()
    }


def describe_distribution(counts: Counter[str]) -> str:
    """'prose 50%, numbered list 25%, ... (entropy 1.50 bits; dominant: prose, 50%)'."""
    total = sum(counts.values())
    shares = ", ".join(f"{FORMAT_NAMES[f]} {c / total:.0%}" for f, c in counts.most_common())
    top, top_count = counts.most_common(1)[0]
    entropy = entropy_bits(list(counts.elements()))
    return f"{shares} (entropy {entropy:.2f} bits; dominant: {FORMAT_NAMES[top]}, {top_count / total:.0%})"


def _format_plot(counts: dict[str, Counter[str]]) -> Plot:
    shown = [f for f in FORMATS if any(c[f] for c in counts.values())]
    totals = {name: sum(c.values()) for name, c in counts.items()}
    series = [
        Series(name=name, x=[FORMAT_NAMES[f] for f in shown], y=[c[f] / totals[name] for f in shown])
        for name, c in counts.items()
    ]
    captions = "; ".join(
        f"{name}: entropy {entropy_bits(list(c.elements())):.2f} bits, "
        f"dominant {FORMAT_NAMES[c.most_common(1)[0][0]]} {c.most_common(1)[0][1] / totals[name]:.0%}"
        for name, c in counts.items()
    )
    n_samples = " and ".join(sorted({str(t) for t in totals.values()}))
    return Plot(
        id="format-distribution",
        title="Reply formats, base vs tuned",
        kind="bar",
        x_label="format",
        y_label="share of samples",
        series=series,
        caption=f"Share of each model's {n_samples} sampled replies in each format ({captions}).",
    )


def _show(samples: list[str], labels: list[str]) -> str:
    """Samples one under another, each headed by its number and format."""
    blocks = [f"[{j + 1}: {FORMAT_NAMES[lab]}]\n{s.strip()}" for j, (s, lab) in enumerate(zip(samples, labels))]
    return "\n\n".join(blocks)


def _notes(
    cfg: DiversityConfig,
    n: int,
    counts: dict[str, Counter[str]],
    samples: dict[str, list[list[str]]],
    embedded: bool,
) -> list[str]:
    k = cfg.samples_per_prompt
    notes = [
        f"{n} open prompts x {k} samples per model (temperature {cfg.temperature:g}, top-p {cfg.top_p:g}, "
        f"up to {cfg.max_new_tokens} new tokens). Sample j of a prompt draws from the same seeded random stream "
        f"in both models, so identical models give identical samples. With {k} samples a prompt's format entropy "
        f"is at most {np.log2(k):.2f} bits; item scores are that entropy.",
        "Formats are labelled by rules, first match wins: empty, JSON, code block, table, headed sections, "
        f"numbered list, bullet list, one line (a finished line of at most {ONE_LINE_WORDS} words), prose. Lead-in "
        "lines do not change a label.",
        *(
            f"Formats over all {sum(c.values())} {name} samples: {describe_distribution(c)}."
            for name, c in counts.items()
        ),
    ]
    if not embedded:
        notes.append(
            "Embedding diversity is left out: "
            + (
                "turned off in the config."
                if not cfg.embeddings
                else f"the sentence-embedding model ({EMBEDDER_NAME}) is not installed. Install it with {INSTALL_HINT}."
            )
        )
    if cfg.temperature <= 0:
        notes.append("Temperature 0 is greedy decoding: a prompt's samples are identical by construction.")
    if n < MIN_ITEMS:
        notes.append(f"Only {n} prompts: paired verdicts need at least {MIN_ITEMS}, so every metric reads too few.")
    for name, sets in samples.items():
        total = sum(len(s) for s in sets)
        short = sum(len(words(t)) < MIN_WORDS for s in sets for t in s)
        if short * 2 > total:
            notes.append(
                f"{short} of the {name} model's {total} samples are empty or under {MIN_WORDS} words: too few words "
                "to judge its formats or vocabulary; read its samples below."
            )
    return notes


@probe(
    NAME,
    title="Diversity: format collapse",
    config=DiversityConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=METRICS,
)
def diversity(ctx: ProbeContext, cfg: DiversityConfig) -> ProbeResult:
    """Several sampled replies per open prompt from both models: the share of each surface
    format (list, prose, code, ...), its entropy and the dominant format's share, distinct-n,
    self-BLEU and embedding diversity. Post-training tends to collapse answers onto one
    dominant format (Zhao et al. 2025, "Echo Chamber")."""
    if cfg.samples_per_prompt < 2:
        raise ValueError("diversity needs at least 2 samples per prompt")
    prompts = open_prompts(cfg.n_prompts)
    samples = sample_replies(ctx, prompts, cfg)
    labels = {name: [[label_format(t) for t in s] for s in sets] for name, sets in samples.items()}
    stats = prompt_stats(samples, labels)
    if cfg.embeddings:
        ctx.progress("diversity: embedding samples")
        distances = embedding_diversity(samples)
        if distances is not None:
            stats["embedding_diversity"] = distances
    metrics: list[Metric] = [
        paired_metric(NAME, stat, label, stats[stat], seed=ctx.seed, binary=False, unit=unit, higher_is_better=None)
        for stat, label, unit in STATS
        if stat in stats
    ]
    counts = {name: Counter(lab for labs in sets for lab in labs) for name, sets in labels.items()}
    m = cfg.samples_shown
    shown = {name: [_show(s[:m], lab[:m]) for s, lab in zip(samples[name], labels[name])] for name in samples}
    items = [
        paired_item(
            p.id,
            p.kind,
            p.text,
            i,
            stats["format_entropy"],
            shown,
            extra={
                **{f"{name}_formats": labels[name][i] for name in samples},
                **{f"{name}_samples": samples[name][i] for name in samples},
                **{f"{name}_{stat}": stats[stat][name][i] for stat in stats for name in samples},
            },
        )
        for i, p in enumerate(prompts)
    ]
    return ProbeResult(
        name=NAME,
        metrics=metrics,
        items=items,
        plots=[_format_plot(counts)],
        notes=_notes(cfg, len(prompts), counts, samples, "embedding_diversity" in stats),
    )
