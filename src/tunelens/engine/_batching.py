"""Grouping requests into length-sorted batches under a token budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def length_batches(
    items: Sequence[T], length: Callable[[T], int], batch_tokens: int, max_batch: int
) -> Iterator[list[int]]:
    """Yield lists of indices into ``items``, longest first, so padding stays small.

    A batch holds at most ``max_batch`` items and at most ``batch_tokens`` padded tokens
    (its longest item times its size); an item longer than the budget gets a batch alone.
    """
    order = sorted(range(len(items)), key=lambda i: -length(items[i]))
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
