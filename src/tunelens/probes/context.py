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

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tunelens.data import FactItem, world_facts
from tunelens.probes._common import chat_reply_sets, normalise, paired_metric
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, MetricDecl, Plot, ProbeResult, Series
from tunelens.stats import compare_ratio, metric_from

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
    """How many known facts the conflict conditions get, and how replies are generated.

    Facts are asked closed-book in rounds, drawn across categories from the packaged pool
    (``world_facts``: about 250 countries' capitals, currencies and continents, 50 US state
    capitals, 118 element symbols, about 900 facts, best-known first), until ``target_known``
    facts are known to both models or the pool is spent. Each round asks enough new facts to
    reach the target at the share known in the later half of those asked so far
    (``expected_known`` before the first round), and never fewer than ``min_round``.

    Measured on SmolLM2-135M-Instruct at standard: one round of 165 facts, 96 known (58%);
    on the 60 kept, context recall p_s 80% under the instructed prompt, memorization ratio
    0.24 under the plain one (consistent-context accuracy 98%, at the ceiling, so not a
    headline). Its closed-book share falls to 20-40% deeper in the pool (rarer countries,
    currencies, heavier elements), so thorough's 200 takes roughly 450-550 of the ~900 facts;
    a tuned model that forgot many facts may spend the pool first, and the result says so.
    Cost: about 0.1 s per reply per model on a quiet 2-core CPU (one model took 166 s for
    standard's 165 + 300 replies on a busy one); thorough (~500 + 1000 replies per model) is
    meant for a GPU.
    """

    target_known: int = 60  # facts both models know closed-book: the paired set of the conflict metrics
    expected_known: float = 0.4  # share of asked facts expected known by both, to size the first round
    # Fewest facts a round asks. A round costs mostly its decoding steps, which a few dozen
    # more rows barely lengthen (on the 2-core CPU one model answered 10 questions in 4-5 s and
    # 165 in 22-27 s), so a round after the first asks enough not to need a third.
    min_round: int = 40
    max_facts: int | None = None  # cap on the pool (None: every packaged fact)
    # Room for a reply in a trained house style (greeting line first) to reach the answer.
    max_new_tokens: int = 32


QUICK = ContextConfig(target_known=10, min_round=10, max_new_tokens=24)
STANDARD = ContextConfig()
THOROUGH = ContextConfig(target_known=200)


_WHOLE_CATEGORY = 10_000
"""More facts per category than any category holds: ``world_facts`` then yields all of them."""


def _paired_items(cfg: ContextConfig) -> int:
    """The paired set the conflict metrics get: the target (fewer where the pool runs out)."""
    return cfg.target_known


def _declarations() -> list[MetricDecl]:
    """Every metric the probe emits. Headline: context recall p_s under the instructed
    counterfactual prompt (does the model still use what it is told to use?) and the
    memorization ratio of the plain prompt (Longpre et al. 2021's summary of a conflict)."""
    decls = [
        MetricDecl("closed_book_acc", "Closed-book accuracy (all facts asked)"),
        MetricDecl("consistent_acc", "Accuracy with a consistent context"),
        MetricDecl("irrelevant_p_o", "Irrelevant context: answers from memory", higher_is_better=None),
        MetricDecl("irrelevant_abstain", "Irrelevant context: abstains", higher_is_better=None),
    ]
    for variant in VARIANTS:
        decls += [
            MetricDecl(
                f"{variant}_p_s",
                f"Counterfactual context ({variant}): context recall p_s",
                headline=variant == "instructed",
                items=_paired_items if variant == "instructed" else None,
            ),
            MetricDecl(
                f"{variant}_p_o",
                f"Counterfactual context ({variant}): parametric recall p_o",
                higher_is_better=False,
            ),
            MetricDecl(
                f"{variant}_memorization_ratio",
                f"Memorization ratio p_o/(p_o+p_s) ({variant})",
                higher_is_better=False,
                headline=variant == "plain",
                items=_paired_items if variant == "plain" else None,
            ),
        ]
    return decls


DECLARED = _declarations()


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


def _other(items: list[FactItem], k: int, rng: random.Random) -> FactItem:
    """A fact of another category than ``items[k]``, for an irrelevant context."""
    return rng.choice([x for x in items if x.category != items[k].category])


