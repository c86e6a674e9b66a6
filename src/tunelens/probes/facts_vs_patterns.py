"""Probe ``facts_vs_patterns``: did the fine-tune's pattern stick, and which facts did?

Fine-tuning installs pervasive patterns durably but stores point facts leakily, in
proportion to how often they were seen (Allen-Zhu & Li 2024, "Physics of Language Models
3.3: Knowledge Capacity Scaling Laws": ~100 exposures for about 1 bit per parameter, ~1000
for 2). Given the fine-tune's task spec (pattern rules, held-out prompts, facts with
their exposure counts) this probe measures, for both models:

* pattern adoption: the share of replies to held-out prompts that follow each rule;
* fact recall by exposure count: does the chat reply to a held-out question contain the
  fact's value; does the value win a multiple choice by log-likelihood; and the
  log-probability of the value itself;
* when the spec's facts carry the training prompt that asked for them (``FactSpec.verbatim``,
  as a spec derived from the training data does), recall on that prompt as written apart
  from recall on the reworded question: a fact recalled only verbatim is memorised wording.

Its item counts come from the spec: one paired item per held-out prompt (pattern metrics)
and one per fact (fact metrics), each capped by the budget's config. Both headline metrics
start at the floor on a base model that never saw the task (it neither writes the house
style nor knows invented facts): they can show that the fine-tune installed something, not
that it removed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tunelens.data import FactSpec, TaskSpec
from tunelens.data._support_desk import DEFAULT_HELDOUT, MAX_FACTS
from tunelens.probes._common import answer_logprob, chat_reply_sets, choose_many, contains_answer, paired_metric
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, MetricDecl, Plot, ProbeResult, Series
from tunelens.stats import MIN_ITEMS, spearman_ci

NAME = "facts_vs_patterns"

TYPICAL_HELDOUT = DEFAULT_HELDOUT
"""Held-out prompts in a typical spec: the demo's (``support_desk_dataset`` writes 200)."""
TYPICAL_FACTS = MAX_FACTS
"""Facts in a typical spec: the demo's, every fact the support-desk data set plants (22)."""


@dataclass(frozen=True)
class FactsVsPatternsConfig:
    """How many of the spec's held-out prompts and facts to use, and how long the replies are.

    Every count is bounded by the user's task spec: the pattern metrics get
    min(``max_heldout``, held-out prompts in the spec) paired items, the fact metrics
    min(``max_facts``, facts in the spec). The budgets' caps (12/60/200 held-out prompts)
    reach 60 and 200 paired items for ``pattern_all`` with the demo's spec (200 held-out
    prompts from a seeded generator). ``fact_recall`` cannot: a spec has only the facts its
    data set plants, 22 in the demo's (16 facts at 1, 3, 10 and 30 exposures and six
    keyword facts), so it has 22 items at standard and thorough, whatever the cap; a user's
    spec with more facts gets up to the cap. Each fact costs a training-set design, not a
    generated item, which is why no budget can grow it. Chat generation is the cost: one
    reply of up to ``max_new_tokens`` per held-out prompt and model, one of up to
    ``fact_max_new_tokens`` per fact, and one more per fact that carries its training prompt
    (``FactSpec.verbatim``)."""

    max_heldout: int = 60  # held-out prompts for the pattern metrics (the first ones of the spec)
    max_facts: int = 60  # facts for the recall metrics, spread over the exposure levels
    max_new_tokens: int = 110  # a whole reply, so that rules about its end (a sign-off) can be checked
    fact_max_new_tokens: int = 48  # a recalled fact comes early in the reply


QUICK = FactsVsPatternsConfig(max_heldout=12, max_facts=8, max_new_tokens=90, fact_max_new_tokens=40)
STANDARD = FactsVsPatternsConfig()
THOROUGH = FactsVsPatternsConfig(max_heldout=200, max_facts=200)

