"""Grouping requests into length-sorted batches under a token budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def length_batches(
    items: Sequence[T],
    length: Callable[[T], int],
    batch_tokens: int,
    max_batch: int,
    pass_overhead: int | None = None,
) -> Iterator[list[int]]:
    """Yield lists of indices into ``items``, longest first, so padding stays small.

    A batch holds at most ``max_batch`` items and at most ``batch_tokens`` padded tokens
    (its longest item times its size); an item longer than the budget gets a batch alone.

    Without ``pass_overhead`` batches are filled greedily (right for generation, where every
    extra batch costs a whole decoding loop). With it (the fixed cost of one forward pass, in
    token positions) the length-sorted items are cut where the padding saved outweighs the
    cost of another pass: the least total of (rows x longest) + ``pass_overhead`` per batch,
    found exactly by dynamic programming over the cut points, within the same limits.
    """
    order = sorted(range(len(items)), key=lambda i: -length(items[i]))
    if pass_overhead is not None:
        yield from _least_padding([length(items[i]) for i in order], order, batch_tokens, max_batch, pass_overhead)
        return
    batch: list[int] = []
    longest = 0
    for i in order:
        size = length(items[i])
        widest = max(longest, size)
        if batch and (len(batch) + 1 > max_batch or widest * (len(batch) + 1) > batch_tokens):
            yield batch
            batch, widest = [], size
        batch.append(i)
        longest = widest
    if batch:
        yield batch


def _least_padding(
    sizes: Sequence[int], order: Sequence[int], batch_tokens: int, max_batch: int, overhead: int
) -> Iterator[list[int]]:
    """Cut ``sizes`` (sorted longest first) into contiguous batches of least padded cost."""
    n = len(sizes)
    best = [0] + [0] * n  # best[j]: least cost of the first j items
    cut = [0] * (n + 1)  # cut[j]: where the last batch of the first j items begins
    for j in range(1, n + 1):
        best[j] = -1
        for i in range(j - 1, max(-1, j - 1 - max_batch), -1):  # last batch = items i..j-1
            rows, longest = j - i, sizes[i]
            if rows > 1 and rows * longest > batch_tokens:
                break  # more rows only pad more
            cost = best[i] + rows * longest + overhead
            if best[j] < 0 or cost < best[j]:
                best[j], cut[j] = cost, i
    batches: list[list[int]] = []
    j = n
    while j > 0:
        batches.append([order[k] for k in range(cut[j], j)])
        j = cut[j]
    yield from reversed(batches)
