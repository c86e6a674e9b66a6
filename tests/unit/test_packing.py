"""Packing scoring requests into rows (engine/_packed): units, rows and the tree mask."""

from __future__ import annotations

import torch

from tunelens.engine._packed import Unit, _layout, _rows, context_unit, text_unit, tree_mask


def test_a_context_unit_reads_each_continuation_from_its_own_branch() -> None:
    unit = context_unit([5, 6, 7], {0: [10], 1: [11, 12, 13], 2: [11, 12, 13], 3: [11, 14]})
    # trunk 5 6 7; branch [11, 12] for requests 1 and 2 (the same continuation); branch [11] for 3
    assert unit.tokens == [5, 6, 7, 11, 12, 11] and unit.trunk == 3
    assert unit.branches == [(3, 5), (5, 6)]
    by_request: dict[int, list[tuple[int, int]]] = {}
    for index, target, request in unit.reads:
        by_request.setdefault(request, []).append((index, target))
    assert by_request[0] == [(2, 10)]  # a one-token continuation: read at the context's end only
    assert by_request[1] == by_request[2] == [(2, 11), (3, 12), (4, 13)]
    assert by_request[3] == [(2, 11), (5, 14)]


def test_a_text_unit_reads_every_next_token() -> None:
    unit = text_unit([1, 2, 3, 4], 7)
    assert unit.reads == [(0, 2, 7), (1, 3, 7), (2, 4, 7)] and unit.branches == []


def test_rows_hold_every_unit_once_within_the_width() -> None:
    sizes = [300, 120, 100, 90, 60, 40, 30, 5, 5, 1]
    units = [Unit(tokens=[0] * n, trunk=n) for n in sizes]
    rows = _rows(units, 128)
    assert sorted(u for row in rows for u in row) == list(range(len(units)))
    for row in rows:
        assert len(row) == 1 or sum(sizes[u] for u in row) <= 128
    assert len(rows) == 5  # 300 | 120+5+1 | 100+5 | 90+30 | 60+40 (best fit, largest first)


def test_the_tree_mask_sees_ancestors_only() -> None:
    a = context_unit([1, 2], {0: [3, 4, 5], 1: [6, 7]})  # trunk 1 2, branches [3 4] and [6]
    b = text_unit([8, 9], 2)
    ids, pos, owner, segment = _layout([a, b], [0, 1], offset=10)
    assert ids == [1, 2, 3, 4, 6, 8, 9]
    assert pos == [10, 11, 12, 13, 12, 10, 11]  # each branch continues from the trunk
    mask = tree_mask(torch.tensor([owner]), torch.tensor([segment]))[0]
    sees = {i: [j for j in range(len(ids)) if mask[i, j]] for i in range(len(ids))}
    assert sees == {0: [0], 1: [0, 1], 2: [0, 1, 2], 3: [0, 1, 2, 3], 4: [0, 1, 4], 5: [5], 6: [5, 6]}


def _engine_with(**config):
    from types import SimpleNamespace

    settings = {"_attn_implementation": "sdpa", "layer_types": ["full_attention"] * 2, **config}
    model = SimpleNamespace(
        config=SimpleNamespace(**settings), get_decoder=lambda: object(), get_output_embeddings=lambda: object()
    )
    return SimpleNamespace(model=model)


def test_packing_needs_custom_masks_full_attention_and_plain_logits() -> None:
    from tunelens.engine._packed import packs

    assert packs(_engine_with())
    assert packs(_engine_with(_attn_implementation="eager"))
    assert not packs(_engine_with(_attn_implementation="flash_attention_2"))  # takes no 4D mask
    assert not packs(_engine_with(layer_types=["sliding_attention", "full_attention"]))
    assert not packs(_engine_with(final_logit_softcapping=30.0))
    assert not packs(_engine_with(logit_scale=0.0625))
    assert packs(_engine_with(logits_scaling=1.0))
    proxy = _engine_with()
    del proxy.model.get_decoder  # a module without a decoder of its own (proxy-tuning)
    assert not packs(proxy)


def test_decoder_and_unembedding_only_where_the_logits_are_the_unembedding() -> None:
    from tunelens.models import decoder_and_unembedding

    plain = _engine_with().model
    assert decoder_and_unembedding(plain) is not None
    assert decoder_and_unembedding(_engine_with(final_logit_softcapping=30.0).model) is None
    assert decoder_and_unembedding(_engine_with(logits_scaling=1.0).model) is not None
    itself = _engine_with().model
    itself.get_decoder = lambda: itself  # a decoder is not the whole model
    assert decoder_and_unembedding(itself) is None
