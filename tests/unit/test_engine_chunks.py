"""How the engine splits continuation positions into forward passes (``_chunks``)."""

from __future__ import annotations

import pytest

from tunelens.engine._engine import _chunks


def _cost(need: list[int], chunks: list[tuple[int, int]], overhead: int) -> int:
    return sum(overhead + sum(1 for n in need if n > begin) * (end - begin) for begin, end in chunks)


@pytest.mark.parametrize(
    "need",
    [[3], [1, 1, 1], [1, 2, 2, 3, 5, 1, 1, 2, 6], [1] * 100 + [2] * 60 + [3] * 30 + [4] * 10 + [6] * 3, [7, 1]],
)
@pytest.mark.parametrize("overhead", [0, 1, 48, 10**6])
def test_chunks_cover_every_position_once_at_least_cost(need: list[int], overhead: int) -> None:
    chunks = _chunks(need, overhead)
    assert chunks[0][0] == 0 and chunks[-1][1] == max(need)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))  # contiguous, no overlap
    assert all(begin < end for begin, end in chunks)
    # No split at the distinct lengths does better (exhaustive over subsets of break points).
    ends = sorted(set(need))[:-1]
    best = min(
        _cost(need, list(zip([0, *cut], [*cut, max(need)])), overhead)
        for mask in range(2 ** len(ends))
        for cut in [[e for k, e in enumerate(ends) if mask >> k & 1]]
    )
    assert _cost(need, chunks, overhead) == best


def test_a_free_pass_means_one_pass_per_length_and_a_costly_one_a_single_pass() -> None:
    need = [1, 2, 3, 4, 5, 6] * 20
    assert _chunks(need, 0) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    assert _chunks(need, 10**6) == [(0, 6)]