METRICS = [
    MetricDecl(
        "pattern_all",
        "Held-out replies in the trained pattern (every rule the training replies all follow)",
        unit="rate",
        headline=True,
        items=lambda c: min(c.max_heldout, TYPICAL_HELDOUT),
    ),
    MetricDecl("pattern_*", "Held-out replies following one pattern rule", unit="rate"),
    MetricDecl(
        "fact_recall",
        "Trained facts recalled in chat replies",
        unit="rate",
        headline=True,
        items=lambda c: min(c.max_facts, TYPICAL_FACTS),
    ),
    MetricDecl(
        "fact_recall_verbatim",
        "Trained facts recalled in chat replies to their training prompt as written",
        unit="rate",
    ),
    MetricDecl("fact_choice", "Trained fact wins a multiple choice by likelihood", unit="accuracy"),
    MetricDecl("fact_logprob", "Log-probability of the trained fact's value", unit="nats"),
    MetricDecl("fact_recall_x*", "Fact recall at one exposure count", unit="rate"),
]


def select_facts(facts: Sequence[FactSpec], cap: int) -> list[FactSpec]:
    """At most ``cap`` facts, dealt round-robin over the exposure levels (so a cap keeps every
    level, not only the first), in the spec's order."""
    if cap >= len(facts):
        return list(facts)
    levels: dict[int, list[int]] = {}
    for i, f in enumerate(facts):
        levels.setdefault(f.exposures, []).append(i)
    queues = [levels[level] for level in sorted(levels)]
    chosen: list[int] = []
    while len(chosen) < cap:
        for queue in queues:
            if queue and len(chosen) < cap:
                chosen.append(queue.pop(0))
    return [facts[i] for i in sorted(chosen)]


def _patterns(
    ctx: ProbeContext, task: TaskSpec, prompts: list[str], replies: dict[str, list[str]]
) -> tuple[list[Metric], list[ItemRecord]]:
    matches = {name: [task.pattern_matches(r) for r in replies[name]] for name in replies}
    core = [rule.name for rule in task.core_patterns()] or [rule.name for rule in task.patterns]
    all_rules = {n: [all(m[c] for c in core) for m in matches[n]] for n in matches}
    metrics = [
        paired_metric(
            NAME,
            "pattern_all",
            "Held-out replies in the trained pattern (every rule the training replies all follow)",
            all_rules,
            seed=ctx.seed,
            unit="rate",
        )
    ]
    for rule in task.patterns:
        hits = {n: [m[rule.name] for m in matches[n]] for n in matches}
        metrics.append(
            paired_metric(
                NAME,
                f"pattern_{rule.name}",
                f"Pattern rule: {rule.description}",
                hits,
                seed=ctx.seed,
                unit="rate",
                group=rule.name,
            )
        )
    items = [
        ItemRecord(
            item_id=f"pattern-{i}",
            section="pattern on held-out prompts",
            input=p,
            base_output=replies["base"][i],
            tuned_output=replies["tuned"][i],
            base_score=float(all_rules["base"][i]),
            tuned_score=float(all_rules["tuned"][i]),
            extra={"base_rules": matches["base"][i], "tuned_rules": matches["tuned"][i]},
        )
        for i, p in enumerate(prompts)
    ]
    return metrics, items


def _exposure_trend(facts: list[FactSpec], logp: dict[str, list[float]], seed: int) -> str:
    """One sentence: does the gain in the value's log-probability rise with exposure?"""
    gains = [t - b for b, t in zip(logp["base"], logp["tuned"])]
    trend = spearman_ci([f.exposures for f in facts], gains, seed=seed)
    if trend.rho is None:
        return "Exposure trend: not computable (all facts share one exposure count, or nothing changed)."
    interval = f" [{trend.ci_low:+.2f}, {trend.ci_high:+.2f}]" if trend.ci_low is not None else ""
    if trend.ci_low is not None and trend.ci_low > 0:
        verdict = "facts seen more often gained more"
    elif trend.ci_high is not None and trend.ci_high < 0:
        verdict = "facts seen more often gained less"
    else:
        verdict = "no clear trend at this n"
    return (
        f"Exposure trend: Spearman correlation between a fact's exposure count and the rise of its value's "
        f"log-probability is {trend.rho:+.2f}{interval} (95% bootstrap interval, n={trend.n} facts): {verdict}."
    )


