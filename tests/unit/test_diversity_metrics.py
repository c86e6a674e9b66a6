"""Diversity statistics on examples computed by hand: entropy, dominant share, distinct-n,
BLEU (clipping, smoothing, brevity penalty), self-BLEU and pairwise cosine distance."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from tunelens.probes._diversity_metrics import (
    bleu,
    distinct_n,
    dominant_share,
    entropy_bits,
    mean_pairwise_cosine_distance,
    self_bleu,
    words,
)
from tunelens.probes.diversity import describe_distribution


def test_entropy_in_bits() -> None:
    assert entropy_bits(["a", "a", "a", "a"]) == 0.0
    assert entropy_bits(["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert entropy_bits(["a", "b", "c", "d"]) == pytest.approx(2.0)
    # -(3/4 log2 3/4 + 1/4 log2 1/4)
    assert entropy_bits(["a", "a", "a", "b"]) == pytest.approx(0.811278, abs=1e-6)
    assert entropy_bits([]) == 0.0


def test_dominant_share() -> None:
    assert dominant_share(["x", "y", "x", "x"]) == 0.75
    assert dominant_share(["x", "y"]) == 0.5
    assert dominant_share([]) == 0.0


def test_words_split_punctuation_and_lower_case() -> None:
    assert words("Hello, World!") == ["hello", ",", "world", "!"]


def test_distinct_n_pools_ngrams_within_texts() -> None:
    texts = ["a b a", "a b c"]
    assert distinct_n(texts, 1) == 3 / 6  # a, b, c out of six words
    assert distinct_n(texts, 2) == 3 / 4  # (a b) twice, (b a), (b c); no pair across texts
    assert distinct_n(["same words", "same words"], 2) == 0.5
    assert distinct_n(["", "one"], 2) == 0.0  # no pair at all


def test_bleu_partial_match() -> None:
    # p1 = 3/4; smoothed p2 = (2+1)/(3+1), p3 = (1+1)/(2+1), p4 = (0+1)/(1+1); equal lengths.
    expected = (3 / 4 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert bleu(words("a b c d"), [words("a b c e")]) == pytest.approx(expected)
    assert expected == pytest.approx(0.658037, abs=1e-6)


def test_bleu_clips_repeated_words() -> None:
    # 'the' counts once, as often as in the reference: p1 = 1/4.
    expected = (1 / 4 * 1 / 4 * 1 / 3 * 1 / 2) ** 0.25
    assert bleu(words("the the the the"), [words("the cat")]) == pytest.approx(expected)


def test_bleu_brevity_penalty_uses_the_closest_reference() -> None:
    assert bleu(words("a b"), [words("a b c d")]) == pytest.approx(math.exp(1 - 4 / 2))
    # References of 3 and 5 words are equally close to 4: the shorter wins, so no penalty.
    assert bleu(words("a b c d"), [words("a b c"), words("a b c d e")]) == pytest.approx(1.0)


def test_bleu_without_any_match_or_hypothesis_is_zero() -> None:
    assert bleu(words("x y z"), [words("a b c")]) == 0.0
    assert bleu([], [words("a b c")]) == 0.0


def test_self_bleu() -> None:
    assert self_bleu(["the cat sat", "the cat sat", "the cat sat"]) == pytest.approx(1.0)
    assert self_bleu(["red green", "blue yellow"]) == 0.0
    assert self_bleu(["a b c d", "a b c e"]) == pytest.approx((3 / 4 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)
    with pytest.raises(ValueError):
        self_bleu(["alone"])


def test_mean_pairwise_cosine_distance() -> None:
    assert mean_pairwise_cosine_distance(np.eye(3)) == pytest.approx(1.0)
    assert mean_pairwise_cosine_distance(np.array([[2.0, 0.0], [5.0, 0.0]])) == pytest.approx(0.0)
    assert mean_pairwise_cosine_distance(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(2.0)
    three = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert mean_pairwise_cosine_distance(three) == pytest.approx((1 + 2 * (1 - math.sqrt(0.5))) / 3)
    with pytest.raises(ValueError):
        mean_pairwise_cosine_distance(np.eye(2)[:1])


def test_describe_distribution() -> None:
    text = describe_distribution(Counter({"prose": 2, "numbered_list": 1, "one_line": 1}))
    assert text == "prose 50%, numbered list 25%, one line 25% (entropy 1.50 bits; dominant: prose, 50%)"


def test_probe_sees_a_collapse_in_hand_made_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's wiring without a model: varied base samples, tuned ones all numbered lists."""
    from tunelens.probes import ProbeContext
    from tunelens.probes.diversity import DiversityConfig, diversity

    varied = ["1. tea\n2. cake", "It is fine.", "A first line of prose.\nAnd a second.", "- socks\n- boots"]
    collapsed = ["1. tea\n2. cake", "1. rest\n2. read", "1. tea\n2. cake", "1. walk\n2. swim"]

    def fake_samples(ctx, prompts, cfg):  # type: ignore[no-untyped-def]
        return {"base": [varied] * len(prompts), "tuned": [collapsed] * len(prompts)}

    monkeypatch.setattr("tunelens.probes.diversity.sample_replies", fake_samples)
    monkeypatch.setattr("tunelens.probes.diversity.load_embedder", lambda: None)
    result = diversity(ProbeContext(None, None), DiversityConfig(n_prompts=8, samples_per_prompt=4))  # type: ignore[arg-type]
    metrics = {m.name: m for m in result.metrics}
    assert (metrics["format_entropy"].base, metrics["format_entropy"].tuned) == (2.0, 0.0)
    assert (metrics["dominant_format_share"].base, metrics["dominant_format_share"].tuned) == (0.25, 1.0)
    assert metrics["self_bleu"].tuned > metrics["self_bleu"].base
    assert metrics["distinct_1"].tuned < metrics["distinct_1"].base
    assert all(m.n == 8 for m in metrics.values())
    (plot,) = result.plots
    shares = {s.name: dict(zip(s.x, s.y)) for s in plot.series}
    assert shares["tuned"] == {"prose": 0.0, "one line": 0.0, "numbered list": 1.0, "bullet list": 0.0}
    assert shares["base"]["bullet list"] == 0.25
    assert any("32 tuned samples: numbered list 100%" in n for n in result.notes)
    item = result.items[0]
    assert item.tuned_output == "[1: numbered list]\n1. tea\n2. cake\n\n[2: numbered list]\n1. rest\n2. read"
    assert item.extra["base_formats"] == ["numbered_list", "one_line", "prose", "bullet_list"]
