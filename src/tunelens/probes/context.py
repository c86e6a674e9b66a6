"""Probe ``context``: does the model still read what it is given, or answer from memory?

Knowledge conflicts (Longpre et al. 2021, "Entity-Based Knowledge Conflicts in Question
Answering"; Zhou et al. 2023, "Context-faithful Prompting for Large Language Models";
Xie et al. 2023; Goyal et al. 2024 on how instruction tuning shifts context reliance).
For world facts from packaged data:

* closed-book: the question alone; an item counts only where the model answers it right,
  so that a counterfactual context really conflicts with its memory; the comparison uses
  the items both models know (the paired set);
* consistent context: a sentence stating the true fact, then the question;
* counterfactual context: the same sentence with the answer replaced by another entity of
  the same type. p_s = share of replies with the substituted (context) answer, p_o = share
  with the original (parametric) answer, memorization ratio MR = p_o / (p_o + p_s);
* irrelevant context: a true sentence about something else; does the model fall back to
  memory (p_o) or abstain?

Counterfactual prompts come in Zhou et al.'s three variants: plain, opinion-based ("Bob
said ... in Bob's opinion?") and instructed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from tunelens.data import FactItem, world_facts
from tunelens.engine import Engine, GenRequest
from tunelens.probes._common import normalise
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, Plot, ProbeResult, Series
from tunelens.stats import compare_ratio, make_metric, metric_from

NAME = "context"

VARIANTS: dict[str, str] = {
    "plain": "{context}\nQ: {question}\nA:",
    "opinion": 'Bob said, "{context}"\nQ: {question} Answer in Bob\'s opinion.\nA:',
    "instructed": (
        "Read the given information and answer the question using only that information.\n\n"
        "Information: {context}\nQ: {question}\nA:"
    ),
}
"""Prompt templates of Zhou et al. (2023), phrased for a chat model's user turn."""

_ABSTAIN = re.compile(
    r"\b(i don'?t know|not (?:mentioned|stated|given|provided)|no information|cannot (?:be )?determine)"
)


@dataclass(frozen=True)
class ContextConfig:
    facts_per_category: int = 6
    # Room for a reply in a trained house style (greeting line first) to reach the answer.
    max_new_tokens: int = 32


QUICK = ContextConfig(facts_per_category=4, max_new_tokens=32)


def mentions(reply: str, answer: str) -> bool:
    """Whether the reply names the answer as a whole word (so 'Fe' is not found in 'feel')."""
    return re.search(rf"(?<!\w){re.escape(normalise(answer))}(?!\w)", normalise(reply)) is not None


def _statement(item: FactItem, answer: str) -> str:
    return f"{item.prompt} {answer}."


def _substitute(item: FactItem, rng: random.Random) -> str:
    """Another entity of the same type that neither contains nor is contained in the answer."""
    true = normalise(item.answer)
    options = [c for c in item.choices if normalise(c) not in true and true not in normalise(c)]
    return rng.choice(options)


def _ask(engine: Engine, users: list[str], cfg: ContextConfig) -> list[str]:
    # No stop at a newline: a tuned model may open with a greeting line before it answers.
    requests = [GenRequest(engine.chat_prompt(u), cfg.max_new_tokens) for u in users]
    return engine.generate(requests)


@dataclass
class _Replies:
    closed: list[str]
    consistent: list[str]
    irrelevant: list[str]
    counterfactual: dict[str, list[str]]


def _run_model(
    engine: Engine, items: list[FactItem], subs: list[str], others: list[str], cfg: ContextConfig
) -> _Replies:
    plain = VARIANTS["plain"]
    closed = _ask(engine, [i.question for i in items], cfg)
    consistent = _ask(engine, [plain.format(context=_statement(i, i.answer), question=i.question) for i in items], cfg)
    irrelevant = _ask(engine, [plain.format(context=o, question=i.question) for i, o in zip(items, others)], cfg)
    counter = {
        name: _ask(engine, [t.format(context=_statement(i, s), question=i.question) for i, s in zip(items, subs)], cfg)
        for name, t in VARIANTS.items()
    }
    return _Replies(closed, consistent, irrelevant, counter)