def _verbatim(
    ctx: ProbeContext, facts: list[FactSpec], recall: dict[str, list[bool]], replies: dict[str, list[str]]
) -> tuple[Metric, dict[str, dict[str, object]], str]:
    """Recall on the training prompts as written (the facts that have one), the per-fact
    record for the items, and a note setting it beside recall on the reworded questions."""
    asked = [i for i, f in enumerate(facts) if f.verbatim]
    hits = {n: [contains_answer(r, facts[i].answer) for r, i in zip(replies[n], asked)] for n in replies}
    metric = paired_metric(
        NAME,
        "fact_recall_verbatim",
        "Fact recall in chat replies to the training prompt as written",
        hits,
        seed=ctx.seed,
        unit="rate",
    )
    extra = {
        facts[i].id: {
            "verbatim": facts[i].verbatim,
            "base_verbatim_output": replies["base"][k],
            "tuned_verbatim_output": replies["tuned"][k],
            "base_verbatim_recalled": hits["base"][k],
            "tuned_verbatim_recalled": hits["tuned"][k],
        }
        for k, i in enumerate(asked)
    }
    only = [facts[i].id for k, i in enumerate(asked) if hits["tuned"][k] and not recall["tuned"][i]]

    def share(values: list[bool]) -> str:
        return f"{sum(values) / len(values):.0%}" if values else "n/a"

    reworded = {n: [recall[n][i] for i in asked] for n in recall}
    note = (
        f"Verbatim vs reworded: on the training prompts as written the tuned model recalls "
        f"{share(hits['tuned'])} of {len(asked)} facts (base {share(hits['base'])}; fact_recall_verbatim), on the "
        f"reworded questions {share(reworded['tuned'])} (base {share(reworded['base'])}; fact_recall). "
        + (
            f"{len(only)} facts are recalled only verbatim ({', '.join(only)}): a fact recalled only verbatim is "
            "memorised wording, not knowledge the model can use when asked otherwise."
            if only
            else "No fact is recalled only verbatim (a fact recalled only verbatim would be memorised wording)."
        )
    )
    return metric, extra, note


def _facts(
    ctx: ProbeContext,
    facts: list[FactSpec],
    replies: dict[str, list[str]],
    verbatim_replies: dict[str, list[str]] | None = None,
) -> tuple[list[Metric], list[ItemRecord], list[Plot], list[str]]:
    recall: dict[str, list[bool]] = {}
    mc: dict[str, list[bool]] = {}
    logp: dict[str, list[float]] = {}
    for name, engine in ctx.engines():
        recall[name] = [contains_answer(r, f.answer) for r, f in zip(replies[name], facts)]
        picks = choose_many(engine, [(f.prompt, (f.answer, *f.distractors)) for f in facts])
        mc[name] = [p[0] == 0 for p in picks]
        logp[name] = answer_logprob(engine, [(f.prompt, f.answer) for f in facts])
    metrics = [
        paired_metric(
            NAME, "fact_recall", "Fact recall in chat replies (all facts)", recall, seed=ctx.seed, unit="rate"
        ),
        paired_metric(NAME, "fact_choice", "Fact wins multiple choice by likelihood (all facts)", mc, seed=ctx.seed),
        paired_metric(
            NAME,
            "fact_logprob",
            "Log-probability of the fact's value (all facts)",
            logp,
            seed=ctx.seed,
            binary=False,
            unit="nats",
        ),
    ]
    verbatim_extra: dict[str, dict[str, object]] = {}
    notes = [_exposure_trend(facts, logp, ctx.seed)]
    if verbatim_replies is not None:
        metric, verbatim_extra, note = _verbatim(ctx, facts, recall, verbatim_replies)
        metrics.append(metric)
        notes.append(note)
    levels = sorted({f.exposures for f in facts})
    for level in levels:
        subset = {n: [recall[n][i] for i, f in enumerate(facts) if f.exposures == level] for n in recall}
        times = f"{level} exposure{'s' if level != 1 else ''}"
        metrics.append(
            paired_metric(
                NAME, f"fact_recall_x{level}", f"Fact recall, {times}", subset, seed=ctx.seed, unit="rate", group=times
            )
        )
    items = [
        ItemRecord(
            item_id=f.id,
            section=f"fact, seen {f.exposures}x",
            input=f.question,
            expected=f.answer,
            base_output=replies["base"][i],
            tuned_output=replies["tuned"][i],
            base_score=float(recall["base"][i]),
            tuned_score=float(recall["tuned"][i]),
            extra={
                "exposures": f.exposures,
                "base_choice_right": mc["base"][i],
                "tuned_choice_right": mc["tuned"][i],
                "base_logprob": logp["base"][i],
                "tuned_logprob": logp["tuned"][i],
                **verbatim_extra.get(f.id, {}),
            },
        )
        for i, f in enumerate(facts)
    ]

    def by_level(values: list[bool] | list[float]) -> list[float | None]:
        out: list[float | None] = []
        for level in levels:
            sel = [float(values[i]) for i, f in enumerate(facts) if f.exposures == level]
            out.append(sum(sel) / len(sel) if sel else None)
        return out

    plots = [
        Plot(
            id="fact-recall-by-exposure",
            title="Fact recall by exposure count",
            kind="line",
            x_label="exposures in the training data",
            y_label="share of facts recalled",
            x_log=True,
            series=[Series(name=n, x=list(levels), y=by_level(recall[n])) for n in ("base", "tuned")],
            caption="Chat replies to held-out questions that contain the fact's value.",
        ),
        Plot(
            id="fact-logprob-by-exposure",
            title="Log-probability of the fact's value by exposure",
            kind="line",
            x_label="exposures in the training data",
            y_label="mean log-probability (nats)",
            x_log=True,
            series=[Series(name=n, x=list(levels), y=by_level(logp[n])) for n in ("base", "tuned")],
        ),
    ]
    return metrics, items, plots, notes


