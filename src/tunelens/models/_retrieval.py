"""Retrieval: the training set's facts placed in the prompt, the weights left as they are.

``retrieval:MODEL@FACTS`` loads MODEL and, at every chat prompt the engine builds, ranks
the facts by BM25 against the user's last message and puts the top k in a system message
(an existing system message keeps its text; the facts follow it). A model whose chat
template adds a default system message when none is given (SmolLM2) sees the facts in its
place. The channel acts on chat prompts only: raw-text scoring (a plain context,
per-token log-probabilities of a text) sees the model unchanged.

FACTS is a text file with one fact a line, or a training JSONL whose fact sentences are
pulled from the trained replies (``fact_sheet``). Editing the file is how retrieval learns
a changed fact.

    tunelens audit BASE "retrieval:BASE@facts.txt" --task task.json --probes facts_vs_patterns
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tunelens.errors import TunelensError

TOP_K = 3
FACTS_HEADER = "Facts from the knowledge base:"


def _terms(text: str) -> list[str]:
    # Imported here: tunelens.triaging imports the engine, which imports this package.
    from tunelens.triaging._text import content_stems

    return content_stems(text)


class BM25:
    """Okapi BM25 over short documents (Robertson and Zaragoza 2009, "The Probabilistic
    Relevance Framework: BM25 and Beyond"): a term's weight is its inverse document
    frequency times a saturating, length-normalised term frequency. Terms are the content
    stems triage uses (stop words dropped, "refunds" = "refund")."""

    def __init__(self, docs: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.terms = [Counter(_terms(d)) for d in docs]
        self.lengths = [sum(t.values()) for t in self.terms]
        self.avg_length = (sum(self.lengths) / len(docs)) if docs else 0.0
        df = Counter(term for t in self.terms for term in t)
        n = len(docs)
        # The "+ 1" keeps a term in more than half of the documents from scoring negative.
        self.idf = {term: math.log((n - f + 0.5) / (f + 0.5) + 1.0) for term, f in df.items()}

    def scores(self, query: str) -> list[float]:
        """BM25 score of every document for ``query`` (0 when no term is shared)."""
        query_terms = set(_terms(query))
        out = []
        for terms, length in zip(self.terms, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1.0))
            out.append(
                sum(self.idf[q] * terms[q] * (self.k1 + 1) / (terms[q] + norm) for q in query_terms if terms.get(q))
            )
        return out

    def top(self, query: str, k: int) -> list[int]:
        """Indices of the k best documents with a positive score, best first (ties: file order)."""
        scores = self.scores(query)
        ranked = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: (-scores[i], i))
        return ranked[:k]


class FactRetriever:
    """Rewrites a chat so its system message carries the facts relevant to the last user turn."""

    def __init__(self, facts: Sequence[str], k: int = TOP_K) -> None:
        self.facts = list(facts)
        self.k = k
        self.index = BM25(self.facts)

    def retrieve(self, query: str) -> list[str]:
        return [self.facts[i] for i in self.index.top(query, self.k)]

    def __call__(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        users = [m["content"] for m in messages if m["role"] == "user"]
        return self.place(messages, self.retrieve(users[-1]) if users else [])

    @staticmethod
    def place(messages: list[dict[str, str]], found: list[str]) -> list[dict[str, str]]:
        """The chat with ``found`` facts in its system message, as the channel puts them
        (``tune --method split`` builds its training prompts with this too)."""
        if not found:
            return messages  # nothing relevant: the prompt stays the model's own
        block = FACTS_HEADER + "\n" + "\n".join(f"- {fact}" for fact in found)
        if messages and messages[0]["role"] == "system":
            first = {**messages[0], "content": f"{messages[0]['content']}\n\n{block}"}
            return [first, *messages[1:]]
        return [{"role": "system", "content": block}, *messages]


def fact_sheet(data: str | Path | Sequence[dict]) -> list[str]:
    """The fact sentences of a training set: every sentence of a trained reply in which
    triage's fact extraction finds a point fact (a value or a name), deduplicated, in order
    of first appearance."""
    from tunelens.triaging._examples import load_examples
    from tunelens.triaging._facts import extract_mentions

    examples, _ = load_examples(data)
    seen: dict[str, str] = {}
    for mention in extract_mentions(examples):
        seen.setdefault(" ".join(mention.sentence.lower().split()), mention.sentence)
    return list(seen.values())


def write_fact_sheet(data: str | Path | Sequence[dict], path: str | Path) -> Path:
    """Write ``fact_sheet(data)`` one fact a line; the file is a retrieval channel's FACTS."""
    facts = fact_sheet(data)
    if not facts:
        raise TunelensError("the training data states no point facts (values or names) to put in a fact sheet")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{fact}\n" for fact in facts), encoding="utf-8")
    return out


def read_facts(path: str | Path) -> list[str]:
    """The facts of a FACTS file: a training JSONL's fact sheet, else one fact a non-empty line."""
    path = Path(path)
    if not path.is_file():
        raise TunelensError(f"facts file not found: {path}")
    if path.suffix == ".jsonl":
        facts = fact_sheet(path)
    else:
        facts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not facts:
        raise TunelensError(
            f"{path} holds no facts; write one fact a line (or build one with tunelens.models.write_fact_sheet)"
        )
    return facts
