"""Tests for the chain-of-thought helpers: sentences, mistakes, paraphrase, filler and curves."""

from __future__ import annotations

import random
import re

import pytest

from tunelens.probes._cot import (
    answer_bias_factor,
    area_over_curve,
    corrupt_sentence,
    filler,
    join_sentences,
    number_values,
    on_grid,
    paraphrase_chain,
    paraphrase_sentence,
    pick_positions,
    sampled_area_over_curve,
    split_sentences,
)

CHAIN = (
    "Ben has 5 apples. He buys 3 more, so he has 5 + 3 = 8 apples.\n"
    "Then he gives 2 to Sam! How many are left? 8 - 2 = 6.\n"
    "1. The price is 2.5 dollars, e.g. cheap. So the"
)

# ---------------------------------------------------------------- sentences


def test_split_sentences_by_the_documented_rule() -> None:
    assert split_sentences(CHAIN) == [
        "Ben has 5 apples.",
        "He buys 3 more, so he has 5 + 3 = 8 apples.",
        "Then he gives 2 to Sam!",
        "How many are left?",
        "8 - 2 = 6.",
        "1. The price is 2.5 dollars, e.g. cheap.",
    ]


def test_unfinished_tail_is_kept_only_when_asked_or_ended_by_a_line_break() -> None:
    assert split_sentences("One step. Two st", drop_unfinished=False) == ["One step.", "Two st"]
    assert split_sentences("One step. Two st") == ["One step."]
    assert split_sentences("One step.\n5 + 3 = 8\n") == ["One step.", "5 + 3 = 8"]
    assert split_sentences("Step 1: add them:") == ["Step 1: add them:"]


def test_split_sentences_drops_empty_pieces_and_keeps_list_markers_with_their_text() -> None:
    assert split_sentences("\n\n- first.\n---\n2) second.\n") == ["- first.", "2) second."]
    assert split_sentences("") == []
    assert join_sentences(["A.", " B. "]) == "A. B."


# ---------------------------------------------------------------- mistakes


def _tokens(text: str) -> list[str]:
    return re.findall(r"\d+|\w+|[^\w\s]", text)


@pytest.mark.parametrize("seed", range(20))
def test_corruption_changes_exactly_one_number(seed: int) -> None:
    sentence = "He has 12 apples and buys 7 more, so 12 + 7 = 19."
    c = corrupt_sentence(sentence, random.Random(seed))
    assert c is not None and c.kind == "number"
    before, after = _tokens(sentence), _tokens(c.sentence)
    assert len(before) == len(after)
    diff = [(a, b) for a, b in zip(before, after) if a != b]
    assert diff == [("19", c.after)] and c.before == "19"
    assert int(c.after) >= 0 and int(c.after) != 19


def test_corruption_never_goes_negative_and_is_deterministic() -> None:
    for seed in range(30):
        c = corrupt_sentence("That leaves 0.", random.Random(seed))
        assert c is not None and int(c.after) > 0
    assert corrupt_sentence("x 4 y 9.", random.Random(3)) == corrupt_sentence("x 4 y 9.", random.Random(3))


def test_corruption_swaps_the_named_option_for_another_option() -> None:
    choices = ("Lagos", "Abuja", "Accra", "Nairobi")
    c = corrupt_sentence("Not lagos: the capital of Nigeria is Abuja.", random.Random(0), choices)
    assert c is not None and c.kind == "entity"
    # "lagos" is named first; the next option the sentence does not name is Accra.
    assert (c.before, c.after) == ("Lagos", "Accra")
    assert c.sentence == "Not Accra: the capital of Nigeria is Abuja."
    # An option named twice changes everywhere: one entity, not one occurrence.
    twice = corrupt_sentence("Abuja. Yes, Abuja.", random.Random(0), choices)
    assert twice is not None and twice.sentence == "Accra. Yes, Accra."


def test_corruption_falls_back_to_a_number_and_reports_nothing_to_corrupt() -> None:
    choices = ("Fe", "Au", "Ag", "Cu")
    c = corrupt_sentence("Iron has atomic number 26.", random.Random(0), choices)
    assert c is not None and c.kind == "number" and c.before == "26"
    assert corrupt_sentence("Let us think about it.", random.Random(0), choices) is None
    assert corrupt_sentence("Decimals like 2.5 and 1,000 are left alone.", random.Random(0)) is None


def test_pick_positions_draws_distinct_candidates_in_order_and_is_seeded() -> None:
    picks = pick_positions([1, 3, 4, 7], 2, random.Random(0))
    assert len(picks) == 2 and set(picks) <= {1, 3, 4, 7} and picks == sorted(picks)
    assert pick_positions([1, 3, 4, 7], 2, random.Random(0)) == picks
    assert {tuple(pick_positions(range(6), 1, random.Random(s))) for s in range(30)} == {(j,) for j in range(6)}
    assert pick_positions([2, 5], 4, random.Random(1)) == [2, 5]
    assert pick_positions([], 2, random.Random(1)) == []


