"""The sampling step of generation without a model: top-p keeps the smallest nucleus,
seeded inverse-CDF draws follow the distribution, never hit a zero-probability token and
do not depend on the other rows of the batch."""

from __future__ import annotations

import pytest
import torch

from tunelens.engine import Sampling
from tunelens.engine._generate import _pick, _top_p


def test_top_p_keeps_the_smallest_set_reaching_the_mass() -> None:
    probs = torch.tensor([[0.05, 0.5, 0.15, 0.3]])
    assert torch.allclose(_top_p(probs, 0.79), torch.tensor([[0.0, 0.5, 0.0, 0.3]]))  # 0.5 + 0.3 reaches 0.79
    assert _top_p(probs, 0.81)[0, 2].item() == pytest.approx(0.15)
    assert _top_p(probs, 0.81)[0, 0].item() == 0.0


def test_top_p_sorts_the_whole_row_only_when_the_nucleus_is_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(3, 50), dim=-1)
    full = _top_p(probs, 0.9)  # 50 candidates: the whole row
    monkeypatch.setattr("tunelens.engine._generate.NUCLEUS_CANDIDATES", 4)
    assert torch.allclose(_top_p(probs, 0.9), full)
    assert (full > 0).sum(-1).min() > 4  # the nucleus really was wider than the candidates


def test_seeded_draws_follow_the_distribution_and_skip_zero_probabilities() -> None:
    logits = torch.log(torch.tensor([[0.0, 0.7, 0.0, 0.3]]))
    gen = torch.Generator().manual_seed(1)
    picks = [int(_pick(logits, Sampling(temperature=1.0), [gen])[0]) for _ in range(2000)]
    assert set(picks) == {1, 3}
    assert picks.count(1) / len(picks) == pytest.approx(0.7, abs=0.04)


def test_a_rows_draw_does_not_depend_on_its_batch() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 100)
    sampling = Sampling(temperature=1.0, top_p=0.9)

    def gens() -> list[torch.Generator]:
        return [torch.Generator().manual_seed(s) for s in (7, 8, 9)]

    together = _pick(logits, sampling, gens())
    alone = torch.cat([_pick(logits[r : r + 1], sampling, [gens()[r]]) for r in range(3)])
    assert together.tolist() == alone.tolist()
    assert _pick(logits, Sampling(), gens()).tolist() == logits.argmax(-1).tolist()  # temperature 0: greedy
