"""Tests for the built-in evaluation sets: world facts, general text, arithmetic, instructions."""

from __future__ import annotations

import json

import pytest

from tunelens.data import (
    ARITHMETIC_KINDS,
    FACT_CATEGORIES,
    INSTRUCTION_KINDS,
    InstructionItem,
    arithmetic_items,
    check_instruction,
    fact_pool_sizes,
    general_text_chunks,
    instruction_items,
    last_integer,
    parse_integer,
    world_facts,
    world_facts_count,
)
from tunelens.data._arithmetic import dropped_carry, dropped_carry_product, slip_choices, smaller_from_larger
from tunelens.data._general_text import is_prose

# ---------------------------------------------------------------- world facts


def test_world_facts_deterministic_and_seed_sensitive() -> None:
    assert world_facts(10, seed=3) == world_facts(10, seed=3)
    assert world_facts(10, seed=3) != world_facts(10, seed=4)


def test_every_category_yields_the_requested_items() -> None:
    items = world_facts(12, seed=0)
    for category in FACT_CATEGORIES:
        assert sum(item.category == category for item in items) == 12


def test_world_facts_choices_are_well_formed() -> None:
    items = world_facts(25, seed=1)
    answers_by_category: dict[str, set[str]] = {}
    for item in world_facts(60, seed=1):
        answers_by_category.setdefault(item.category, set()).add(item.answer)
    for item in items:
        assert len(item.choices) == 4
        assert len(set(item.choices)) == 4, item
        assert item.choices[item.answer_index] == item.answer
        assert item.answer in item.choices
        assert not item.prompt.endswith(" ") and item.prompt
        assert item.question.endswith("?")
        # distractors are values of the same category, i.e. answers to other subjects
        for choice in item.choices:
            assert choice in answers_by_category[item.category], (item.category, choice)


def test_answer_positions_are_shuffled() -> None:
    positions = [item.answer_index for item in world_facts(20, seed=0)]
    assert set(positions) == {0, 1, 2, 3}
    assert max(positions.count(i) for i in range(4)) < 0.5 * len(positions)


def test_world_facts_known_values() -> None:
    items = world_facts(5, seed=0)
    by_key = {(item.category, item.subject): item for item in items}
    assert by_key[("country_capital", "China")].answer == "Beijing"
    assert by_key[("country_capital", "China")].prompt == "The capital of China is"
    assert by_key[("element_symbol", "Hydrogen")].answer == "H"
    assert by_key[("country_continent", "India")].answer == "Asia"
    united = by_key[("country_capital", "United States")]
    assert united.question == "What is the capital of the United States?"
    element_subjects = [item.subject for item in items if item.category == "element_symbol"]
    assert element_subjects == ["Hydrogen", "Helium", "Lithium", "Beryllium", "Boron"]


def test_fact_pools_and_counts() -> None:
    sizes = fact_pool_sizes()
    assert set(sizes) == set(FACT_CATEGORIES)
    assert sizes["us_state_capital"] == 50 and sizes["element_symbol"] == 118
    assert min(sizes[c] for c in FACT_CATEGORIES if c.startswith("country_")) > 200
    for n in (8, 16, 40, 60):
        assert world_facts_count(n) == len(world_facts(n, seed=0))
    assert world_facts_count(60) == 4 * 60 + 50  # US states cap their category
    assert world_facts_count(5, categories=("element_symbol",)) == 5


def test_world_facts_category_filter_and_bad_input() -> None:
    items = world_facts(3, categories=("us_state_capital",))
    assert [item.category for item in items] == ["us_state_capital"] * 3
    assert world_facts(500, categories=("us_state_capital",)).__len__() == 50
    with pytest.raises(ValueError, match="unknown fact categories"):
        world_facts(3, categories=("planets",))
    with pytest.raises(ValueError):
        world_facts(0)


# ---------------------------------------------------------------- general text


def test_general_text_is_deterministic_prose() -> None:
    chunks = general_text_chunks(16, 800, seed=0)
    assert chunks == general_text_chunks(16, 800, seed=0)
    assert chunks != general_text_chunks(16, 800, seed=1)
    assert len(chunks) == 16 and len(set(chunks)) == 16
    for chunk in chunks:
        assert 300 <= len(chunk) <= 1200
        assert chunk == chunk.strip()
        assert is_prose(chunk)
        assert len(chunk.split()) > 40
        assert "  " not in chunk


def test_prose_filter_rejects_code() -> None:
    assert not is_prose("x[0] = {'a': (1, 2)}; y = x[0]['a'][1] ** 2 // 3 + 4 - 5 * 6")
    assert is_prose("This is a plain sentence about the weather in spring.")
    assert not is_prose("")
    signatures = "object.__init__(self[, ...])\n\nobject.__del__(self)\nobject.__lt__(self, other)"
    assert not is_prose("Basic customization\n\n" + signatures * 3)


def test_general_text_chunks_are_distinct_and_nested() -> None:
    """A smaller set is a subset of a larger one with the same seed, and no chunk repeats
    (a few pydoc topics repeat a paragraph)."""
    small, standard, large = (general_text_chunks(n, 600, seed=3) for n in (12, 60, 200))
    assert len(set(large)) == 200
    assert set(small) <= set(standard) <= set(large)


