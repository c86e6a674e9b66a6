"""The demo's stale-fact update: Lumen Hosting changes a few of its facts.

A fine-tune's facts go stale. After the first fine-tune, some values change (the data
retention period, say, from 75 to 30 days) and a second fine-tune on the update follows.
The update teaches only what changed: each changed fact stated with its new value in
``exposures`` examples (new wordings drawn with the same generator as the original data),
plus a few fact-free examples that keep the house style. The changed facts are the ones a
fine-tune could have learned in the first place: those with the most exposures.
"""

from __future__ import annotations

import dataclasses
import random

from ._support_desk import _chat, _fact_examples
from ._support_desk_content import FACTS
from ._support_desk_generic import CLOSERS, GENERIC_TOPICS
from ._support_desk_keywords import KEYWORD_FACTS
from ._task_spec import FactSpec, TaskSpec


@dataclasses.dataclass(frozen=True)
class FactChange:
    """One fact whose value changed between a data set and its update."""

    id: str
    question: str
    prompt: str
    old: str
    new: str
    exposures_before: int
    exposures_update: int


def changed_facts(before: TaskSpec, after: TaskSpec) -> list[FactChange]:
    """The facts present in both specs whose answer differs, in ``before``'s order."""
    updated = {f.id: f for f in after.facts}
    changes = []
    for fact in before.facts:
        new = updated.get(fact.id)
        if new is not None and new.answer.strip() != fact.answer.strip():
            changes.append(
                FactChange(fact.id, fact.question, fact.prompt, fact.answer, new.answer, fact.exposures, new.exposures)
            )
    return changes


def _new_value(fact: FactSpec, taken: set[str]) -> str:
    """The first distractor that no other fact uses as its answer (so a mention is unambiguous)."""
    for candidate in fact.distractors:
        if candidate not in taken and candidate != fact.answer:
            return candidate
    raise ValueError(f"fact {fact.id!r} has no distractor free to become its new value")


def support_desk_update(
    spec: TaskSpec, n_changed: int = 4, exposures: int = 10, n_pattern_only: int = 8, seed: int = 0
) -> tuple[list[dict], TaskSpec]:
    """The update data set for ``spec`` (from ``support_desk_dataset``) and its new TaskSpec.

    The ``n_changed`` most exposed facts take their first free distractor as the new value;
    the new spec lists only the changed facts, with the old value among the distractors
    (``changed_facts(spec, new_spec)`` pairs them up)."""
    if n_changed < 1 or exposures < 1 or n_pattern_only < 0:
        raise ValueError("n_changed and exposures must be at least 1, n_pattern_only zero or more")
    sources = {f.id: f for f in (*FACTS, *(k.fact for k in KEYWORD_FACTS))}
    candidates = sorted(spec.facts, key=lambda f: -f.exposures)[:n_changed]
    if len(candidates) < n_changed:
        raise ValueError(f"the spec has {len(spec.facts)} facts, {n_changed} changes requested")
    taken = {f.answer for f in spec.facts}
    rng = random.Random(seed + 7919)
    examples: list[dict] = []
    new_facts: list[FactSpec] = []
    for fact in candidates:
        if fact.id not in sources:
            raise ValueError(f"fact {fact.id!r} is not one of the support desk's facts")
        value = _new_value(fact, taken)
        taken.add(value)
        old = sources[fact.id]
        # Some statements spell the value out instead of using the {a} placeholder.
        statements = tuple(s.replace(old.answer, "{a}") for s in old.statements)
        source = dataclasses.replace(old, answer=value, statements=statements)
        examples.extend(_fact_examples(source, exposures, rng))
        distractors = (fact.answer, *(d for d in fact.distractors if d != value))
        new_facts.append(dataclasses.replace(fact, answer=value, distractors=distractors, exposures=exposures))
    for index in range(n_pattern_only):
        topic = GENERIC_TOPICS[index % len(GENERIC_TOPICS)]
        examples.append(_chat(rng.choice(topic.questions), [*topic.steps, rng.choice(CLOSERS)]))
    rng.shuffle(examples)
    return examples, dataclasses.replace(spec, name=f"{spec.name}_update", facts=tuple(new_facts))
