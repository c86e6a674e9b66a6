"""Probe ``behaviour``: what did the fine-tune do to ordinary replies, found without being told?

Both models reply to the same ordinary prompts that ship with tunelens (questions,
instructions, requests for lists, code or JSON, advice, short and long answers, a few a
careful assistant declines: ``tunelens.data.EVERYDAY_PROMPTS``), greedily, and for the
sampled view a few seeded samples each. The replies of both models, pooled, are described by
surface features discovered from them (``tunelens.probes._surface``, the extractor triage
reads training data with): opening and closing lines and words, lines that recur, layout,
markers of tone and structure, declining and hedging, the language, and recurring words and
phrases, so that a change nobody listed in advance (a new greeting, a product name in
unrelated replies, a switch of language) is found too.

Every candidate feature is a paired test over prompts (exact McNemar on "the reply has
it"), counted in the report's false-discovery control whether it moved or not; candidates
are chosen by how many replies of both models hold them, which a swap of a prompt's two
replies does not change, so the selection leaves the tests exact. Three headline metrics
are declared in advance: the share of replies with a structured layout (a list, headings,
a table, code, JSON), the mean reply length in words, and the share that decline. The
discoveries are ranked by effect in the report ("Opens with the line “Hi there!”: 0% →
100%"). The token-level view lists the tokens whose probability rose most from base to tuned
on the tuned model's own replies (``_token_shift``).

The prompt form: each model gets its chat template when both have one; when either has
none (a pretrained base audited against its chat fine-tune) both get the same plain
"User: …\\nAssistant:" text, so a difference in replies is the models', not the prompts'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tunelens.data import EverydayPrompt, everyday_prompts
from tunelens.engine import GenRequest, Sampling
from tunelens.probes._common import paired_item, paired_metric
from tunelens.probes._formats import (
    BULLET_LIST,
    CODE,
    FORMAT_NAMES,
    FORMATS,
    JSON,
    NUMBERED_LIST,
    SECTIONS,
    TABLE,
    label_format,
)
from tunelens.probes._registry import ProbeContext, probe
from tunelens.probes._surface import FLAGS, KINDS, SurfaceFeature, discover
from tunelens.probes._token_shift import token_shifts, token_table
from tunelens.results import MetricDecl, ProbeResult, Table
from tunelens.stats import MIN_ITEMS

NAME = "behaviour"
FEATURE_PREFIX = "feature:"
STRUCTURED = frozenset({NUMBERED_LIST, BULLET_LIST, SECTIONS, TABLE, CODE, JSON})
"""Layouts that count as structured: everything but prose, one line and empty."""
REFUSAL_REGEX = dict((k, rx) for k, _, rx in FLAGS["stance"])["refusal"]
FEATURE_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k not in ("length", "system_prompt"))
"""Discovered kinds: length is tested as a number (``reply_words``), a system prompt is not a reply."""


@dataclass(frozen=True)
class BehaviourConfig:
    """Prompts, reply lengths and the sampled view. The paired unit is a prompt, so the
    prompt count is the n of every metric. Greedy replies are long enough to end (a sign-off
    shows only in a finished reply); samples are shorter, as they only show whether a
    feature holds under sampling too.

    Cost with the embedded SmolLM2-135M on a 2-core CPU: ``QUICK`` (12 prompts) about 30 s
    for both models, ``standard`` (60 prompts, 128 greedy tokens, one 48-token sample each,
    the token view on 30 replies) about 2 minutes: 50 s of generation per model and 27 s for
    both models to score 60 replies token by token, hence 30 at standard; ``THOROUGH`` (200
    prompts, 256 tokens, two samples, every reply in the token view) is sized for a GPU."""

    n_prompts: int = 60  # the first n of EVERYDAY_PROMPTS; the paired unit
    max_new_tokens: int = 128  # greedy replies: most end within it
    samples_per_prompt: int = 1  # seeded samples per prompt and model for the sampled view (0: none)
    sample_tokens: int = 48
    temperature: float = 1.0
    top_p: float = 0.95
    min_share: float = 0.08  # a candidate is in at least this share of the pooled replies
    top_tokens: int = 15  # rows of the token-level view (0: no token view)
    token_contexts: int = 3
    token_replies: int = 30  # the tuned replies the token view scores (the first ones; both models score each)


QUICK = BehaviourConfig(n_prompts=12, max_new_tokens=96, samples_per_prompt=1, sample_tokens=48, top_tokens=10)
STANDARD = BehaviourConfig()
THOROUGH = BehaviourConfig(n_prompts=200, max_new_tokens=256, samples_per_prompt=2, sample_tokens=96, token_replies=200)


def _prompts(cfg: BehaviourConfig) -> int:
    return cfg.n_prompts


METRICS = (
    MetricDecl(
        "structured_share", "Replies with a structured layout (list, headings, table, code, JSON)", unit="rate",
        higher_is_better=None, headline=True, items=_prompts,
    ),
    MetricDecl(
        "reply_words", "Mean reply length (words)", unit="words", higher_is_better=None, headline=True, items=_prompts
    ),
    MetricDecl("refusal_rate", "Replies that decline the request", unit="rate", higher_is_better=None,
               headline=True, items=_prompts),
    MetricDecl(f"{FEATURE_PREFIX}*", "A reply feature discovered from both models' replies", unit="rate",
               higher_is_better=None, items=_prompts),
)  # fmt: skip
"""Three headline metrics declared in advance, and the family of discovered features."""


def prompt_texts(ctx: ProbeContext, prompts: list[EverydayPrompt]) -> dict[str, list[str]]:
    """Each model's prompt texts, by the rule of the module docstring."""
    template = all(engine.has_chat_template for _, engine in ctx.engines())
    return {name: [engine.chat_prompt(p.text, template=template) for p in prompts] for name, engine in ctx.engines()}