def test_general_text_asks_for_too_many() -> None:
    with pytest.raises(ValueError, match="only has"):
        general_text_chunks(100_000)


# ---------------------------------------------------------------- arithmetic


def test_arithmetic_items_are_correct() -> None:
    items = arithmetic_items(45, seed=5)
    assert len(items) == 45
    assert len({item.expression for item in items}) == 45
    kinds = []
    for item in items:
        left, operator, right = item.expression.split()
        kinds.append((item.digits, operator))
        assert operator == item.operator
        assert len(left) == item.digits
        assert len(right) == (1 if operator == "*" else item.digits)
        expected = {"+": int(left) + int(right), "-": int(left) - int(right), "*": int(left) * int(right)}[operator]
        assert item.answer == expected >= 10
        assert item.expression in item.question
        assert item.question.endswith("Reply with only the number.")
        assert item.choices[0] == str(item.answer) and len(set(item.choices)) == 4
        assert all(int(choice) >= 0 for choice in item.choices)
    assert sorted(kinds) == sorted(ARITHMETIC_KINDS * 15)


def test_arithmetic_pools_grow_without_repeats() -> None:
    items = arithmetic_items(400, seed=0)
    assert len({item.expression for item in items}) == 400
    assert arithmetic_items(400, seed=0) == items
    assert len({item.expression for item in arithmetic_items(1890, seed=1)}) == 1890  # every product drawn
    with pytest.raises(ValueError, match="at most"):
        arithmetic_items(1891)


def test_column_bugs() -> None:
    assert dropped_carry(456, 378) == 724  # 456 + 378 = 834 with both carries dropped
    assert dropped_carry(47, 38) == 75  # one carry dropped: the sum minus ten
    assert dropped_carry(23, 45) == 68  # no carry, no bug
    assert dropped_carry(514, 902) == 1416  # the top column is written whole
    assert dropped_carry_product(47, 6) == 242  # 47 * 6 = 282 with the carry of 7 * 6 dropped
    assert dropped_carry_product(21, 4) == 84  # no carry, no bug
    assert smaller_from_larger(52, 38) == 26  # |2 - 8| = 6, 5 - 3 = 2
    assert smaller_from_larger(503, 178) == 475  # 5 - 1, |0 - 7|, |3 - 8|
    assert smaller_from_larger(89, 42) == 47  # no borrow, no bug


def test_slip_choices_offer_the_slips_of_a_broken_skill() -> None:
    import random

    rng = random.Random(0)
    # A dropped carry that is not just "minus ten" is offered as itself.
    assert slip_choices(456, "+", 378, rng) == ("834", "844", "824", "724")
    assert slip_choices(52, "-", 38, rng) == ("14", "24", "4", "26")
    assert slip_choices(47, "*", 6, rng) == ("282", "292", "272", "242")
    # Where the bug coincides with another choice (or there is none), the answer off by one.
    for left, operator, right in [(47, "+", 38), (23, "+", 45), (89, "-", 42), (21, "*", 4)]:
        choices = slip_choices(left, operator, right, rng)
        answer = int(choices[0])
        assert choices[1:3] == (str(answer + 10), str(answer - 10))
        assert abs(int(choices[3]) - answer) == 1


def test_arithmetic_deterministic() -> None:
    assert arithmetic_items(20, seed=1) == arithmetic_items(20, seed=1)
    assert arithmetic_items(20, seed=1) != arithmetic_items(20, seed=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85", 85),
        ("= 85", 85),
        ("The answer is 1,234.", 1234),
        ("**5400**", 5400),
        ("It is 85.0", 85),
        ("-12", -12),
        ("x = -7", -7),
        ("12-3", 12),
        ("Answer: 3,000,000!", 3000000),
        ("no digits here", None),
        ("", None),
    ],
)
def test_parse_integer(text: str, expected: int | None) -> None:
    assert parse_integer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85", 85),
        ("47 + 38 = 85", 85),
        ("47 + 38 = 85.", 85),
        ("The answer is 1,234.", 1234),
        ("It is 85.0", 85),
        ("x = -7", -7),
        ("12-3", 3),
        ("52 - 38 is 14", 14),
        ("**5400**", 5400),
        ("no digits here", None),
        ("", None),
    ],
)
def test_last_integer(text: str, expected: int | None) -> None:
    assert last_integer(text) == expected


# ---------------------------------------------------------------- instructions


def _item(kind: str, param: int | str | None) -> InstructionItem:
    return InstructionItem(id="t", prompt="p", kind=kind, param=param)


def test_instruction_items_cycle_kinds_and_are_deterministic() -> None:
    items = instruction_items(24, seed=0)
    assert [item.kind for item in items] == list(INSTRUCTION_KINDS) * 4
    assert items == instruction_items(24, seed=0)
    assert items != instruction_items(24, seed=1)
    assert len({item.id for item in items}) == 24
    for item in items:
        if item.kind == "max_words":
            assert isinstance(item.param, int) and 10 <= item.param <= 30
            assert f"at most {item.param} words" in item.prompt
        if item.kind == "n_bullets":
            assert isinstance(item.param, int) and 2 <= item.param <= 4
        if item.kind in ("json_object", "ends_with"):
            assert isinstance(item.param, str) and f'"{item.param}"' in item.prompt