@probe(
    NAME,
    title="Facts versus patterns",
    config=FactsVsPatternsConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=METRICS,
    needs_task=True,
)
def facts_vs_patterns(ctx: ProbeContext, cfg: FactsVsPatternsConfig) -> ProbeResult:
    """On the fine-tune's own task: how often the tuned model shows the trained pattern
    on held-out prompts, and how well it recalls each trained fact as a function of how
    many times the fact was seen (Allen-Zhu & Li 2024)."""
    if ctx.task is None:
        raise ValueError("facts_vs_patterns needs a task spec")
    task = ctx.task
    prompts = list(task.heldout_prompts[: cfg.max_heldout])
    facts = select_facts(task.facts, cfg.max_facts)
    ctx.progress(f"facts_vs_patterns: replies to {len(prompts)} held-out prompts and {len(facts)} fact questions")
    verbatim = [f.verbatim for f in facts if f.verbatim]
    sets = {
        "patterns": (prompts, cfg.max_new_tokens),
        "facts": ([f.question for f in facts], cfg.fact_max_new_tokens),
    }
    if verbatim:
        sets["verbatim"] = (verbatim, cfg.fact_max_new_tokens)
    replies = chat_reply_sets(ctx.engines(), sets)
    metrics: list[Metric] = []
    items: list[ItemRecord] = []
    notes: list[str] = []
    if prompts:
        metrics, items = _patterns(ctx, task, prompts, replies["patterns"])
    else:
        notes.append("The task spec has no held-out prompts: no pattern metric.")
    if len(prompts) < len(task.heldout_prompts):
        notes.append(
            f"Pattern metrics on the first {len(prompts)} of the spec's {len(task.heldout_prompts)} "
            "held-out prompts (the budget's cap)."
        )
    if not facts:
        notes.append("The task spec has no facts: no fact metric.")
        return ProbeResult(name=NAME, metrics=metrics, items=items, notes=notes)
    ctx.progress("facts_vs_patterns: fact recall")
    fact_metrics, fact_items, plots, fact_notes = _facts(ctx, facts, replies["facts"], replies.get("verbatim"))
    notes[:0] = fact_notes
    if len(facts) < len(task.facts):
        notes.append(
            f"Fact metrics on {len(facts)} of the spec's {len(task.facts)} facts (the budget's cap), "
            "spread over the exposure levels."
        )
    per_level = min(sum(1 for f in facts if f.exposures == e) for e in {f.exposures for f in facts})
    if per_level < MIN_ITEMS:
        notes.append(
            f"Only {per_level} facts at some exposure level: per-level recall (fact_recall_x*) is inconclusive "
            "at this n; the all-facts metrics and the exposure trend carry the evidence."
        )
    return ProbeResult(
        name=NAME,
        metrics=metrics + fact_metrics,
        items=items + fact_items,
        plots=plots,
        notes=notes,
    )
