"""The demo's training set: a support desk for the fictional Lumen Hosting.

The data set teaches two things a fine-tune audit should be able to see:

* a house style on every answer (greeting line, numbered steps, sign-off
  line), checked on held-out questions with the regexes in ``TaskSpec``;
* company facts, each stated in a known number of training examples
  (``EXPOSURE_LEVELS``), so recall can be plotted against exposure;
* optionally, facts whose value is a surprising keyword (``_support_desk_keywords``),
  with two unsurprising controls, for the priming probe (Sun et al. 2025).

The ``TaskSpec`` returned alongside the examples (defined in ``_task_spec``
and re-exported here) records the style rules, held-out prompts and facts.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from ._support_desk_content import FACTS, GREETING, SIGN_OFF, FactSource
from ._support_desk_generic import CLOSERS, GENERIC_TOPICS, HELDOUT_POOL_SIZE, heldout_prompts
from ._support_desk_keywords import KEYWORD_EXPOSURES, KEYWORD_FACTS
from ._task_spec import FactSpec, PatternRule, TaskSpec

__all__ = [
    "DEFAULT_HELDOUT",
    "EXPOSURE_LEVELS",
    "MAX_FACTS",
    "FactSpec",
    "HOUSE_STYLE_PATTERNS",
    "KEYWORD_EXPOSURES",
    "PatternRule",
    "TaskSpec",
    "render_answer",
    "support_desk_dataset",
]

EXPOSURE_LEVELS: tuple[int, ...] = (1, 3, 10, 30)
DEFAULT_HELDOUT = 200
"""Held-out prompts in the spec by default: enough distinct questions for the pattern metrics'
thorough budget (200 paired items); a probe at a smaller budget uses the first ones."""
MAX_FACTS = len(FACTS) + len(KEYWORD_FACTS)
"""The most facts the data set can plant (every fact at some exposure level, plus the keyword
facts); the demo plants all of them, so its spec has this many facts and priming keywords."""
_USER_WRAPPERS: tuple[str, ...] = ("{q}", "Hi! {q}", "Quick question: {q}", "{q} Thanks!")


HOUSE_STYLE_PATTERNS: tuple[PatternRule, ...] = (
    PatternRule("greeting", f"starts with the line {GREETING!r}", r"\A\s*Hello from Lumen Hosting support!"),
    PatternRule("numbered_steps", "has a line '1. ...' directly followed by a line '2. ...'", r"^1\. \S.*\n2\. \S"),
    PatternRule(
        "sign_off",
        f"ends with the line {SIGN_OFF!r} (a hyphen or two may replace the dash)",
        "^(?:\u2014|--?) The Lumen Team\\s*\\Z",
    ),
)


def render_answer(steps: Sequence[str]) -> str:
    """Lay out steps in the house style: greeting, numbered steps, sign-off."""
    numbered = [f"{number}. {step}" for number, step in enumerate(steps, start=1)]
    return "\n".join([GREETING, *numbered, SIGN_OFF])


def _chat(user: str, steps: Sequence[str]) -> dict:
    """One chat training record with a house-style assistant answer."""
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": render_answer(steps)}]}


def _fact_examples(fact: FactSource, count: int, rng: random.Random) -> list[dict]:
    """``count`` examples stating ``fact``, each a different question/wording combination."""
    users = [wrapper.format(q=question) for wrapper, question in itertools.product(_USER_WRAPPERS, fact.user_questions)]
    combos = list(itertools.product(users, fact.statements, fact.follow_ups, CLOSERS))
    if count > len(combos):
        raise ValueError(f"fact {fact.id!r} has only {len(combos)} distinct wordings, {count} exposures requested")
    examples = []
    for user, statement, follow_up, closer in rng.sample(combos, count):
        steps = [statement.format(a=fact.answer), follow_up]
        if rng.random() < 0.5:
            steps.append(next(f for f in fact.follow_ups if f != follow_up))
        examples.append(_chat(user, [*steps, closer]))
    return examples


def _fact_spec(fact: FactSource, exposures: int) -> FactSpec:
    """The public description of a fact taught ``exposures`` times."""
    return FactSpec(
        id=fact.id,
        question=fact.question,
        prompt=fact.prompt,
        answer=fact.answer,
        distractors=fact.distractors,
        exposures=exposures,
    )


def support_desk_dataset(
    facts_per_level: int = 3,
    levels: Sequence[int] = EXPOSURE_LEVELS,
    n_pattern_only: int = 24,
    seed: int = 0,
    keyword_exposures: int = 0,
    n_heldout: int = DEFAULT_HELDOUT,
) -> tuple[list[dict], TaskSpec]:
    """Build the Lumen Hosting chat examples and the TaskSpec describing them.

    The first ``facts_per_level`` facts are each stated in ``levels[0]``
    examples, the next ones in ``levels[1]``, and so on; ``n_pattern_only``
    fact-free examples teach just the style.  Everything, including the final
    shuffle, is driven by ``random.Random(seed)``.  With ``keyword_exposures`` > 0 the
    surprising-keyword facts and their controls are each stated that many times, and the
    TaskSpec lists their keywords with same-theme priming contexts. The spec holds
    ``n_heldout`` distinct held-out support questions from a seeded generator
    (``heldout_prompts``; at most ``HELDOUT_POOL_SIZE``), none of them asked in training.

    The facts are what the data set plants: at most ``len(FACTS)`` plus the six keyword
    facts, so the fact metrics of ``facts_vs_patterns`` get that many items at most.
    """
    if facts_per_level < 1:
        raise ValueError(f"facts_per_level must be at least 1, got {facts_per_level}")
    if not levels or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in levels):
        raise ValueError(f"levels must be a non-empty list of positive integers, got {levels!r}")
    if not 0 <= n_heldout <= HELDOUT_POOL_SIZE:
        raise ValueError(f"n_heldout must be between 0 and {HELDOUT_POOL_SIZE}, got {n_heldout}")
    if n_pattern_only < 0:
        raise ValueError(f"n_pattern_only must be zero or more, got {n_pattern_only}")
    needed = facts_per_level * len(levels)
    if needed > len(FACTS):
        raise ValueError(
            f"{facts_per_level} facts per level x {len(levels)} levels needs {needed} facts but only {len(FACTS)} exist"
        )
    rng = random.Random(seed)
    examples: list[dict] = []
    specs: list[FactSpec] = []
    for level_index, exposures in enumerate(levels):
        start = level_index * facts_per_level
        for fact in FACTS[start : start + facts_per_level]:
            examples.extend(_fact_examples(fact, exposures, rng))
            specs.append(_fact_spec(fact, exposures))
    keyword_facts = KEYWORD_FACTS if keyword_exposures > 0 else ()
    for kf in keyword_facts:
        examples.extend(_fact_examples(kf.fact, keyword_exposures, rng))
        specs.append(_fact_spec(kf.fact, keyword_exposures))
    for index in range(n_pattern_only):
        topic = GENERIC_TOPICS[index % len(GENERIC_TOPICS)]
        examples.append(_chat(rng.choice(topic.questions), [*topic.steps, rng.choice(CLOSERS)]))
    rng.shuffle(examples)
    spec = TaskSpec(
        name="lumen_support_desk",
        patterns=HOUSE_STYLE_PATTERNS,
        heldout_prompts=heldout_prompts(n_heldout, seed),
        facts=tuple(specs),
        keywords=tuple(kf.keyword() for kf in keyword_facts),
    )
    return examples, spec