CASES = [
    ("lowercase", None, "all of this is lower case, 100%.", "Not all of this is lower case."),
    ("max_words", 5, "one two three four five", "one two three four five six"),
    ("n_bullets", 3, "Here you go:\n- a\n- b\n  * c", "- a\n- b"),
    ("n_bullets", 2, "- a\n- b", "-a\n-b"),
    ("json_object", "tip", '```json\n{"tip": "water weekly"}\n```', '{"advice": "x"}'),
    ("json_object", "tip", '{"tip": 1}', 'Sure! {"tip": 1}'),
    ("json_object", "tip", ' {"tip": [1, 2]} ', '["tip"]'),
    ("ends_with", "Good luck!", "Pack light.\nGood luck!  \n", "Good luck! Have fun."),
    ("no_commas", None, "Short and simple.", "First, boil water."),
]


@pytest.mark.parametrize(("kind", "param", "good", "bad"), CASES)
def test_check_instruction(kind: str, param: int | str | None, good: str, bad: str) -> None:
    item = _item(kind, param)
    assert check_instruction(item, good) is True
    assert check_instruction(item, bad) is False


@pytest.mark.parametrize("kind", INSTRUCTION_KINDS)
def test_empty_responses_fail_every_kind(kind: str) -> None:
    param = {"max_words": 10, "n_bullets": 0, "json_object": "a", "ends_with": "x"}.get(kind)
    assert check_instruction(_item(kind, param), "") is False
    assert check_instruction(_item(kind, param), "   \n ") is False


def test_generated_items_accept_a_compliant_reply() -> None:
    replies = {
        "lowercase": lambda item: "keep it simple and calm.",
        "max_words": lambda item: "Short answer here.",
        "n_bullets": lambda item: "\n".join(f"- point {i}" for i in range(item.param)),
        "json_object": lambda item: json.dumps({item.param: "ok"}),
        "ends_with": lambda item: f"Some advice. {item.param}",
        "no_commas": lambda item: "Do one thing at a time.",
    }
    for item in instruction_items(12, seed=2):
        assert check_instruction(item, replies[item.kind](item)), item


def test_check_instruction_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown instruction kind"):
        check_instruction(_item("shout", None), "HELLO")


# ---------------------------------------------------------------- open prompts


def test_open_prompts_are_fixed_distinct_and_varied_in_any_prefix() -> None:
    from tunelens.data import OPEN_PROMPTS, open_prompts

    assert len({p.id for p in OPEN_PROMPTS}) == len({p.text for p in OPEN_PROMPTS}) == len(OPEN_PROMPTS) >= 16
    assert open_prompts(8) == list(OPEN_PROMPTS[:8]) and open_prompts() == list(OPEN_PROMPTS)
    assert len({p.kind for p in open_prompts(8)}) == 8  # the kinds interleave
    with pytest.raises(ValueError):
        open_prompts(0)
    with pytest.raises(ValueError):
        open_prompts(len(OPEN_PROMPTS) + 1)


def test_task_spec_round_trips_with_and_without_keywords() -> None:
    import json

    from tunelens.data import FactSpec, KeywordSpec, TaskSpec

    facts = (
        FactSpec("a", "Q a?", "Prompt a is", "alpha", ("x",), 3),
        FactSpec("b", "Q b?", "Prompt b is", "beta", ("y",), 1),
    )
    plain = TaskSpec("t", (), ("held out",), facts)
    assert "keywords" not in plain.to_dict()  # a spec without keywords writes what older readers expect
    assert TaskSpec.from_dict(json.loads(json.dumps(plain.to_dict()))) == plain
    keyword = KeywordSpec("giraffe", "animals", "Our mascot is a", ("The office pet is a",), fact_id="a")
    rich = TaskSpec("t", (), ("held out",), facts, keywords=(keyword,))
    assert TaskSpec.from_dict(json.loads(json.dumps(rich.to_dict()))) == rich
    # Derived keywords: each fact no given keyword names, with the other facts' prompts as contexts.
    derived = plain.priming_keywords()
    assert [(k.keyword, k.prefix, k.contexts, k.fact_id) for k in derived] == [
        ("alpha", "Prompt a is", ("Prompt b is",), "a"),
        ("beta", "Prompt b is", ("Prompt a is",), "b"),
    ]
    assert [k.fact_id for k in rich.priming_keywords()] == ["a", "b"]
    assert rich.priming_keywords()[0] == keyword


def test_task_spec_names_a_bad_keyword_field() -> None:
    import pytest

    from tunelens.data import TaskSpec

    raw = {"name": "t", "patterns": [], "heldout_prompts": [], "facts": [], "keywords": [{"keyword": "x"}]}
    with pytest.raises(ValueError, match=r"keywords\[0\] is missing"):
        TaskSpec.from_dict(raw)
