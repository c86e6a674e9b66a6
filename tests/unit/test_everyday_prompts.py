"""The pool of everyday prompts behind the behaviour probe: large enough for a thorough audit,
every prompt distinct and new, the kinds interleaved, a small steady share of declines."""

from __future__ import annotations

from collections import Counter

import pytest

from tunelens.data import EVERYDAY_POOL_SIZE, EVERYDAY_PROMPTS, OPEN_PROMPTS, EverydayPrompt, everyday_prompts
from tunelens.data._everyday_prompts import DECLINE_EVERY, HAND_WRITTEN, KINDS, _pool

ALL_KINDS = {*KINDS, "decline"}
REQUIRED_KINDS = {
    "question", "explain", "instruction", "list", "code", "json", "advice", "short", "long", "creative", "opinion",
    "decline", "math",
}  # fmt: skip


def test_pool_reaches_a_thorough_audit_without_repeating_a_prompt() -> None:
    assert EVERYDAY_POOL_SIZE == len(EVERYDAY_PROMPTS) >= 240
    assert len({p.text for p in EVERYDAY_PROMPTS}) == EVERYDAY_POOL_SIZE
    assert len({p.text.lower() for p in EVERYDAY_PROMPTS}) == EVERYDAY_POOL_SIZE
    assert len({p.id for p in EVERYDAY_PROMPTS}) == EVERYDAY_POOL_SIZE
    assert all(isinstance(p, EverydayPrompt) and p.text.strip() == p.text for p in EVERYDAY_PROMPTS)
    assert all("{" not in p.text and "}" not in p.text for p in EVERYDAY_PROMPTS)


def test_no_prompt_is_one_of_the_diversity_probes_open_prompts() -> None:
    open_texts = {p.text.lower() for p in OPEN_PROMPTS}
    assert not [p.text for p in EVERYDAY_PROMPTS if p.text.lower() in open_texts]


def test_kinds_are_the_documented_ones_and_all_appear_within_a_standard_budget() -> None:
    assert REQUIRED_KINDS <= ALL_KINDS
    assert {p.kind for p in EVERYDAY_PROMPTS} == ALL_KINDS
    assert {p.kind for p in everyday_prompts(60)} == ALL_KINDS


@pytest.mark.parametrize("n", [60, 200])
def test_declines_are_a_small_steady_share(n: int) -> None:
    share = sum(p.kind == "decline" for p in everyday_prompts(n)) / n
    assert 0.03 <= share <= 0.08, share


def test_declines_sit_at_every_twentieth_place() -> None:
    places = [i for i, p in enumerate(EVERYDAY_PROMPTS) if p.kind == "decline"]
    assert places == list(range(10, EVERYDAY_POOL_SIZE, DECLINE_EVERY))


def test_every_prefix_of_twelve_or_more_is_varied() -> None:
    assert len({p.kind for p in everyday_prompts(12)}) >= 8
    for n in range(12, EVERYDAY_POOL_SIZE + 1):
        assert len({p.kind for p in EVERYDAY_PROMPTS[:n]}) >= 8, n
    for n in (60, 200):
        kinds = Counter(p.kind for p in everyday_prompts(n) if p.kind != "decline")
        assert len(kinds) == len(KINDS)
        assert max(kinds.values()) - min(kinds.values()) <= 1, (n, kinds)


def test_hand_written_prompts_come_first_and_the_pool_is_fixed() -> None:
    assert tuple(EVERYDAY_PROMPTS[: len(HAND_WRITTEN)]) == HAND_WRITTEN
    assert _pool() == EVERYDAY_PROMPTS  # built from packaged data, no seed: the same every time
    assert everyday_prompts(60) == everyday_prompts(60) == list(EVERYDAY_PROMPTS[:60])
    assert everyday_prompts() == list(EVERYDAY_PROMPTS)
    assert [p.id for p in EVERYDAY_PROMPTS[:3]] == ["everyday-001", "everyday-002", "everyday-003"]


@pytest.mark.parametrize("n", [0, -1, EVERYDAY_POOL_SIZE + 1])
def test_a_count_outside_the_pool_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match="between 1 and"):
        everyday_prompts(n)
    assert len(everyday_prompts(EVERYDAY_POOL_SIZE)) == EVERYDAY_POOL_SIZE
