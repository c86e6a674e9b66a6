"""Scoring pieces of the context probe, its fact pool and round sizes, and the paired ratio
statistic, without a model."""

from __future__ import annotations

import pytest

from tunelens.data import FACT_CATEGORIES
from tunelens.probes.context import ContextConfig, fact_pool, mentions, round_size
from tunelens.stats import compare_ratio


def test_mentions_whole_words_only() -> None:
    assert mentions("The capital is Paris.", "Paris")
    assert mentions("It's FE, of course", "Fe")
    assert not mentions("I feel fine", "Fe")
    assert mentions("South  Africa's capital", "south africa")
    assert not mentions("Guinea-Bissau", "Bissau Guinea")


def test_fact_pool_interleaves_categories_best_known_first_without_repeats() -> None:
    pool = fact_pool(seed=0)
    assert len(pool) > 800  # ~250 countries x 3, 50 states, 118 elements
    assert len({(i.category, i.subject) for i in pool}) == len(pool)
    assert [i.category for i in pool[:5]] == list(FACT_CATEGORIES)
    assert [i.category for i in pool[5:10]] == list(FACT_CATEGORIES)
    capitals = [i.subject for i in pool if i.category == "country_capital"]
    assert capitals[0] == "China" and [i.subject for i in pool if i.category == "element_symbol"][0] == "Hydrogen"
    assert fact_pool(seed=0, max_facts=12) == pool[:12]
    assert fact_pool(seed=1) != pool  # US states and distractors follow the seed


def test_round_size_aims_at_the_target_at_the_share_of_the_latest_facts_asked() -> None:
    cfg = ContextConfig(target_known=60, expected_known=0.4, min_round=10)
    assert round_size(cfg, missing=60, paired=[]) == 165  # 1.1 * 60 / 0.4
    # 60 of the first 100 known, 20 of the later 50: the later half's share (0.4) counts
    assert round_size(cfg, missing=20, paired=[True] * 30 + [False] * 20 + [True] * 20 + [False] * 30) == 55
    assert round_size(cfg, missing=1, paired=[True] * 100) == 10  # never fewer than min_round
    assert round_size(cfg, missing=10, paired=[True] * 25 + [False] * 25) == 220  # none lately: share floored at 5%
    assert ContextConfig().min_round == 40  # a follow-up round asks enough not to need a third


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
