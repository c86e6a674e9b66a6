"""The pool of open prompts behind the diversity probe: large enough for a thorough audit,
every prompt distinct, the hand-written ones first, kinds interleaved."""

from __future__ import annotations

from collections import Counter

from tunelens.data import OPEN_PROMPTS, open_prompts
from tunelens.data._open_prompts import HAND_WRITTEN, POOL_SIZE, _pool


def test_pool_reaches_a_thorough_audit_without_repeating_a_prompt() -> None:
    assert POOL_SIZE == len(OPEN_PROMPTS) >= 200
    assert len({p.text.lower() for p in OPEN_PROMPTS}) == POOL_SIZE
    assert len({p.id for p in OPEN_PROMPTS}) == POOL_SIZE
    assert all("{" not in p.text and p.text.endswith(("?", ".")) for p in OPEN_PROMPTS)


def test_hand_written_prompts_come_first_and_the_pool_is_fixed() -> None:
    assert tuple(OPEN_PROMPTS[: len(HAND_WRITTEN)]) == HAND_WRITTEN
    assert _pool() == OPEN_PROMPTS  # built from packaged data, no seed: the same every time
    assert open_prompts(60) == list(OPEN_PROMPTS[:60])


def test_every_prefix_of_a_budget_mixes_the_kinds() -> None:
    for n in (60, 200):
        kinds = Counter(p.kind for p in open_prompts(n))
        assert len(kinds) == 9
        assert max(kinds.values()) <= 2 * min(kinds.values()), (n, kinds)
    generated = OPEN_PROMPTS[len(HAND_WRITTEN) : len(HAND_WRITTEN) + 9]
    assert len({p.kind for p in generated}) == 9  # one template per kind, taken in turn