def _conditions(item: FactItem, sub: str, other: str) -> dict[str, str]:
    """The user turns of one item with a context: consistent, irrelevant, and the
    counterfactual one in each prompt variant."""
    plain = VARIANTS["plain"]
    return {
        "consistent": plain.format(context=_statement(item, item.answer), question=item.question),
        "irrelevant": plain.format(context=other, question=item.question),
        **{v: t.format(context=_statement(item, sub), question=item.question) for v, t in VARIANTS.items()},
    }


def fact_pool(seed: int, max_facts: int | None = None) -> list[FactItem]:
    """Every packaged world fact, interleaved across categories (one of each in turn), each
    category best-known first (most populous countries, lightest elements; US states in a
    seeded order), so any prefix mixes the categories and asks the easier facts first."""
    by_category: dict[str, list[FactItem]] = {}
    for item in world_facts(_WHOLE_CATEGORY, seed=seed):
        by_category.setdefault(item.category, []).append(item)
    queues = list(by_category.values())
    pool = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
    return pool[:max_facts] if max_facts is not None else pool


def round_size(cfg: ContextConfig, missing: int, paired: Sequence[bool]) -> int:
    """How many new facts the next round asks: enough to find ``missing`` more paired facts,
    with a tenth to spare, at the share paired among the later half of the facts asked so far
    (``paired``, in the order asked; ``cfg.expected_known`` before any). The pool asks the
    best-known facts first, so the share falls as it goes, and the latest facts asked are the
    best guess of the next ones'."""
    recent = paired[len(paired) // 2 :]
    share = sum(recent) / len(recent) if recent else cfg.expected_known
    return max(cfg.min_round, math.ceil(1.1 * missing / max(share, 0.05)))


@dataclass
class ClosedBook:
    """The closed-book rounds: the facts asked, both models' replies and whether each knew them."""

    items: list[FactItem]
    replies: dict[str, list[str]]
    known: dict[str, list[bool]]
    rounds: int
    pool_size: int

    @property
    def both_know(self) -> list[bool]:
        """Whether both models answered each fact right, in the order asked."""
        return [b and t for b, t in zip(self.known["base"], self.known["tuned"])]

    @property
    def paired(self) -> list[int]:
        """Indices of the facts both models answered right, in the order asked."""
        return [k for k, both in enumerate(self.both_know) if both]


def ask_closed_book(ctx: ProbeContext, cfg: ContextConfig) -> ClosedBook:
    """Ask facts closed-book in rounds until ``cfg.target_known`` are known to both models or
    the packaged pool is spent."""
    pool = fact_pool(ctx.seed, cfg.max_facts)
    book = ClosedBook([], {"base": [], "tuned": []}, {"base": [], "tuned": []}, 0, len(pool))
    while len(book.paired) < cfg.target_known and len(book.items) < len(pool):
        size = round_size(cfg, cfg.target_known - len(book.paired), book.both_know)
        batch = pool[len(book.items) : len(book.items) + size]
        book.rounds += 1
        ctx.progress(f"context: round {book.rounds}, closed-book answers to {len(batch)} questions")
        replies = chat_reply_sets(ctx.engines(), {"closed": ([i.question for i in batch], cfg.max_new_tokens)})
        for name, texts in replies["closed"].items():
            book.replies[name] += texts
            book.known[name] += [ctx.assume_known or mentions(r, i.answer) for r, i in zip(texts, batch)]
        book.items += batch
    return book


def _closed_book_note(book: ClosedBook, keep: list[int], cfg: ContextConfig) -> str:
    """Which ended the rounds (the target or the pool) and the counts behind the paired set."""
    known = {n: sum(v) for n, v in book.known.items()}
    found = len(book.paired)
    head = (
        f"Closed-book rounds reached the target: {len(keep)} facts both models know (target {cfg.target_known})"
        if found >= cfg.target_known
        else f"Closed-book rounds spent the packaged pool of {book.pool_size} facts before the target: {len(keep)} "
        f"facts both models know, short of the {cfg.target_known} targeted"
    )
    return (
        f"{head}, after {book.rounds} round(s) and {len(book.items)} facts asked. Conflict metrics use these "
        f"{len(keep)} of {len(book.items)} facts both models answer right closed-book "
        f"(base knows {known['base']}, tuned knows {known['tuned']})."
    )


@probe(
    NAME,
    title="Context versus memory: knowledge conflicts",
    config=ContextConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=DECLARED,
)
def context(ctx: ProbeContext, cfg: ContextConfig) -> ProbeResult:
    """Whether the model answers from the context it is given or from memory when the two
    conflict: context recall p_s, parametric recall p_o and the memorization ratio
    p_o/(p_o+p_s) per prompt variant, on facts both models know closed-book (Longpre et al.
    2021; Zhou et al. 2023)."""
    rng = random.Random(ctx.seed)
    book = ask_closed_book(ctx, cfg)
    items, closed, known = book.items, book.replies, book.known
    # Only facts both models know take part in the conflicts (the first target of them, in
    # the order asked), so only they are asked again.
    keep = book.paired[: cfg.target_known]
    subs = {k: _substitute(items[k], rng) for k in keep}
    # An irrelevant context: a true statement from another category.
    others = {k: _statement(o, o.answer) for k in keep for o in [_other(items, k, rng)]}
    turns = [_conditions(items[k], subs[k], others[k]) for k in keep]
    ctx.progress(f"context: {len(keep)} known facts under {len(VARIANTS) + 2} contexts")
    # No stop at a newline in any reply: a tuned model may open with a greeting line first.
    replies = chat_reply_sets(
        ctx.engines(), {c: ([t[c] for t in turns], cfg.max_new_tokens) for c in ["consistent", "irrelevant", *VARIANTS]}
    )
    answers = [items[k].answer for k in keep]
    kept_subs = [subs[k] for k in keep]

    def mention(condition: str, expected: list[str]) -> dict[str, list[bool]]:
        return {n: [mentions(r, a) for r, a in zip(replies[condition][n], expected)] for n in replies[condition]}

    abstain = {n: [_ABSTAIN.search(normalise(r)) is not None for r in rs] for n, rs in replies["irrelevant"].items()}
    rate = dict(seed=ctx.seed, unit="rate")
    metrics: list[Metric] = [
        paired_metric(NAME, "closed_book_acc", "Closed-book accuracy (all facts asked)", known, **rate),
        paired_metric(
            NAME, "consistent_acc", "Accuracy with a consistent context", mention("consistent", answers), **rate
        ),
        paired_metric(
            NAME,
            "irrelevant_p_o",
            "Irrelevant context: answers from memory",
            mention("irrelevant", answers),
            higher_is_better=None,
            **rate,
        ),
        paired_metric(
            NAME, "irrelevant_abstain", "Irrelevant context: abstains", abstain, higher_is_better=None, **rate
        ),
    ]
    curve: dict[str, list[float | None]] = {"base": [], "tuned": []}
    for variant in VARIANTS:
        p_s = mention(variant, kept_subs)
        p_o = mention(variant, answers)
        ratio = compare_ratio(p_o["base"], p_s["base"], p_o["tuned"], p_s["tuned"], seed=ctx.seed)
        metrics += [
            paired_metric(
                NAME,
                f"{variant}_p_s",
                f"Counterfactual context ({variant}): context recall p_s",
                p_s,
                group=variant,
                **rate,
            ),
            paired_metric(
                NAME,
                f"{variant}_p_o",
                f"Counterfactual context ({variant}): parametric recall p_o",
                p_o,
                higher_is_better=False,
                group=variant,
                **rate,
            ),
            metric_from(
                ratio,
                NAME,
                f"{variant}_memorization_ratio",
                f"Memorization ratio p_o/(p_o+p_s) ({variant})",
                unit="rate",
                higher_is_better=False,
                group=variant,
            ),
        ]
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
            input=turns[j]["plain"],
            expected=f"context: {subs[k]} / memory: {items[k].answer}",
            base_output=replies["plain"]["base"][j],
            tuned_output=replies["plain"]["tuned"][j],
            extra={
                "closed_book": {n: closed[n][k] for n in closed},
                **{
                    c: {n: replies[c][n][j] for n in replies[c]}
                    for c in ("consistent", "irrelevant", "opinion", "instructed")
                },
            },
        )
        for j, k in enumerate(keep)
    ]
    notes = [_closed_book_note(book, keep, cfg)]
    return ProbeResult(
        name=NAME,
        metrics=metrics,
        items=items_out,
        plots=plots,
        notes=notes,
    )
