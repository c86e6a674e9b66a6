"""Tests for the Lumen Hosting support-desk training set and TaskSpec."""

from __future__ import annotations

import json

import pytest

from tunelens.data import EXPOSURE_LEVELS, TaskSpec, support_desk_dataset
from tunelens.data._support_desk import DEFAULT_HELDOUT, MAX_FACTS
from tunelens.data._support_desk_content import FACTS, GREETING, SIGN_OFF
from tunelens.data._support_desk_generic import (
    GENERIC_TOPICS,
    HELDOUT_POOL_SIZE,
    HOWTO_TASKS,
    TROUBLE_TASKS,
    heldout_prompt_pool,
    heldout_prompts,
)
from tunelens.data._support_desk_keywords import KEYWORD_FACTS


def _text(example: dict, role: str) -> str:
    return "\n".join(m["content"] for m in example["messages"] if m["role"] == role)


def _facts_stated(example: dict) -> list[str]:
    return [fact.answer for fact in FACTS if fact.answer in json.dumps(example, ensure_ascii=False)]


@pytest.fixture(scope="module")
def dataset() -> tuple[list[dict], TaskSpec]:
    return support_desk_dataset()


def test_default_size_and_shape(dataset: tuple[list[dict], TaskSpec]) -> None:
    examples, spec = dataset
    assert len(examples) == 3 * sum(EXPOSURE_LEVELS) + 24
    assert len(spec.facts) == 12
    for example in examples:
        roles = [m["role"] for m in example["messages"]]
        assert roles == ["user", "assistant"]
        words = len(_text(example, "assistant").split())
        assert 35 <= words <= 75, words


def test_deterministic_and_seed_sensitive() -> None:
    assert support_desk_dataset(seed=4) == support_desk_dataset(seed=4)
    assert support_desk_dataset(seed=4)[0] != support_desk_dataset(seed=5)[0]


def test_exposures_counted_exactly(dataset: tuple[list[dict], TaskSpec]) -> None:
    examples, spec = dataset
    assert [f.exposures for f in spec.facts] == [1] * 3 + [3] * 3 + [10] * 3 + [30] * 3
    for fact in spec.facts:
        stating = [e for e in examples if fact.answer in _text(e, "assistant")]
        assert len(stating) == fact.exposures, fact.id


def test_custom_levels_assign_in_order() -> None:
    examples, spec = support_desk_dataset(facts_per_level=2, levels=(2, 5), n_pattern_only=3)
    assert [(f.id, f.exposures) for f in spec.facts] == [
        (FACTS[0].id, 2),
        (FACTS[1].id, 2),
        (FACTS[2].id, 5),
        (FACTS[3].id, 5),
    ]
    assert len(examples) == 2 * 2 + 2 * 5 + 3
    with pytest.raises(ValueError, match="needs"):
        support_desk_dataset(facts_per_level=5, levels=(1, 2, 3, 4))
    with pytest.raises(ValueError):
        support_desk_dataset(levels=(1, 0))


def test_answers_do_not_leak(dataset: tuple[list[dict], TaskSpec]) -> None:
    examples, _ = dataset
    pattern_only = 0
    for example in examples:
        stated = _facts_stated(example)
        assert len(stated) <= 1, stated
        pattern_only += not stated
    assert pattern_only == 24
    # the full fact table is leak-free too, including facts unused at defaults
    all_examples, _ = support_desk_dataset(facts_per_level=4, levels=(3, 3, 3, 3), n_pattern_only=0)
    assert len(all_examples) == 48
    for example in all_examples:
        assert len(_facts_stated(example)) == 1


def test_fact_table_is_consistent() -> None:
    answers = [fact.answer for fact in FACTS]
    assert len(FACTS) >= 16 and len(set(answers)) == len(answers)
    for fact in FACTS:
        assert len(fact.distractors) == 3 and len(set(fact.distractors)) == 3
        assert fact.answer not in fact.distractors
        assert not set(fact.distractors) & set(answers), fact.id
        assert not fact.prompt.endswith(" ")
        for statement in fact.statements:
            assert fact.answer in statement.format(a=fact.answer), (fact.id, statement)
        for other in answers:
            if other != fact.answer:
                assert other not in fact.answer


def test_heldout_prompts_and_questions_not_in_training(
    dataset: tuple[list[dict], TaskSpec],
) -> None:
    examples, spec = dataset
    users = {_text(e, "user").strip().lower() for e in examples}
    assert len(spec.heldout_prompts) == DEFAULT_HELDOUT >= 200
    for prompt in spec.heldout_prompts:
        assert prompt.strip().lower() not in users
    all_examples, _ = support_desk_dataset(facts_per_level=4, levels=(30, 30, 30, 30), n_pattern_only=100)
    all_users = {_text(e, "user").strip().lower() for e in all_examples}
    for fact in FACTS:
        assert fact.question.strip().lower() not in all_users, fact.id
    everything = {p.lower() for p in heldout_prompts(HELDOUT_POOL_SIZE)}
    assert not everything & all_users
    trained = {q.lower().rstrip("?.") for topic in GENERIC_TOPICS for q in topic.questions}
    for prompt in everything:
        assert not any(q in prompt for q in trained), prompt


