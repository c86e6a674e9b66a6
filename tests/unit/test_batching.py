"""Length-sorted batches: greedy for generation, least padded cost for scoring."""

from __future__ import annotations

import random

from tunelens.engine._batching import length_batches


def _cost(batches: list[list[int]], sizes: list[int], overhead: int) -> int:
    return sum(len(b) * max(sizes[i] for i in b) + overhead for b in batches)


def test_scoring_batches_cut_where_padding_costs_more_than_a_pass() -> None:
    sizes = [60] * 20 + [8] * 12  # long texts and short questions: one greedy batch of 32 pads 12 rows to 60
    greedy = list(length_batches(sizes, int, 4096, 32))
    least = list(length_batches(sizes, int, 4096, 32, pass_overhead=48))
    assert len(greedy) == 1
    assert sorted(map(sorted, least)) == [list(range(20)), list(range(20, 32))]
    assert _cost(least, sizes, 48) < _cost(greedy, sizes, 48)


def test_every_item_once_within_the_limits_and_never_dearer_than_greedy() -> None:
    rng = random.Random(0)
    for _ in range(50):
        sizes = [rng.choice([3, 5, 9, 17, 40, 120, 300]) + rng.randrange(4) for _ in range(rng.randrange(1, 200))]
        tokens, rows = rng.choice([256, 1024, 4096]), rng.choice([4, 32, 128])
        least = list(length_batches(sizes, int, tokens, rows, pass_overhead=48))
        greedy = list(length_batches(sizes, int, tokens, rows))
        assert sorted(i for b in least for i in b) == list(range(len(sizes)))
        for batch in least:
            assert len(batch) <= rows
            assert len(batch) == 1 or len(batch) * max(sizes[i] for i in batch) <= tokens
        assert _cost(least, sizes, 48) <= _cost(greedy, sizes, 48)
