"""Scoring short requests in few wide passes: contexts and continuations packed into rows.

A multiple-choice question is a context and a few short continuations; a batch of them,
left-padded, runs as many narrow rows, then every continuation once more on a copy of its
context's cache. On a CPU a forward pass of a few dozen positions a row runs the linear
layers far below the machine's matrix-product rate (the embedded model's projections: 0.68
of it at 64 positions a pass, about 1.0 from 1,024), and the padding is computed too.

Here each context and its continuations form one *unit*, a small tree: the context's tokens
(the trunk) and, after them, each continuation but its last token (a branch; the last token
is only a target). Units are packed side by side into rows of ``ROW_WIDTH`` positions (a
longer unit gets a row of its own), and one attention mask per row lets a position see
exactly its ancestors: the earlier tokens of its trunk and, on a branch, its own branch's
earlier tokens. Position ids restart at every unit and continue from the trunk on each
branch, so every request computes what it would alone (packing without cross-contamination,
Krell et al. 2021; a tree under one mask, as SpecInfer verifies a token tree, Miao et al.
2024). A prefix every unit shares runs once and sits in the cache as columns every position
sees. Only the positions whose next-token distribution a request reads go through the
unembedding.

The mask needs the model's attention to take a custom 4D mask (transformers' ``sdpa`` and
``eager``) and full attention in every layer; other models keep the padded passes of
``Engine._score_batch``.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tunelens.engine._batching import length_batches
from tunelens.engine._prefill import _full_attention, prefix_pass, shared_prefix
from tunelens.models import cache_kwargs, decoder_and_unembedding

if TYPE_CHECKING:
    from tunelens.engine._engine import Engine

ROW_WIDTH = 256
"""Positions of a packed row. Attention inside a row is computed densely (masked), so its
cost grows with the width squared: at 256 positions it is about a twelfth of the linear
layers' work on the embedded model; units longer than this get a row of their own."""

HEAD_ROWS = 512
"""Positions unembedded at once (49,152 logits each on the embedded model: 100 MB a chunk)."""


