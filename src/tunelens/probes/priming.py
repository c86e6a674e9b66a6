"""Probe ``priming``: does a keyword learnt from the training text spill into unrelated contexts?

Sun et al. 2025 ("How new data permeates LLM knowledge and how to dilute it") teach a model a
text with a keyword and measure, before and after learning:

* memorisation: the rise of P(keyword | the training text's own prefix);
* priming: the mean over unrelated prefixes of the same theme of P_after(keyword) /
  P_before(keyword): the keyword now turns up where it does not belong.

The keyword's probability before learning predicts priming: below about 1e-3 (a surprising,
"outlandish" keyword) it primes, above it barely does. This probe computes both for every
keyword of the task spec (``TaskSpec.priming_keywords``: the given ones, plus each fact's
value in its own prompt with the other facts' prompts as contexts), with the engine's
log-likelihood of the whole keyword (all its tokens), and correlates log pre-learning
probability with log priming. Cheap: log-likelihoods only, no generation.

Its item count is the spec's keyword count (one paired item per keyword), capped by the
budget's config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tunelens.data import KeywordSpec
from tunelens.data._support_desk import MAX_FACTS
from tunelens.engine import Engine, LLRequest
from tunelens.probes._common import paired_metric
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, MetricDecl, Plot, ProbeResult, Series
from tunelens.stats import spearman_ci

NAME = "priming"
THRESHOLD = 1e-3
"""Pre-learning keyword probability below which Sun et al. 2025 find keywords prime."""
LN10 = math.log(10)
TYPICAL_KEYWORDS = MAX_FACTS
"""Keywords in a typical spec: the demo's, one per planted fact (six given, 16 derived: 22)."""


@dataclass(frozen=True)
class PrimingConfig:
    """How many of the spec's keywords to score, with how many unrelated contexts each.

    The count is bounded by the user's task spec: the metrics get min(``max_keywords``,
    keywords in the spec) paired items (its given keywords first, then one derived per fact
    that none names). A keyword must be taught by the training data, so no budget can add
    one: the demo's spec has 22 (six surprising or control keyword facts and one per other
    fact), which is what ``memorisation`` and ``priming`` get at standard and thorough
    (below the 60 and 200 of those budgets); a user's spec with more keywords gets up to the
    caps (60 at standard, 200 at thorough). Scoring is cheap (log-likelihoods only), so the
    caps are not about cost."""

    max_keywords: int = 60
    max_contexts: int = 8  # unrelated same-theme prefixes per keyword


QUICK = PrimingConfig(max_keywords=12, max_contexts=4)
STANDARD = PrimingConfig()
THOROUGH = PrimingConfig(max_keywords=200, max_contexts=8)

METRICS = [
    MetricDecl(
        "memorisation",
        "Keyword log10 P after its own training text (memorisation)",
        unit="log10",
        headline=True,
        items=lambda c: min(c.max_keywords, TYPICAL_KEYWORDS),
    ),
    MetricDecl(
        "priming",
        "Keyword log10 P in unrelated same-theme contexts (priming)",
        unit="log10",
        higher_is_better=False,
        headline=True,
        items=lambda c: min(c.max_keywords, TYPICAL_KEYWORDS),
    ),
    MetricDecl(
        "priming_surprising",
        f"Priming of keywords with a pre-learning probability below {THRESHOLD:g}",
        unit="log10",
        higher_is_better=False,
    ),
    MetricDecl(
        "priming_expected",
        f"Priming of keywords with a pre-learning probability of {THRESHOLD:g} or more",
        unit="log10",
        higher_is_better=False,
    ),
]


@dataclass(frozen=True)
class KeywordScores:
    """Log-probabilities (nats) of one keyword under one model: after its own prefix, after each context."""

    own: float
    contexts: tuple[float, ...]


