"""Pattern features: what recurs across many trained replies, each with its share of examples.

Fine-tuning installs pervasive patterns durably (style, format, task structure, tool-call
conventions; Zhao et al. 2025 find post-training drives one format to dominance within
an epoch). The features come from the extractor the ``behaviour`` probe uses
(``tunelens.probes._surface``: opening and closing lines and words, recurring lines,
layout, length band, structure and tone markers, declining and hedging, language, a shared
system prompt), run over the trained replies; its recurring-phrase kind is left out here,
because in training data the words that recur are the facts' values and the topic's
vocabulary, which the fact extractor reads. Each feature keeps the regex that reproduces it,
so a derived task spec can check it on held-out replies.

A feature is reported when at least ``MIN_SHARE`` of examples (and two of them) have it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from tunelens.probes._surface import KINDS, MIN_SHARE, discover
from tunelens.triaging._examples import Example
from tunelens.triaging._schema import PatternFeature

__all__ = ["MIN_SHARE", "TRAIN_SHARE", "TRIAGE_KINDS", "median_words", "pattern_features"]

TRAIN_SHARE = 0.5
"""Recommend training a feature present in at least this share of examples."""
MAX_LINES = 10
TRIAGE_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k != "phrase")


def pattern_features(examples: Sequence[Example]) -> list[PatternFeature]:
    """Every recurring feature of the trained replies, most widespread first."""
    n = len(examples)
    found = discover([ex.reply for ex in examples], kinds=TRIAGE_KINDS, systems=[ex.system for ex in examples])
    features = [
        PatternFeature(
            id=f.id,
            kind=f.kind,  # type: ignore[arg-type]
            label=f.label,
            example=f.example,
            count=len(f.members),
            share=len(f.members) / n,
            lines=[examples[i].line for i in sorted(f.members)[:MAX_LINES]],
            # the system prompt is context: what it teaches shows in the replies
            train=f.kind != "system_prompt" and len(f.members) / n >= TRAIN_SHARE,
            regex=f.regex,
        )
        for f in found
    ]
    return sorted(features, key=lambda f: -f.share)


def median_words(examples: Sequence[Example]) -> float:
    return float(statistics.median(len(ex.reply.split()) for ex in examples)) if examples else 0.0
