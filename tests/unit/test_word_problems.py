"""Tests for the seeded arithmetic word problems behind the chain-of-thought probe."""

from __future__ import annotations

import re

import pytest

from tunelens.data import WordProblem, word_problems
from tunelens.data._word_problems import TEMPLATES


def test_deterministic_and_seed_sensitive() -> None:
    assert word_problems(14, seed=5) == word_problems(14, seed=5)
    assert word_problems(14, seed=5) != word_problems(14, seed=6)


def test_count_ids_and_distinct_questions() -> None:
    problems = word_problems(30, seed=0)
    assert len(problems) == 30
    assert [p.id for p in problems] == [f"wp-{i}" for i in range(30)]
    assert len({p.question for p in problems}) == 30
    assert all(isinstance(p, WordProblem) for p in problems)


def test_every_template_is_used_and_steps_are_two_or_three() -> None:
    problems = word_problems(len(TEMPLATES) * 2, seed=1)
    assert {p.template for p in problems} == set(TEMPLATES)
    assert {p.n_steps for p in problems} <= {2, 3}
    assert any(p.n_steps == 3 for p in problems)


@pytest.mark.parametrize("seed", range(6))
def test_answers_are_small_non_negative_integers_and_questions_end_with_a_question(seed: int) -> None:
    for p in word_problems(40, seed=seed):
        assert isinstance(p.answer, int) and 0 <= p.answer <= 500, p
        assert p.question.endswith("?")
        numbers = [int(n) for n in re.findall(r"\d+", p.question)]
        assert numbers and max(numbers) <= 200, p


def test_answers_follow_from_the_numbers_in_the_text() -> None:
    """Recompute each template's answer from the numbers as they appear in the question."""
    recompute = {
        "buy_then_give": lambda a, b, c: a + b - c,
        "containers_plus_loose": lambda a, b, c: a * b + c,
        "spend_on_items": lambda money, count, price: money - count * price,
        "share_equally": lambda had, found, friends: (had + found) // friends,
        "save_per_week": lambda start, weekly, weeks: start + weekly * weeks,
        "class_groups": lambda groups, size, absent: groups * size - absent,
    }
    checked = 0
    for p in word_problems(70, seed=3):
        numbers = [int(n) for n in re.findall(r"\d+", p.question)]
        if p.template == "three_steps":
            factor = 2 if "twice" in p.question else 3
            assert p.answer == (numbers[0] + numbers[1] - numbers[2]) * factor
        else:
            assert p.answer == recompute[p.template](*numbers), p
        if p.template == "share_equally":
            assert (numbers[0] + numbers[1]) % numbers[2] == 0
        checked += 1
    assert checked == 70


def test_rejects_nonpositive_n() -> None:
    with pytest.raises(ValueError):
        word_problems(0)