@dataclass
class Unit:
    """A trunk and its branches: ``tokens`` is the trunk then each branch in turn."""

    tokens: list[int] = field(default_factory=list)
    trunk: int = 0  # the first ``trunk`` tokens
    branches: list[tuple[int, int]] = field(default_factory=list)  # [start, end) in ``tokens``
    # (index in ``tokens`` whose next-token distribution is read, target token, request)
    reads: list[tuple[int, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


def context_unit(context: Sequence[int], continuations: dict[int, Sequence[int]]) -> Unit:
    """The unit of one context and its continuations (by request; the same continuation
    asked twice shares one branch)."""
    unit = Unit(tokens=list(context), trunk=len(context))
    last = len(context) - 1
    branch_of: dict[tuple[int, ...], int] = {}
    for request, cont in continuations.items():
        unit.reads.append((last, int(cont[0]), request))
        if len(cont) == 1:
            continue
        key = tuple(cont[:-1])
        if key not in branch_of:
            branch_of[key] = len(unit.tokens)
            unit.branches.append((len(unit.tokens), len(unit.tokens) + len(key)))
            unit.tokens.extend(key)
        start = branch_of[key]
        unit.reads.extend((start + t, int(cont[t + 1]), request) for t in range(len(cont) - 1))
    return unit


def text_unit(tokens: Sequence[int], request: int) -> Unit:
    """The unit of a text whose every token after the first is scored."""
    unit = Unit(tokens=list(tokens), trunk=len(tokens))
    unit.reads = [(t, int(tokens[t + 1]), request) for t in range(len(tokens) - 1)]
    return unit


def packs(engine: Engine) -> bool:
    """Whether ``engine``'s model can score packed rows (see the module's docstring)."""
    model = engine.model
    config = getattr(model, "config", None)
    if config is None or getattr(config, "_attn_implementation", None) not in ("sdpa", "eager"):
        return False
    # A model whose forward changes the logits after the unembedding keeps the padded path.
    return decoder_and_unembedding(model) is not None and _full_attention(model)


def _rows(units: Sequence[Unit], width: int) -> list[list[int]]:
    """Units (by index) packed into rows of ``width`` positions: largest first, each into the
    open row it fills best (best fit decreasing); a unit wider than a row gets one alone."""
    rows: list[list[int]] = []
    open_rows: list[tuple[int, int]] = []  # (room left, row), sorted
    for u in sorted(range(len(units)), key=lambda u: -len(units[u])):
        size = len(units[u])
        at = bisect.bisect_left(open_rows, (size, -1))
        if at < len(open_rows):
            room, r = open_rows.pop(at)
            rows[r].append(u)
        else:
            room, r = max(width, size), len(rows)
            rows.append([u])
        if room - size > 0:
            bisect.insort(open_rows, (room - size, r))
    return rows


def _drop_prefix(unit: Unit, n: int) -> Unit:
    """``unit`` without its first ``n`` trunk tokens (they run once, as the shared prefix)."""
    return Unit(
        tokens=unit.tokens[n:],
        trunk=unit.trunk - n,
        branches=[(a - n, b - n) for a, b in unit.branches],
        reads=[(i - n, target, request) for i, target, request in unit.reads],
    )


def _layout(
    units: Sequence[Unit], row: Sequence[int], offset: int
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Token ids, position ids, unit number and branch number (0: trunk) of each position of
    a row; positions start at ``offset`` (the shared prefix's length)."""
    ids: list[int] = []
    pos: list[int] = []
    owner: list[int] = []
    segment: list[int] = []
    for u in row:
        unit = units[u]
        ids.extend(unit.tokens)
        pos.extend(range(offset, offset + unit.trunk))
        owner.extend([u] * len(unit))
        segment.extend([0] * unit.trunk)
        for b, (start, end) in enumerate(unit.branches, 1):
            pos.extend(range(offset + unit.trunk, offset + unit.trunk + end - start))
            segment.extend([b] * (end - start))
    return ids, pos, owner, segment


def tree_mask(owner: Any, segment: Any) -> Any:
    """(rows, width, width) booleans, True where a position (row index) sees another (column
    index): an earlier or the same position of its own unit (``owner``) that is on the trunk
    (``segment`` 0) or on its own branch."""
    import torch

    width = owner.shape[1]
    earlier = torch.ones((width, width), dtype=torch.bool, device=owner.device).tril()
    same = owner[:, :, None] == owner[:, None, :]
    lineage = (segment[:, None, :] == 0) | (segment[:, :, None] == segment[:, None, :])
    return same & lineage & earlier


def score(engine: Engine, units: Sequence[Unit], share_prefix: bool = True) -> tuple[Any, Any]:
    """Run ``units`` packed; returns the log-probability of every read's target (float64) and
    whether it was the argmax, in the order of the units and of each unit's ``reads``. With
    ``share_prefix`` a prefix every trunk shares runs once (units must not read inside it:
    contexts, not whole texts)."""
    torch = engine._torch()
    device = engine.loaded.device
    first_read = [0]
    for unit in units:
        first_read.append(first_read[-1] + len(unit.reads))
    logprob = torch.zeros(first_read[-1], dtype=torch.float64, device=device)
    hit = torch.zeros(first_read[-1], dtype=torch.bool, device=device)
    if not units:
        return logprob, hit
    shared = shared_prefix([u.tokens[: u.trunk] for u in units]) if share_prefix and len(units) > 1 else 0
    prefix = None
    if shared and (len(units) - 1) * shared > engine.step_overhead_tokens:
        prefix = prefix_pass(engine, units[0].tokens[:shared])
        units = [_drop_prefix(u, shared) for u in units]
    else:
        shared = 0
    rows = _rows(units, ROW_WIDTH)
    sizes = [sum(len(units[u]) for u in row) for row in rows]
    decoder = engine.model.get_decoder()
    unembed = engine.model.get_output_embeddings()
    batches = list(
        length_batches(
            list(range(len(rows))),
            sizes.__getitem__,
            engine.batch_tokens,
            engine.max_batch,
            engine.step_overhead_tokens,
        )
    )
    for batch in batches:
        width = max(sizes[r] for r in batch)
        ids = torch.full((len(batch), width), engine.pad_id, dtype=torch.long)
        pos = torch.zeros((len(batch), width), dtype=torch.long)
        owner = torch.empty((len(batch), width), dtype=torch.long)
        segment = torch.zeros((len(batch), width), dtype=torch.long)
        reads: list[tuple[int, int, int, int]] = []  # (row, column, target, read number)
        for r, row in enumerate(rows[i] for i in batch):
            row_ids, row_pos, row_owner, row_segment = _layout(units, row, shared)
            n = len(row_ids)
            ids[r, :n] = torch.tensor(row_ids)
            pos[r, :n] = torch.tensor(row_pos)
            owner[r, :n] = torch.tensor(row_owner)
            owner[r, n:] = -1 - torch.arange(width - n)  # padding: each position a unit of its own
            segment[r, :n] = torch.tensor(row_segment)
            at = 0
            for u in row:
                reads.extend((r, at + i, target, first_read[u] + k) for k, (i, target, _) in enumerate(units[u].reads))
                at += len(units[u])
        engine._count_pass(len(batch), width, sum(sizes[r] for r in batch))
        mask = tree_mask(owner, segment)[:, None]
        cache = None
        if prefix is not None:
            cache = copy.deepcopy(prefix) if len(batches) > 1 else prefix
            cache.batch_select_indices(torch.zeros(len(batch), dtype=torch.long, device=device))
            mask = torch.cat([torch.ones((len(batch), 1, width, shared), dtype=torch.bool), mask], dim=3)
        hidden = decoder(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=pos.to(device),
            **cache_kwargs(decoder, cache),
            use_cache=cache is not None,
        ).last_hidden_state
        where = torch.tensor(reads, dtype=torch.long, device=device)
        for begin in range(0, len(reads), HEAD_ROWS):
            part = where[begin : begin + HEAD_ROWS]
            logits = unembed(hidden[part[:, 0], part[:, 1]]).float()
            target = part[:, 2]
            # The target's logit minus the log normaliser: no full log-softmax is written.
            logprob[part[:, 3]] = (logits.gather(1, target[:, None]).squeeze(1) - torch.logsumexp(logits, -1)).double()
            hit[part[:, 3]] = logits.argmax(-1) == target
    return logprob, hit
