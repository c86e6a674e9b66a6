"""Scoring pieces of the context probe and the paired ratio statistic, without a model."""

from __future__ import annotations

import pytest

from tunelens.probes.context import mentions
from tunelens.stats import compare_ratio


def test_mentions_whole_words_only() -> None:
    assert mentions("The capital is Paris.", "Paris")
    assert mentions("It's FE, of course", "Fe")
    assert not mentions("I feel fine", "Fe")
    assert mentions("South  Africa's capital", "south africa")
    assert not mentions("Guinea-Bissau", "Bissau Guinea")


def test_compare_ratio_identical_is_null_and_shift_is_detected() -> None:
    o = [True] * 12 + [False] * 28
    s = [False] * 12 + [True] * 20 + [False] * 8
    same = compare_ratio(o, s, o, s)
    assert same.delta == 0 and same.p_value == 1.0
    assert same.base == pytest.approx(12 / 32)
    tuned_o = [True] * 30 + [False] * 10
    tuned_s = [False] * 30 + [True] * 4 + [False] * 6
    shifted = compare_ratio(o, s, tuned_o, tuned_s, seed=1)
    assert shifted.tuned == pytest.approx(30 / 34)
    assert shifted.ci_low is not None and shifted.ci_low > 0
    assert shifted.p_value is not None and shifted.p_value < 0.01


def test_compare_ratio_with_no_answers_is_undefined() -> None:
    none = [False] * 10
    result = compare_ratio(none, none, none, none)
    assert result.base is None and result.delta is None and result.p_value is None