def replies(ctx: ProbeContext, texts: dict[str, list[str]], cfg: BehaviourConfig) -> tuple[dict, dict]:
    """Greedy replies and seeded samples (request j draws from stream j in both models)."""
    greedy: dict[str, list[str]] = {}
    samples: dict[str, list[list[str]]] = {}
    k = cfg.samples_per_prompt
    sampling = Sampling(temperature=cfg.temperature, top_p=cfg.top_p, seed=ctx.seed)
    for name, engine in ctx.engines():
        ctx.progress(f"behaviour: {name} model, {len(texts[name])} prompts")
        greedy[name] = engine.generate([GenRequest(t, cfg.max_new_tokens) for t in texts[name]])
        if k:
            drawn = engine.generate([GenRequest(t, cfg.sample_tokens) for t in texts[name] for _ in range(k)], sampling)
            samples[name] = [drawn[i * k : (i + 1) * k] for i in range(len(texts[name]))]
    return greedy, samples


def presence(feature: SurfaceFeature, n: int) -> dict[str, list[bool]]:
    """Which of each model's ``n`` greedy replies have ``feature``, read from its members in the
    pooled replies (base first, then tuned)."""
    held = set(feature.members)
    return {"base": [i in held for i in range(n)], "tuned": [n + i in held for i in range(n)]}


def _sampled_table(
    features: list[SurfaceFeature], present: dict[str, dict[str, list[bool]]], samples: dict, sample_tokens: int
) -> Table:
    def share(values: list[bool]) -> str:
        return f"{np.mean(values):.0%}" if values else "\u2013"

    flat = {name: [s for ss in sets for s in ss] for name, sets in samples.items()}
    rows = [
        [f.label, share(present[f.slug]["base"]), share(present[f.slug]["tuned"]),
         *(share([f.test(r) for r in flat.get(name, [])]) for name in ("base", "tuned"))]
        for f in features
    ]  # fmt: skip
    n = len(flat.get("base", []))
    return Table(
        id="sampled-view",
        title="Each discovered feature, greedy and sampled",
        columns=["feature", "base greedy", "tuned greedy", "base sampled", "tuned sampled"],
        rows=rows,
        caption=f"Share of replies with each feature: greedy replies (tested) and {n} seeded samples per model "
        f"(descriptive: does the feature hold when the model samples). Samples stop at {sample_tokens} tokens, so "
        "features of a reply's end (a closing line) show less in them.",
    )


def _switch_table(layouts: dict[str, list[str]]) -> Table:
    """How each prompt's reply layout moved: base layout by row, tuned layout by column."""
    shown = [f for f in FORMATS if f in layouts["base"] or f in layouts["tuned"]]
    pairs = list(zip(layouts["base"], layouts["tuned"]))
    rows = [[FORMAT_NAMES[b], *(str(pairs.count((b, t))) for t in shown)] for b in shown]
    moved = sum(b != t for b, t in pairs)
    return Table(
        id="layout-switch",
        title="Layout of each prompt's reply, base (rows) to tuned (columns)",
        columns=["base \\ tuned", *(FORMAT_NAMES[f] for f in shown)],
        rows=rows,
        caption=f"{moved} of {len(pairs)} prompts got a reply in another layout; each layout's share is tested "
        "paired over prompts (exact McNemar) among the discovered features.",
    )


def _cut(ctx: ProbeContext, greedy: dict[str, list[str]], limit: int) -> dict[str, int]:
    """Replies per model that used the whole token budget (most likely cut off)."""
    engines = dict(ctx.engines())
    return {
        name: sum(len(engines[name].encode_continuation(r)) >= limit - 1 for r in rs) for name, rs in greedy.items()
    }


