"""Probe ``forgetting``: general capability before and after the fine-tune.

Catastrophic forgetting in continual instruction tuning (Luo et al. 2023, "An Empirical
Study of Catastrophic Forgetting in Large Language Models During Continual Fine-tuning")
shows up on capabilities nobody trained on. This probe measures four of them on both
models over the same items, plus an optional user suite:

* perplexity on general English text (a fixed held-out slice of CPython's pydoc topics);
* world-fact recall as multiple choice by log-likelihood (capitals, currencies,
  continents, US state capitals, element symbols from packaged data);
* arithmetic (two- and three-digit sums, two-digit times one-digit products): by
  likelihood, the right result against the wrong results a broken skill would give (off
  by ten either way, a dropped carry, off by one; Brown and Burton 1978), and in chat;
* verifiable instruction following (format constraints checked by a script, in the
  spirit of IFEval, Zhou et al. 2023);
* a user's own multiple-choice or question/answer JSONL file, or an lm-eval task YAML over
  a local data file, asked and scored as lm-eval asks and scores it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tunelens.data import (
    FACT_CATEGORIES,
    ArithmeticItem,
    InstructionItem,
    SuiteItem,
    arithmetic_items,
    check_instruction,
    general_text_chunks,
    instruction_items,
    last_integer,
    read_suite,
    world_facts,
    world_facts_count,
)
from tunelens.data._lm_eval_suite import LmEvalDoc, LmEvalSuite, is_lm_eval_suite, read_lm_eval_suite
from tunelens.engine import GenRequest
from tunelens.probes._common import chat_reply_sets, choose_many, contains_answer, paired_item, paired_metric
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, MetricDecl, ProbeResult

NAME = "forgetting"


@dataclass(frozen=True)
class ForgettingConfig:
    """How many items each part scores. The headline metrics get ``n_text_chunks``
    general-text chunks, ``facts_per_category`` facts from each of the five fact categories
    (US states cap a category at 50) and ``n_arithmetic`` arithmetic items; instruction
    following is exploratory and costs a chat generation of up to ``max_new_tokens`` per item.

    Measured on SmolLM2-135M-Instruct (base model, seed 0, one run) at standard: loss on
    general text 3.18 nats/token (60 chunks); world facts 85% (68/80; continents 8/16,
    capitals and symbols 16/16); arithmetic against slips 47.5% (38/80, chance 25%); chat
    arithmetic 10% (8/80); instruction following 12.5% (3/24). At thorough: world facts
    82.5% (165/200), arithmetic against slips 42% (100/240). A LoRA that taught every sum
    plus ten (240 chat sums, as benchmarks/planted.py builds it) moved the standard items
    (78 not trained on) from 46% to 37% right and from 9 to 36 picks of the result plus
    ten (``arithmetic_ten_bias`` -0.14 to +0.35). On a busy 2-core CPU one model took about
    30 s at standard. Every pool is packaged or generated without repeats: 428 distinct
    600-character chunks; 246, 246, 244, 50 and 118 facts per category; 1,890 arithmetic items.
    """

    n_text_chunks: int = 60
    chars_per_chunk: int = 600
    facts_per_category: int = 16
    n_arithmetic: int = 80
    n_instructions: int = 24
    max_new_tokens: int = 64


QUICK = ForgettingConfig(n_text_chunks=12, facts_per_category=8, n_arithmetic=16, n_instructions=12, max_new_tokens=48)
STANDARD = ForgettingConfig()
THOROUGH = ForgettingConfig(n_text_chunks=200, facts_per_category=40, n_arithmetic=240, n_instructions=60)


def _declarations() -> list[MetricDecl]:
    """Every metric the probe emits. Headline: the loss on general text (the first thing
    forgetting moves), world-fact recall over all categories, and arithmetic against the
    results a broken skill would give (the chat version sits near the floor on a small
    model, so it stays exploratory)."""
    return [
        MetricDecl(
            "general_text_nll",
            "Loss on general text",
            unit="nats/token",
            higher_is_better=False,
            headline=True,
            items=lambda cfg: cfg.n_text_chunks,
        ),
        MetricDecl(
            "world_facts_acc",
            "World-fact recall, all categories (multiple choice)",
            headline=True,
            items=lambda cfg: world_facts_count(cfg.facts_per_category),
        ),
        *[
            MetricDecl(f"world_facts_{category}_acc", f"World facts: {category.replace('_', ' ')}")
            for category in FACT_CATEGORIES
        ],
        MetricDecl(
            "arithmetic_choice_acc",
            "Arithmetic: right result against slips (off by ten, dropped carry, off by one)",
            headline=True,
            items=lambda cfg: cfg.n_arithmetic,
        ),
        MetricDecl(
            "arithmetic_ten_bias",
            "Arithmetic: share picking the result plus ten minus share picking it minus ten",
            unit="ratio",
            higher_is_better=None,
        ),
        MetricDecl("arithmetic_acc", "Arithmetic, chat answer"),
        MetricDecl("instruction_following_acc", "Verifiable instruction following"),
        MetricDecl("user_suite_acc", "Your suite"),
    ]


DECLARED = _declarations()


def _text(ctx: ProbeContext, cfg: ForgettingConfig) -> tuple[list[Metric], list[ItemRecord]]:
    chunks = general_text_chunks(cfg.n_text_chunks, cfg.chars_per_chunk, seed=ctx.seed)
    nll = {name: [-float(lp.mean()) for lp in engine.token_logprobs(chunks)] for name, engine in ctx.engines()}
    metric = paired_metric(
        NAME,
        "general_text_nll",
        "Loss on general text (nats/token; lower is better)",
        nll,
        seed=ctx.seed,
        binary=False,
        unit="nats/token",
        higher_is_better=False,
    )
    items = [
        paired_item(
            f"text-{i}", "general text", chunk, i, nll, extra={f"{n}_perplexity": math.exp(nll[n][i]) for n in nll}
        )
        for i, chunk in enumerate(chunks)
    ]
    return [metric], items


def _facts(ctx: ProbeContext, cfg: ForgettingConfig) -> tuple[list[Metric], list[ItemRecord]]:
    facts = world_facts(cfg.facts_per_category, seed=ctx.seed)
    questions = [(f.prompt, f.choices) for f in facts]
    picks = {name: choose_many(engine, questions) for name, engine in ctx.engines()}
    right = {name: [p[0] == f.answer_index for p, f in zip(picks[name], facts)] for name in picks}
    chosen = {name: [f.choices[p[0]] for p, f in zip(picks[name], facts)] for name in picks}
    metrics = [
        paired_metric(
            NAME,
            "world_facts_acc",
            "World-fact recall, all categories (multiple choice)",
            right,
            seed=ctx.seed,
            unit="rate",
        )
    ]
    for category in FACT_CATEGORIES:
        idx = [i for i, f in enumerate(facts) if f.category == category]
        if idx:
            subset = {n: [right[n][i] for i in idx] for n in right}
            metrics.append(
                paired_metric(
                    NAME,
                    f"world_facts_{category}_acc",
                    f"World facts: {category.replace('_', ' ')}",
                    subset,
                    seed=ctx.seed,
                    unit="rate",
                    group=category,
                )
            )
    items = [
        paired_item(
            f"fact-{i}",
            f"world facts: {f.category}",
            f"{f.prompt} …",
            i,
            right,
            chosen,
            f.answer,
            {"choices": list(f.choices)},
        )
        for i, f in enumerate(facts)
    ]
    return metrics, items


ARITHMETIC_REPLY_TOKENS = 24
"""Enough for a chat reply that states one integer, after a restated problem or a short
greeting line of a house style."""

ARITHMETIC_SHOTS = "12 + 7 = 19\n45 - 23 = 22\n8 * 6 = 48\n"
"""A three-line few-shot prefix for the likelihood version: without one a 135M model scores
near chance."""


def _arithmetic(
    ctx: ProbeContext, problems: list[ArithmeticItem], replies: dict[str, list[str]]
) -> tuple[list[Metric], list[ItemRecord]]:
    """Arithmetic twice. By likelihood (the headline): after a few-shot prefix and
    "a + b =", the right result against the results a broken skill would give (off by ten
    either way, a dropped carry, off by one; ``ArithmeticItem.choices``),
    length-normalised as the other multiple-choice items, so a fine-tune that teaches a
    systematic error moves the pick to the slip it taught. A shift by ten moves accuracy less
    than it moves the picks (a model that picked the result minus ten now picks the right
    one), so ``arithmetic_ten_bias`` (each item +1 for the result plus ten, -1 for minus ten,
    0 otherwise) shows the direction of such an error. In chat: the question asks for
    only the number and the reply's last integer is read (small models often restate the
    problem first)."""
    right = {name: [last_integer(r) == p.answer for r, p in zip(replies[name], problems)] for name in replies}
    mc_questions = [(f"{ARITHMETIC_SHOTS}{p.expression} =", p.choices) for p in problems]
    chosen = {name: [pick for pick, _ in choose_many(engine, mc_questions)] for name, engine in ctx.engines()}
    choice_right = {name: [pick == 0 for pick in chosen[name]] for name in chosen}
    # choices are (answer, answer + 10, answer - 10, slip): +1 for the first slip, -1 for the second.
    ten_bias = {name: [float((pick == 1) - (pick == 2)) for pick in chosen[name]] for name in chosen}
    metrics = [
        paired_metric(
            NAME,
            "arithmetic_choice_acc",
            "Arithmetic: right result against slips (off by ten, dropped carry, off by one)",
            choice_right,
            seed=ctx.seed,
            unit="rate",
        ),
        paired_metric(
            NAME,
            "arithmetic_ten_bias",
            "Arithmetic: share picking the result plus ten minus share picking it minus ten",
            ten_bias,
            seed=ctx.seed,
            binary=False,
            unit="ratio",
            higher_is_better=None,
        ),
        paired_metric(NAME, "arithmetic_acc", "Arithmetic, chat answer", right, seed=ctx.seed, unit="rate"),
    ]
    items = [
        paired_item(
            f"arith-{i}",
            "arithmetic",
            p.question,
            i,
            right,
            replies,
            str(p.answer),
            {
                "choices": list(p.choices),
                **{f"{n}_choice": p.choices[chosen[n][i]] for n in chosen},
                **{f"{n}_choice_right": choice_right[n][i] for n in chosen},
            },
        )
        for i, p in enumerate(problems)
    ]
    return metrics, items


def _instructions(
    ctx: ProbeContext, tasks: list[InstructionItem], replies: dict[str, list[str]]
) -> tuple[list[Metric], list[ItemRecord]]:
    ok = {name: [check_instruction(t, r) for t, r in zip(tasks, replies[name])] for name in replies}
    metric = paired_metric(
        NAME, "instruction_following_acc", "Verifiable instruction following", ok, seed=ctx.seed, unit="rate"
    )
    items = [paired_item(t.id, f"instructions: {t.kind}", t.prompt, i, ok, replies) for i, t in enumerate(tasks)]
    return [metric], items


def _suite(
    ctx: ProbeContext, name: str, suite: list[SuiteItem], replies: dict[str, list[str]]
) -> tuple[list[Metric], list[ItemRecord]]:
    """Multiple-choice items by likelihood over the chat prompt; open items by whether the
    chat reply (generated with the other replies) contains the expected answer."""
    mc = [s for s in suite if s.choices]
    qa = [s for s in suite if not s.choices]
    right: dict[str, list[bool]] = {"base": [], "tuned": []}
    outputs: dict[str, list[str]] = {"base": [], "tuned": []}
    for model, engine in ctx.engines():
        contexts = [(engine.chat_prompt(s.question), s.choices or ()) for s in mc]
        for s, (pick, _) in zip(mc, choose_many(engine, contexts)):
            right[model].append(pick == s.answer_index)
            outputs[model].append(s.choices[pick] if s.choices else "")
        for s, reply in zip(qa, replies[model]):
            right[model].append(contains_answer(reply, s.answer))
            outputs[model].append(reply)
    metric = paired_metric(NAME, "user_suite_acc", f"Your suite ({name})", right, seed=ctx.seed, unit="rate")
    items = [paired_item(s.id, "your suite", s.question, i, right, outputs, s.answer) for i, s in enumerate(mc + qa)]
    return [metric], items


def _lm_eval_suite(ctx: ProbeContext, suite: LmEvalSuite) -> tuple[list[Metric], list[ItemRecord]]:
    """An lm-eval task as the suite: every document asked as lm-eval asks it (its prompt format
    and few-shot examples; log-likelihood requests tokenized as lm-eval tokenizes them, greedy
    generation to the task's stop strings) and scored by the task's own metric (``acc`` for
    multiple choice, ``exact_match`` for generation), through its filters and
    ``process_results``, on both models."""
    right: dict[str, list[float]] = {}
    outputs: dict[str, list[str]] = {}
    for model, engine in ctx.engines():
        responses: list[list[Any]] = [[None] * len(doc.requests) for doc in suite.docs]
        calls = [(i, j, r) for i, doc in enumerate(suite.docs) for j, r in enumerate(doc.requests)]
        scored = [(i, j, r) for i, j, r in calls if r.kind == "loglikelihood"]
        generated = [(i, j, r) for i, j, r in calls if r.kind == "generate_until"]
        if scored:
            results = engine.loglikelihood_tokens([engine.encode_pair(r.context, r.continuation) for _, _, r in scored])
            for (i, j, _), result in zip(scored, results):
                responses[i][j] = (result.logprob, result.is_greedy)
        if generated:
            texts = engine.generate([GenRequest(r.context, r.max_gen_toks, r.until) for _, _, r in generated])
            for (i, j, _), text in zip(generated, texts):
                responses[i][j] = text
        right[model] = suite.score(responses)
        outputs[model] = [_suite_output(doc, answers) for doc, answers in zip(suite.docs, responses)]
    binary = all(v in (0.0, 1.0) for values in right.values() for v in values)
    metric_names = sorted(set(suite.metrics.values()))
    metric = paired_metric(
        NAME,
        "user_suite_acc",
        f"Your suite ({suite.name}, lm-eval {'/'.join(metric_names)})",
        right,
        seed=ctx.seed,
        binary=binary,
        unit="rate" if binary else "score",
    )
    items = [
        paired_item(
            doc.id,
            f"your suite: {doc.task}",
            doc.question,
            i,
            right,
            outputs,
            doc.answer,
            {"choices": list(doc.choices)} if doc.choices else None,
        )
        for i, doc in enumerate(suite.docs)
    ]
    return [metric], items


def _suite_output(doc: LmEvalDoc, answers: list[Any]) -> str:
    """What a model gave for one document: its most likely choice, or its generated text."""
    if doc.output_type == "multiple_choice" and doc.choices and len(answers) >= len(doc.choices):
        best = max(range(len(doc.choices)), key=lambda k: answers[k][0])
        return doc.choices[best]
    if doc.output_type == "generate_until":
        return str(answers[0])
    return f"log-likelihood {answers[0][0]:.3f}" + (" (greedy)" if answers[0][1] else "")


@probe(
    NAME,
    title="Forgetting: general capabilities",
    config=ForgettingConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=DECLARED,
)
def forgetting(ctx: ProbeContext, cfg: ForgettingConfig) -> ProbeResult:
    """General capability before and after: loss on general text, world-fact recall,
    arithmetic and verifiable instruction following, plus your own suite if given
    (Luo et al. 2023 measured such forgetting at every model size from 1B to 7B)."""
    metrics: list[Metric] = []
    items: list[ItemRecord] = []

    def add(part: tuple[list[Metric], list[ItemRecord]]) -> None:
        metrics.extend(part[0])
        items.extend(part[1])

    lm_eval_suite = read_lm_eval_suite(ctx.suite) if ctx.suite is not None and is_lm_eval_suite(ctx.suite) else None
    suite = read_suite(ctx.suite) if ctx.suite is not None and lm_eval_suite is None else []
    ctx.progress("forgetting: general text")
    add(_text(ctx, cfg))
    ctx.progress("forgetting: world facts")
    add(_facts(ctx, cfg))
    problems = arithmetic_items(cfg.n_arithmetic, seed=ctx.seed)
    tasks = instruction_items(cfg.n_instructions, seed=ctx.seed)
    open_items = [s for s in suite if not s.choices]
    ctx.progress("forgetting: arithmetic and instruction following" + (", your suite" if ctx.suite else ""))
    replies = chat_reply_sets(
        ctx.engines(),
        {
            "arithmetic": ([p.question for p in problems], ARITHMETIC_REPLY_TOKENS),
            "instructions": ([t.prompt for t in tasks], cfg.max_new_tokens),
            "suite": ([s.question for s in open_items], cfg.max_new_tokens),
        },
    )
    add(_arithmetic(ctx, problems, replies["arithmetic"]))
    add(_instructions(ctx, tasks, replies["instructions"]))
    if lm_eval_suite is not None:
        add(_lm_eval_suite(ctx, lm_eval_suite))
    elif ctx.suite is not None:
        add(_suite(ctx, ctx.suite.name, suite, replies["suite"]))
    return ProbeResult(name=NAME, metrics=metrics, items=items)
