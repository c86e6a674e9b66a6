"""Mix general text into a training set, a share R of the final set (``--mix-general R``).

Replaying general data while fine-tuning is the oldest remedy against catastrophic
forgetting (rehearsal; for LLM instruction tuning see e.g. Luo et al. 2023, who measured the
forgetting this is meant to reduce). The general text is the packaged prose slice the
project already ships (``tunelens.data.general_text_chunks``: CPython's pydoc topics), one
distinct chunk per record, as a lone assistant message so that the whole text is trained on (see
``encode_conversation``).

The same slice feeds the forgetting probe's general-text loss, so the chunks that probe
scores for the audit seed are left out: a mix must not train on the text that measures it.
Chunks are cut at the probe's length, so "the same chunk" is plain string equality. An audit
with another seed draws other chunks and may meet mixed-in text; audit with the tune seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tunelens.data import all_general_chunks, general_text_chunks
from tunelens.errors import TunelensError, UsageError


def n_general_for(n_task: int, share: float) -> int:
    """How many general records make them ``share`` of ``n_task`` + those records (at least one)."""
    if not 0.0 <= share < 1.0:
        raise UsageError(f"--mix-general must be a share in [0, 1), got {share}; e.g. 0.2 for 20% general text")
    return 0 if share == 0 else max(1, round(share * n_task / (1.0 - share)))


def _held_out(seed: int) -> tuple[set[str], int]:
    """The forgetting probe's general-text chunks for ``seed`` at every budget (a smaller
    budget's chunks are a subset of a larger one's), and their length in characters."""
    from tunelens.probes import BUDGETS, PROBES

    configs = tuple(PROBES["forgetting"].config_for(b) for b in BUDGETS)
    chars = configs[0].chars_per_chunk
    held = {c for cfg in configs for c in general_text_chunks(cfg.n_text_chunks, cfg.chars_per_chunk, seed=seed)}
    return held, chars


def general_records(n: int, seed: int) -> list[list[dict]]:
    """``n`` distinct plain-text records of general prose, drawn with ``seed``, none of them
    text the forgetting probe scores with the same seed."""
    held, chars = _held_out(seed)
    pool = sorted(set(all_general_chunks(chars)) - held)  # the slice repeats a few chunks
    if n > len(pool):
        raise TunelensError(
            f"--mix-general asks for {n} general records but the packaged general text has {len(pool)} "
            "besides the audit's own; lower the share or train on fewer task examples"
        )
    return [[{"role": "assistant", "content": c}] for c in random.Random(seed).sample(pool, n)]


def mix_general(conversations: Sequence[Sequence[dict]], share: float, seed: int) -> list[list[dict]]:
    """``conversations`` followed by general records making up ``share`` of the result.

    The order does not matter to training (the loop shuffles); it is fixed for a seed."""
    n = n_general_for(len(conversations), share)
    return [list(c) for c in conversations] + general_records(n, seed)