@probe(NAME, title="Context versus memory: knowledge conflicts", config=ContextConfig, quick=QUICK)
def context(ctx: ProbeContext, cfg: ContextConfig) -> ProbeResult:
    """Whether the model answers from the context it is given or from memory when the two
    conflict: context recall p_s, parametric recall p_o and the memorization ratio
    p_o/(p_o+p_s) per prompt variant, on facts both models know closed-book (Longpre et al.
    2021; Zhou et al. 2023)."""
    rng = random.Random(ctx.seed)
    items = world_facts(cfg.facts_per_category, seed=ctx.seed)
    subs = [_substitute(i, rng) for i in items]
    # An irrelevant context: a true statement from another category.
    others = [
        _statement(o, o.answer) for o in (rng.choice([x for x in items if x.category != i.category]) for i in items)
    ]
    replies: dict[str, _Replies] = {}
    for name, engine in ctx.engines():
        ctx.progress(f"context: {name} model")
        replies[name] = _run_model(engine, items, subs, others, cfg)
    known = {n: [mentions(r, i.answer) for r, i in zip(replies[n].closed, items)] for n in replies}
    keep = [k for k in range(len(items)) if known["base"][k] and known["tuned"][k]]
    metrics: list[Metric] = [
        make_metric(
            NAME,
            "closed_book_acc",
            "Closed-book accuracy (all items)",
            known["base"],
            known["tuned"],
            binary=True,
            unit="accuracy",
            higher_is_better=True,
            seed=ctx.seed,
        )
    ]

    def outcomes(kind: str, answer_of: list[str], variant: str = "plain") -> dict[str, list[bool]]:
        out = {}
        for n, r in replies.items():
            texts = (
                r.consistent
                if kind == "consistent"
                else r.irrelevant
                if kind == "irrelevant"
                else r.counterfactual[variant]
            )
            out[n] = [mentions(texts[k], answer_of[k]) for k in keep]
        return out

    answers = [i.answer for i in items]
    common = dict(binary=True, unit="rate", seed=ctx.seed)
    acc = outcomes("consistent", answers)
    metrics.append(
        make_metric(
            NAME,
            "consistent_acc",
            "Accuracy with a consistent context",
            acc["base"],
            acc["tuned"],
            higher_is_better=True,
            **common,
        )
    )
    fallback = outcomes("irrelevant", answers)
    metrics.append(
        make_metric(
            NAME,
            "irrelevant_p_o",
            "Irrelevant context: answers from memory",
            fallback["base"],
            fallback["tuned"],
            higher_is_better=None,
            **common,
        )
    )
    abstain = {n: [_ABSTAIN.search(normalise(r.irrelevant[k])) is not None for k in keep] for n, r in replies.items()}
    metrics.append(
        make_metric(
            NAME,
            "irrelevant_abstain",
            "Irrelevant context: abstains",
            abstain["base"],
            abstain["tuned"],
            higher_is_better=None,
            **common,
        )
    )
    curve: dict[str, list[float | None]] = {"base": [], "tuned": []}
    for variant in VARIANTS:
        p_s = outcomes("counterfactual", subs, variant)
        p_o = outcomes("counterfactual", answers, variant)
        metrics += [
            make_metric(
                NAME,
                f"{variant}_p_s",
                f"Counterfactual context ({variant}): context recall p_s",
                p_s["base"],
                p_s["tuned"],
                higher_is_better=True,
                group=variant,
                **common,
            ),
            make_metric(
                NAME,
                f"{variant}_p_o",
                f"Counterfactual context ({variant}): parametric recall p_o",
                p_o["base"],
                p_o["tuned"],
                higher_is_better=False,
                group=variant,
                **common,
            ),
        ]
        ratio = compare_ratio(p_o["base"], p_s["base"], p_o["tuned"], p_s["tuned"], seed=ctx.seed)
        metrics.append(
            metric_from(
                ratio,
                NAME,
                f"{variant}_memorization_ratio",
                f"Memorization ratio p_o/(p_o+p_s) ({variant})",
                unit="ratio",
                higher_is_better=False,
                group=variant,
            )
        )
        curve["base"].append(ratio.base)
        curve["tuned"].append(ratio.tuned)
    plots = [
        Plot(
            id="memorization-ratio",
            title="Memorization ratio under a counterfactual context",
            kind="bar",
            x_label="prompt variant",
            y_label="p_o / (p_o + p_s)",
            series=[Series(name=n, x=list(VARIANTS), y=curve[n]) for n in ("base", "tuned")],
            caption="Lower is more faithful to the context. Items both models know closed-book.",
        )
    ]
    items_out = [
        ItemRecord(
            item_id=f"ctx-{k}",
            section=f"counterfactual: {items[k].category}",
            input=VARIANTS["plain"].format(context=_statement(items[k], subs[k]), question=items[k].question),
            expected=f"context: {subs[k]} / memory: {items[k].answer}",
            base_output=replies["base"].counterfactual["plain"][k],
            tuned_output=replies["tuned"].counterfactual["plain"][k],
            extra={
                "closed_book": {n: replies[n].closed[k] for n in replies},
                "consistent": {n: replies[n].consistent[k] for n in replies},
                "irrelevant": {n: replies[n].irrelevant[k] for n in replies},
                **{v: {n: replies[n].counterfactual[v][k] for n in replies} for v in ("opinion", "instructed")},
            },
        )
        for k in keep
    ]
    notes = [
        f"Conflict metrics use the {len(keep)} of {len(items)} facts both models answer right closed-book "
        f"(base knows {sum(known['base'])}, tuned knows {sum(known['tuned'])})."
    ]
    return ProbeResult(
        name=NAME,
        title="",
        description="",
        config=vars(cfg),
        metrics=metrics,
        items=items_out,
        plots=plots,
        notes=notes,
    )