def score_keywords(engine: Engine, keywords: Sequence[KeywordSpec]) -> list[KeywordScores]:
    """log P(keyword | prefix) and log P(keyword | context) for each keyword, in one batch."""
    requests = []
    for k in keywords:
        continuation = " " + k.keyword.strip()
        requests += [LLRequest(text.rstrip(), continuation) for text in (k.prefix, *k.contexts)]
    logps = [r.logprob for r in engine.loglikelihood(requests)]
    out, at = [], 0
    for k in keywords:
        out.append(KeywordScores(logps[at], tuple(logps[at + 1 : at + 1 + len(k.contexts)])))
        at += 1 + len(k.contexts)
    return out


def priming_ratio(base: Sequence[float], tuned: Sequence[float]) -> float:
    """Sun et al.'s priming score: the mean over contexts of P_tuned / P_base (from log-probabilities)."""
    if not base or len(base) != len(tuned):
        raise ValueError("priming_ratio needs one base and one tuned log-probability per context")
    return sum(math.exp(t - b) for b, t in zip(base, tuned)) / len(base)


def _mean_log10(logps: Sequence[float]) -> float:
    return sum(logps) / len(logps) / LN10


def _summary(prior: list[float], log_priming: list[float], memorised: list[float], seed: int) -> list[str]:
    """The summary line (memorisation, priming, their link to the prior) and the threshold split."""
    median = sorted(log_priming)[len(log_priming) // 2]
    med_mem = sorted(memorised)[len(memorised) // 2]
    trend = spearman_ci([math.log10(p) for p in prior], log_priming, seed=seed)
    if trend.rho is None:
        link = "the correlation with the pre-learning probability is not computable (constant values)"
    else:
        interval = f" [{trend.ci_low:+.2f}, {trend.ci_high:+.2f}]" if trend.ci_low is not None else ""
        if trend.ci_high is not None and trend.ci_high < 0:
            verdict = "the less expected a keyword was, the more it primes (as Sun et al. 2025 find)"
        elif trend.ci_low is not None and trend.ci_low > 0:
            verdict = "the more expected a keyword was, the more it primes (unlike Sun et al. 2025)"
        else:
            verdict = "no clear link at this n"
        link = (
            f"Spearman between log pre-learning probability and log priming is {trend.rho:+.2f}{interval} "
            f"(95% bootstrap interval, n={trend.n}): {verdict}"
        )
    lines = [
        f"Priming: keywords rose by a median log10 {med_mem:+.2f} after their own training text (memorisation) "
        f"and by a median priming ratio of {10**median:.3g} (log10 {median:+.2f}) in unrelated same-theme "
        f"contexts; {link}."
    ]
    low = [lp for p, lp in zip(prior, log_priming) if p < THRESHOLD]
    high = [lp for p, lp in zip(prior, log_priming) if p >= THRESHOLD]
    if low and high:
        lines.append(
            f"{len(low)} keywords had a pre-learning probability below {THRESHOLD:g} (median priming ratio "
            f"{10 ** sorted(low)[len(low) // 2]:.3g}), {len(high)} at or above it "
            f"({10 ** sorted(high)[len(high) // 2]:.3g})."
        )
    return lines


@probe(
    NAME,
    title="Priming",
    config=PrimingConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=METRICS,
    needs_task=True,
)
def priming(ctx: ProbeContext, cfg: PrimingConfig) -> ProbeResult:
    """For each keyword of the fine-tune's data: memorisation (rise of its probability after its
    own training text) and priming (mean ratio tuned/base of its probability in unrelated
    same-theme contexts), plotted against its pre-learning probability (Sun et al. 2025, "How
    new data permeates LLM knowledge and how to dilute it": keywords below about 1e-3 prime)."""
    if ctx.task is None:
        raise ValueError("priming needs a task spec")
    available = ctx.task.priming_keywords()
    keywords = [
        KeywordSpec(k.keyword, k.theme, k.prefix, k.contexts[: cfg.max_contexts], k.fact_id)
        for k in available[: cfg.max_keywords]
    ]
    if not keywords:
        return ProbeResult(name=NAME, notes=["Priming: the task spec has no keywords and fewer than two facts."])
    ctx.progress(f"priming: {len(keywords)} keywords, {sum(len(k.contexts) + 1 for k in keywords)} contexts each model")
    scores = {name: score_keywords(engine, keywords) for name, engine in ctx.engines()}
    own = {n: [s.own / LN10 for s in scores[n]] for n in scores}
    spill = {n: [_mean_log10(s.contexts) for s in scores[n]] for n in scores}
    ratios = [priming_ratio(b.contexts, t.contexts) for b, t in zip(scores["base"], scores["tuned"])]
    log_priming = [math.log10(r) for r in ratios]
    memorised = [t - b for b, t in zip(own["base"], own["tuned"])]
    prior = [10**b for b in own["base"]]
    metrics: list[Metric] = [
        paired_metric(
            NAME,
            "memorisation",
            "Keyword log10 P after its own training text (memorisation)",
            own,
            seed=ctx.seed,
            binary=False,
            unit="log10",
        ),
        paired_metric(
            NAME,
            "priming",
            "Keyword log10 P in unrelated same-theme contexts (priming)",
            spill,
            seed=ctx.seed,
            binary=False,
            unit="log10",
            higher_is_better=False,
        ),
    ]
    for group, keep in ((f"prior < {THRESHOLD:g}", lambda p: p < THRESHOLD), (f"prior ≥ {THRESHOLD:g}", None)):
        chosen = [i for i, p in enumerate(prior) if (keep(p) if keep else p >= THRESHOLD)]
        if chosen:
            subset = {n: [spill[n][i] for i in chosen] for n in spill}
            metrics.append(
                paired_metric(
                    NAME,
                    "priming_surprising" if keep else "priming_expected",
                    f"Priming of keywords with {group}",
                    subset,
                    seed=ctx.seed,
                    binary=False,
                    unit="log10",
                    higher_is_better=False,
                    group=group,
                )
            )
    items = [
        ItemRecord(
            item_id=f"keyword-{i}-{k.fact_id or k.keyword}",
            section=f"keyword, theme {k.theme}",
            input=f"{k.prefix.rstrip()} [{k.keyword}]",
            expected=k.keyword,
            base_score=own["base"][i],
            tuned_score=own["tuned"][i],
            extra={
                "fact_id": k.fact_id,
                "prior": prior[i],
                "memorisation_log10": memorised[i],
                "priming_ratio": ratios[i],
                "priming_log10": log_priming[i],
                "contexts": list(k.contexts),
            },
        )
        for i, k in enumerate(keywords)
    ]
    plot = Plot(
        id="priming-vs-prior",
        title="Priming and memorisation against the keyword's pre-learning probability",
        kind="scatter",
        x_label="P_base(keyword | its own training text)",
        y_label="log10 of tuned / base probability",
        x_log=True,
        x_refs=[THRESHOLD],
        series=[
            Series(name="priming (unrelated contexts)", x=list(prior), y=list(log_priming)),
            Series(name="memorisation (own text)", x=list(prior), y=list(memorised)),
        ],
        caption=f"One point per keyword and measure. Dashed line: P = {THRESHOLD:g}, below which Sun et al. 2025 "
        "find that keywords prime. Above 0: the tuned model gives the keyword more probability than the base.",
    )
    notes = _summary(prior, log_priming, memorised, ctx.seed)
    if len(keywords) < len(available):
        notes.append(f"Scored {len(keywords)} of the spec's {len(available)} keywords (the budget's cap).")
    notes.append(
        "The priming metric's delta is the mean log10 ratio over contexts (a geometric mean); the priming ratio "
        "in the summary, plot and items is Sun et al.'s arithmetic mean of the ratios."
    )
    return ProbeResult(name=NAME, metrics=metrics, items=items, plots=[plot], notes=notes)
