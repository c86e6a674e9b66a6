"""Diversity statistics over a set of sampled replies, for the ``diversity`` probe.

All of them take the replies one prompt produced (or their format labels, or their
embeddings) and return one number:

* format entropy (bits) and the dominant format's share, after Zhao et al. 2025 ("Echo
  Chamber: RL Post-training Amplifies Behaviors Learned in Pretraining");
* distinct-n: distinct n-grams over all n-grams of the replies (Li et al. 2016, "A
  Diversity-Promoting Objective Function for Neural Conversation Models");
* self-BLEU: the mean BLEU-4 of each reply against the others as references (Zhu et al.
  2018, "Texygen: A Benchmarking Platform for Text Generation Models"); higher means the
  replies repeat each other. BLEU is Papineni et al. 2002's, with the add-one smoothing of
  Lin & Och 2004 on 2- to 4-gram precisions, so short replies do not all score zero;
* mean pairwise cosine distance of sentence embeddings.

Words are lower-cased runs of letters and digits, and single punctuation marks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """The tokens distinct-n and BLEU count: lower-cased words and punctuation marks."""
    return _TOKEN.findall(text.lower())


def entropy_bits(labels: Sequence[str]) -> float:
    """Shannon entropy of the labels' distribution, in bits (0 when all agree)."""
    if not labels:
        return 0.0
    total = len(labels)
    return max(0.0, -sum(c / total * math.log2(c / total) for c in Counter(labels).values()))


def dominant_share(labels: Sequence[str]) -> float:
    """The share of the most common label."""
    return Counter(labels).most_common(1)[0][1] / len(labels) if labels else 0.0


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams / all n-grams, pooled over the texts (n-grams do not cross texts).
    Texts with no n-gram at all (empty replies) count as no diversity: 0."""
    grams = [g for t in texts for g in ngrams(words(t), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def bleu(hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4) -> float:
    """Sentence BLEU of a token list against reference token lists.

    Modified n-gram precision (a hypothesis n-gram counts at most as often as it appears in
    any one reference), geometric mean over n = 1..``max_n``, times the brevity penalty
    against the reference closest in length (the shorter on a tie). Precisions for n >= 2
    are add-one smoothed; with no unigram match, or an empty hypothesis, BLEU is 0."""
    if not hypothesis or not references:
        return 0.0
    log_sum = 0.0
    for n in range(1, max_n + 1):
        hyp = Counter(ngrams(hypothesis, n))
        most: Counter[tuple[str, ...]] = Counter()
        for ref in references:
            most |= Counter(ngrams(ref, n))
        matches = sum(min(c, most[g]) for g, c in hyp.items())
        total = sum(hyp.values())
        if n == 1:
            if matches == 0:
                return 0.0
            precision = matches / total
        else:
            precision = (matches + 1) / (total + 1)
        log_sum += math.log(precision)
    c = len(hypothesis)
    r = min((len(ref) for ref in references), key=lambda length: (abs(length - c), length))
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(log_sum / max_n)


def self_bleu(texts: Sequence[str], max_n: int = 4) -> float:
    """Mean BLEU of each text against all the others as references (Texygen's self-BLEU)."""
    if len(texts) < 2:
        raise ValueError("self-BLEU needs at least two texts")
    tokens = [words(t) for t in texts]
    scores = [bleu(tokens[i], tokens[:i] + tokens[i + 1 :], max_n) for i in range(len(tokens))]
    return sum(scores) / len(scores)


def mean_pairwise_cosine_distance(vectors: np.ndarray) -> float:
    """Mean of 1 - cos over all pairs of rows (rows need not be normalised; zero rows count as distance 1)."""
    if len(vectors) < 2:
        raise ValueError("pairwise distance needs at least two vectors")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors, dtype=float), where=norms > 0)
    distances = [1.0 - float(unit[i] @ unit[j]) for i, j in combinations(range(len(unit)), 2)]
    return sum(distances) / len(distances)