def _notes(cfg: BehaviourConfig, ctx: ProbeContext, n: int, features: int, cut: dict[str, int]) -> list[str]:
    template = all(engine.has_chat_template for _, engine in ctx.engines())
    notes = [
        f"{n} ordinary prompts; greedy replies of up to {cfg.max_new_tokens} tokens"
        + (f", {cfg.samples_per_prompt} seeded sample(s) of up to {cfg.sample_tokens} tokens each" if
           cfg.samples_per_prompt else "")
        + ". "
        + ("Each model got its own chat template." if template else
           "One model has no chat template, so both got the same plain 'User: …\\nAssistant:' prompt."),
        f"{features} features discovered from both models' replies pooled (each in at least {cfg.min_share:.0%} "
        "of them), each tested by exact McNemar over prompts and counted in the report's false-discovery control; "
        "chosen by pooled counts, so the selection does not bias the tests.",
    ]  # fmt: skip
    for name, n_cut in cut.items():
        if n_cut * 4 > n:
            notes.append(
                f"{n_cut} of the {name} model's {n} replies reached the {cfg.max_new_tokens}-token limit: their last "
                "line is where they were cut, not how they close."
            )
    if n < MIN_ITEMS:
        notes.append(f"Only {n} prompts: paired verdicts need at least {MIN_ITEMS}.")
    return notes


@probe(
    NAME,
    title="Behaviour: what the replies now do",
    config=BehaviourConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=METRICS,
)
def behaviour(ctx: ProbeContext, cfg: BehaviourConfig) -> ProbeResult:
    """Both models reply to ordinary prompts; features of the replies (openings, closings,
    layout, tone, declining, language, recurring phrases) are discovered from both models'
    replies pooled and each tested paired over prompts (exact McNemar), with reply length,
    structured layout and refusals as headline metrics, and the tokens the tuned model now
    favours on its own replies (model diffing by log-probability differences)."""
    prompts = everyday_prompts(cfg.n_prompts)
    texts = prompt_texts(ctx, prompts)
    greedy, samples = replies(ctx, texts, cfg)
    pooled = greedy["base"] + greedy["tuned"]
    features = discover(pooled, kinds=FEATURE_KINDS, min_share=cfg.min_share)
    features = [f for f in features if f.slug != "stance:refusal"]  # tested as refusal_rate
    seed = ctx.seed
    n = len(prompts)
    present = {f.slug: presence(f, n) for f in features}
    words = {name: [float(len(r.split())) for r in rs] for name, rs in greedy.items()}
    layouts = {name: [label_format(r) for r in rs] for name, rs in greedy.items()}
    refusal = re.compile(REFUSAL_REGEX, re.MULTILINE)
    metrics = [
        paired_metric(
            NAME, "structured_share", "", {n: [f in STRUCTURED for f in fs] for n, fs in layouts.items()},
            seed=seed, unit="rate", higher_is_better=None,
        ),
        paired_metric(NAME, "reply_words", "", words, seed=seed, binary=False, unit="words", higher_is_better=None),
        paired_metric(
            NAME, "refusal_rate", "", {n: [bool(refusal.search(r)) for r in rs] for n, rs in greedy.items()},
            seed=seed, unit="rate", higher_is_better=None,
        ),
        *(
            paired_metric(NAME, FEATURE_PREFIX + f.slug, f.label, present[f.slug], seed=seed, unit="rate",
                          higher_is_better=None)
            for f in features
        ),
    ]  # fmt: skip
    tables = [_switch_table(layouts)]
    if features:
        tables.append(_sampled_table(features, present, samples, cfg.sample_tokens))
    if cfg.top_tokens:
        ctx.progress("behaviour: scoring the tuned model's replies under both models")
        prompts_k, replies_k = texts["tuned"][: cfg.token_replies], greedy["tuned"][: cfg.token_replies]
        shifts = token_shifts(
            ctx.base, ctx.tuned, prompts_k, replies_k, top=cfg.top_tokens, contexts=cfg.token_contexts
        )
        tables.insert(0, token_table(shifts, len(replies_k)))
    held = {name: [[f.slug for f in features if present[f.slug][name][i]] for i in range(n)] for name in greedy}
    items = [
        paired_item(
            p.id, p.kind, p.text, i, words, greedy,
            extra={
                **{f"{name}_features": held[name][i] for name in greedy},
                **{f"{name}_layout": layouts[name][i] for name in greedy},
                **({f"{name}_samples": samples[name][i] for name in samples}),
            },
        )
        for i, p in enumerate(prompts)
    ]  # fmt: skip
    return ProbeResult(
        name=NAME,
        metrics=metrics,
        items=items,
        tables=tables,
        notes=_notes(cfg, ctx, n, len(features), _cut(ctx, greedy, cfg.max_new_tokens)),
    )
