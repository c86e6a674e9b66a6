"""Scoring helpers several probes share: multiple choice by log-likelihood, chat generation."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tunelens.engine import Engine, GenRequest, LLRequest
from tunelens.results import ItemRecord, Metric
from tunelens.stats import make_metric


def choose(engine: Engine, context: str, choices: Sequence[str]) -> tuple[int, list[float]]:
    """Pick a choice by length-normalised log-likelihood (per character, as lm-eval's acc_norm)."""
    return choose_many(engine, [(context, choices)])[0]


def choose_many(engine: Engine, questions: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[int, list[float]]]:
    """Batched :func:`choose`; a context shared by the choices of a question runs once."""
    requests = [LLRequest(ctx, " " + c.strip()) for ctx, choices in questions for c in choices]
    results = engine.loglikelihood(requests)
    out: list[tuple[int, list[float]]] = []
    at = 0
    for _, choices in questions:
        scores = [results[at + k].logprob / max(1, len(choices[k].strip()) + 1) for k in range(len(choices))]
        at += len(choices)
        out.append((max(range(len(scores)), key=scores.__getitem__), scores))
    return out


def answer_logprob(engine: Engine, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """Total log-probability of each answer (with a leading space) after its context."""
    return [r.logprob for r in engine.loglikelihood([LLRequest(c, " " + a.strip()) for c, a in pairs])]


def chat_reply_sets(
    engines: Sequence[tuple[str, Engine]], sets: Mapping[str, tuple[Sequence[str], int]]
) -> dict[str, dict[str, list[str]]]:
    """Greedy replies to several sets of questions, each with its own token budget, in one
    batched generation per model: on a CPU a decoding step costs nearly as much for a few
    rows as for many, so one pass over every set is cheaper than one pass per set.

    Returns ``replies[set_name][model_name]``, in each set's question order."""
    out: dict[str, dict[str, list[str]]] = {key: {} for key in sets}
    for name, engine in engines:
        requests = [GenRequest(engine.chat_prompt(q), budget) for qs, budget in sets.values() for q in qs]
        texts = engine.generate(requests)
        at = 0
        for key, (questions, _) in sets.items():
            out[key][name] = texts[at : at + len(questions)]
            at += len(questions)
    return out


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, unify dashes and collapse white space, for 'does the reply contain X'."""
    text = text.lower().replace("\u2013", "-").replace("\u2014", "-")
    return _SPACE.sub(" ", text).strip()


def contains_answer(reply: str, answer: str) -> bool:
    return normalise(answer) in normalise(reply)


def paired_metric(
    probe: str,
    name: str,
    label: str,
    outcomes: Mapping[str, Sequence[float] | Sequence[bool]],
    *,
    seed: int,
    binary: bool = True,
    unit: str = "accuracy",
    higher_is_better: bool | None = True,
    group: str | None = None,
) -> Metric:
    """A base-vs-tuned metric from per-model outcome lists keyed "base" and "tuned";
    binary right/wrong accuracies by default."""
    return make_metric(
        probe,
        name,
        label,
        outcomes["base"],
        outcomes["tuned"],
        binary=binary,
        unit=unit,
        higher_is_better=higher_is_better,
        group=group,
        seed=seed,
    )


def paired_item(
    item_id: str,
    section: str,
    input: str,
    index: int,
    scores: Mapping[str, Sequence[float] | Sequence[bool]],
    outputs: Mapping[str, Sequence[str]] | None = None,
    expected: str | None = None,
    extra: dict[str, Any] | None = None,
) -> ItemRecord:
    """The record of item ``index`` as both models saw it, from per-model lists."""
    return ItemRecord(
        item_id=item_id,
        section=section,
        input=input,
        expected=expected,
        base_output=outputs["base"][index] if outputs else None,
        tuned_output=outputs["tuned"][index] if outputs else None,
        base_score=float(scores["base"][index]),
        tuned_score=float(scores["tuned"][index]),
        extra=extra or {},
    )