# ---------------------------------------------------------------- paraphrase


def test_paraphrase_examples() -> None:
    assert (
        paraphrase_sentence("He buys 3 more, so he has 8 apples.")
        == "He has eight apples, because he purchases three more."
    )
    assert paraphrase_sentence("So the total is 5 + 3 = 8.") == "Therefore, the total is 5 + 3 = 8."
    assert paraphrase_sentence("Then she gives two to Sam.") == "After that, she hands 2 to Sam."
    assert paraphrase_sentence("It costs $5 now.") == "It costs $5 at this point."
    assert paraphrase_sentence("1. Add 4 apples.") == "1. Add four apples."
    assert paraphrase_sentence("Nothing to change here.") == "Nothing to change here."


def test_paraphrase_is_deterministic_and_keeps_every_number() -> None:
    sentences = split_sentences(CHAIN) + [
        "First, we find the total: 4 boxes of 6 pencils each is 4 * 6 = 24 pencils.",
        "She got twenty stickers, so she has 20 now.",
        "Finally, 25 + 15 = 40 is left.",
    ]
    once, again = paraphrase_chain(sentences), paraphrase_chain(sentences)
    assert once == again
    assert sum(a != b for a, b in zip(sentences, once)) >= len(sentences) - 2
    for original, reworded in zip(sentences, once):
        assert number_values(original) == number_values(reworded), (original, reworded)


def test_number_values_reads_digits_and_words() -> None:
    assert number_values("three apples and 12 pears, twenty in all, 2.5 kg") == [3, 12, 20]


# ---------------------------------------------------------------- filler and curves


def test_filler() -> None:
    assert filler(3) == "... ... ..."
    assert filler(0) == ""


def test_area_over_curve_on_hand_made_curves() -> None:
    assert area_over_curve([0, 0.5, 1], [1, 1, 1]) == 0.0
    # Never the same answer until the full chain: trapezoids 0 + 0.25.
    assert area_over_curve([0, 0.5, 1], [0, 0, 1]) == pytest.approx(0.75)
    assert area_over_curve([0, 1 / 3, 2 / 3, 1], [0, 1, 0, 1]) == pytest.approx(0.5)
    # Points in any order; flat beyond the first and last point.
    assert area_over_curve([0.5, 0], [0, 1]) == pytest.approx(1 - (0.25 + 0.0))
    assert area_over_curve([0.25], [0]) == 1.0
    with pytest.raises(ValueError):
        area_over_curve([], [])


def test_sampled_area_over_curve_is_exact_when_every_sentence_is_sampled() -> None:
    # A step curve over 4 sentences: the left Riemann area over it is the mean of 1 - same.
    assert sampled_area_over_curve([1, 0, 0, 1]) == pytest.approx(0.5)
    assert sampled_area_over_curve([1.0]) == 0.0 and sampled_area_over_curve([0.0]) == 1.0
    with pytest.raises(ValueError):
        sampled_area_over_curve([])


def test_on_grid_interpolates_and_holds_the_ends() -> None:
    grid = (0.0, 0.25, 0.5, 0.75, 1.0)
    assert on_grid([0, 0.5, 1], [0, 1, 1], grid) == [0.0, 0.5, 1.0, 1.0, 1.0]
    assert on_grid([0.5], [0.0], grid) == [0.0] * 5


def test_answer_bias_factor() -> None:
    assert answer_bias_factor(["A"] * 6) == 0.0
    assert answer_bias_factor([0, 1, 2, 3]) == pytest.approx(0.75)
    assert answer_bias_factor([0, 0, 1, 2]) == pytest.approx(0.5)
    assert answer_bias_factor([]) == 1.0


def test_cot_items_mix_word_problems_and_facts_from_each_category() -> None:
    from tunelens.probes.cot_faithfulness import CotFaithfulnessConfig, answer_context, cot_items

    cfg = CotFaithfulnessConfig(n_word_problems=4, n_facts=5, fact_categories=("country_capital", "element_symbol"))
    items = cot_items(cfg, seed=0)
    assert [i.kind for i in items] == ["word problem"] * 4 + ["fact"] * 5
    assert cot_items(cfg, seed=0) == items
    facts = items[4:]
    assert all(len(f.choices) == 4 and f.answer in f.choices for f in facts)
    assert all(all(c in f.user for c in f.choices) and "step by step" in f.user for f in facts)
    assert [("symbol" in f.question) for f in facts] == [False, True, False, True, False]
    assert all(int(i.answer) >= 0 for i in items[:4])
    assert answer_context("P:", "") == "P:So the answer is"
    assert answer_context("P:", "A. B.") == "P:A. B.\nSo the answer is"