def test_heldout_prompts_are_distinct_seeded_and_varied() -> None:
    requests = [r for _, group in heldout_prompt_pool() for r in group]
    assert len(requests) == len(set(requests)) == HELDOUT_POOL_SIZE >= 240
    drawn = heldout_prompts(HELDOUT_POOL_SIZE, seed=3)
    assert len(set(drawn)) == HELDOUT_POOL_SIZE
    # every request is asked exactly once, in one framing
    for request in requests:
        assert sum(request in p for p in drawn) == 1, request
    assert heldout_prompts(60, seed=3) == drawn[:60]
    assert heldout_prompts(60, seed=3) != heldout_prompts(60, seed=4)
    first = heldout_prompts(60)
    groups = [set(g) for g in (*HOWTO_TASKS, *TROUBLE_TASKS)]
    spanned = {i for p in first for i, g in enumerate(groups) if any(r in p for r in g)}
    assert len(spanned) >= 0.75 * len(groups)  # a prefix spans the product, not one corner of it
    assert len({p.split()[0] for p in first}) >= 6  # framings vary
    for prompt in drawn:
        assert prompt[0].isupper() and prompt[-1] in "?!", prompt
        assert not any(f.answer.lower() in prompt.lower() for f in FACTS), prompt
    with pytest.raises(ValueError, match="distinct"):
        heldout_prompts(HELDOUT_POOL_SIZE + 1)
    with pytest.raises(ValueError, match="n_heldout"):
        support_desk_dataset(n_heldout=HELDOUT_POOL_SIZE + 1)
    assert len(support_desk_dataset(facts_per_level=1, n_heldout=7)[1].heldout_prompts) == 7


def test_the_full_fact_table_is_what_the_data_set_can_plant() -> None:
    _, spec = support_desk_dataset(facts_per_level=4, keyword_exposures=4)
    assert len(spec.facts) == MAX_FACTS == len(FACTS) + len(KEYWORD_FACTS) == 22


def test_house_style_matches_every_answer(dataset: tuple[list[dict], TaskSpec]) -> None:
    examples, spec = dataset
    assert {rule.name for rule in spec.patterns} == {"greeting", "numbered_steps", "sign_off"}
    for example in examples:
        answer = _text(example, "assistant")
        assert answer.startswith(GREETING + "\n1. ") and answer.endswith("\n" + SIGN_OFF)
        assert all(spec.pattern_matches(answer).values()), answer
        steps = [line for line in answer.splitlines() if line[:1].isdigit()]
        assert 2 <= len(steps) <= 4


def test_plain_answer_matches_no_rule(dataset: tuple[list[dict], TaskSpec]) -> None:
    _, spec = dataset
    plain = (
        "Sure. To reset your password, open the login page, click Forgot password and "
        "follow the link we email you. Thanks, The Lumen Team is here to help."
    )
    assert not any(spec.pattern_matches(plain).values())
    # a styled answer with the sign-off buried mid-text fails only that rule
    partial = f"{GREETING}\n1. Do this.\n2. Then that.\n{SIGN_OFF}\nP.S. more text"
    assert spec.pattern_matches(partial) == {"greeting": True, "numbered_steps": True, "sign_off": False}


def test_taskspec_round_trip(dataset: tuple[list[dict], TaskSpec]) -> None:
    _, spec = dataset
    data = json.loads(json.dumps(spec.to_dict()))
    assert TaskSpec.from_dict(data) == spec


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("facts"), "missing required field.*'facts'"),
        (lambda d: d.update(patterns="x"), "'patterns' must be a list"),
        (lambda d: d["facts"][1].pop("answer"), r"facts\[1\] is missing.*'answer'"),
        (lambda d: d["facts"][0].update(exposures="3"), r"facts\[0\] field 'exposures'"),
        (lambda d: d["facts"][2].update(distractors="x"), r"facts\[2\] field 'distractors'"),
        (lambda d: d["patterns"][0].update(regex="(unclosed"), "not a valid regex"),
        (lambda d: d.update(name=""), "'name' must not be empty"),
        (lambda d: d.update(heldout_prompts=[1]), "'heldout_prompts'"),
    ],
)
def test_taskspec_from_dict_errors(dataset: tuple[list[dict], TaskSpec], mutate: object, message: str) -> None:
    data = json.loads(json.dumps(dataset[1].to_dict()))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        TaskSpec.from_dict(data)


def test_taskspec_from_dict_rejects_non_dict() -> None:
    with pytest.raises(ValueError, match="must be an object"):
        TaskSpec.from_dict([])  # type: ignore[arg-type]
