"""Needle-in-a-haystack instances and the retrieval-head copy score (Wu et al. 2024).

A needle is one sentence stating an invented fact ("The secret ingredient in Marta's
stew is smoked fennel."), inserted at a sentence boundary at depth d of a haystack of
about L tokens cut from general English text; the question asks for the fact. Everything
is drawn from a seed, so base and tuned models see the same instances.

The copy score of a head on one instance: at each generated step take the head's most
attended position of the last query; the head copies when that position lies in the
needle span and holds the token generated at that step. The score is the share of
needle tokens the head copied (each counted once).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tunelens.data import general_text_chunks
from tunelens.engine import Engine

NAMES = (
    "Marta",
    "Tobias",
    "Ingrid",
    "Rafael",
    "Yuki",
    "Amara",
    "Dmitri",
    "Leila",
    "Oskar",
    "Priya",
    "Henrik",
    "Zanele",
)
ADJECTIVES = ("smoked", "crimson", "silver", "frozen", "golden", "bitter", "velvet", "amber", "copper", "misty", "wild")
# (needle template, question template, nouns that complete the value)
TEMPLATES = (
    (
        "The secret ingredient in {name}'s {dish} is {value}.",
        "What is the secret ingredient in {name}'s {dish}?",
        ("fennel", "paprika", "saffron", "cardamom", "seaweed", "ginger", "tamarind", "sorrel"),
    ),
    (
        "The password to {name}'s {place} is {value}.",
        "What is the password to {name}'s {place}?",
        ("pelican", "lantern", "harbor", "thistle", "comet", "walrus", "orchard", "falcon"),
    ),
    (
        "{name} hid the spare key inside the {value}.",
        "Where did {name} hide the spare key?",
        ("teapot", "boot", "birdhouse", "piano", "drawer", "flowerpot", "clock", "suitcase"),
    ),
    (
        "{name}'s favourite {thing} is the {value}.",
        "What is {name}'s favourite {thing}?",
        ("tulip", "violin", "mountain", "river", "kite", "lighthouse", "carousel", "meteor"),
    ),
)
DISHES = ("stew", "soup", "curry", "pie", "salad", "bread")
PLACES = ("garage", "attic", "boathouse", "workshop", "cellar", "greenhouse")
THINGS = ("painting", "song", "postcard", "photograph", "poem", "sculpture")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class NeedleInstance:
    """One prompt: haystack with needle, the question, and where the needle's tokens are."""

    id: str
    length: int  # haystack tokens asked for
    depth: float  # needle position as a fraction of the haystack
    needle: str
    question: str
    answer: str  # the invented value the reply must contain
    prompt: str
    prompt_ids: tuple[int, ...]
    needle_span: tuple[int, int]  # token positions [start, end) of the needle in prompt_ids


def rouge1_recall(reference: str, candidate: str) -> float:
    """ROUGE-1 recall (Lin 2004): share of the reference's words found in the candidate."""
    ref = _ROUGE_TOKEN.findall(reference.lower())
    if not ref:
        return 0.0
    pool: dict[str, int] = {}
    for word in _ROUGE_TOKEN.findall(candidate.lower()):
        pool[word] = pool.get(word, 0) + 1
    hits = 0
    for word in ref:
        if pool.get(word, 0) > 0:
            pool[word] -= 1
            hits += 1
    return hits / len(ref)


def _needle(rng: random.Random) -> tuple[str, str, str]:
    template, question, nouns = rng.choice(TEMPLATES)
    value = f"{rng.choice(ADJECTIVES)} {rng.choice(nouns)}"
    fill = dict(name=rng.choice(NAMES), dish=rng.choice(DISHES), place=rng.choice(PLACES), thing=rng.choice(THINGS))
    return template.format(value=value, **fill), question.format(**fill), value


def _sentence_pool(engine: Engine, needed_tokens: int, seed: int) -> list[tuple[str, int]]:
    """Sentences of general text with their token counts, enough for the longest haystack."""
    pool: list[tuple[str, int]] = []
    n_chunks = 8
    while sum(n for _, n in pool) < 2 * needed_tokens:
        pool = []
        for chunk in general_text_chunks(n_chunks, 800, seed=seed):
            for sentence in _SENTENCE.split(chunk.replace("\n", " ")):
                if sentence.strip():
                    pool.append((sentence.strip(), len(engine.encode_continuation(" " + sentence.strip()))))
        n_chunks *= 2
    return pool


def _haystack(pool: list[tuple[str, int]], start: int, length: int) -> list[tuple[str, int]]:
    out, total, i = [], 0, start
    while total < length:
        sentence, n = pool[i % len(pool)]
        out.append((sentence, n))
        total += n
        i += 1
    return out


def build_prompt(engine: Engine, context: str, question: str) -> str:
    """The chat prompt for one instance: the document, then the question, answered in a sentence."""
    return engine.chat_prompt(f"{context}\n\nBased on the text above, answer the question in one sentence.\n{question}")


def _span(engine: Engine, prompt: str, needle: str) -> tuple[tuple[int, ...], tuple[int, int]]:
    """Prompt token ids (as Engine.encode makes them) and the token span covering the needle."""
    bos = getattr(engine.tokenizer, "bos_token", None)
    encoded = engine.tokenizer(
        prompt, add_special_tokens=not (bos and prompt.startswith(bos)), return_offsets_mapping=True
    )
    ids, offsets = list(encoded["input_ids"]), encoded["offset_mapping"]
    lo = prompt.index(needle)
    hi = lo + len(needle)
    inside = [i for i, (a, b) in enumerate(offsets) if b > lo and a < hi and b > a]
    return tuple(ids), (inside[0], inside[-1] + 1)


def needle_instances(
    engine: Engine, lengths: Sequence[int], depths: Sequence[float], per_cell: int, seed: int
) -> list[NeedleInstance]:
    """``per_cell`` instances for every (length, depth), each with its own needle and haystack.

    No needle sentence is drawn twice (a repeat is drawn again; there are over 20,000), so
    a larger budget adds new items rather than copies."""
    rng = random.Random(seed)
    pool = _sentence_pool(engine, max(lengths), seed)
    instances = []
    seen: set[str] = set()
    for length in lengths:
        for depth in depths:
            for k in range(per_cell):
                needle, question, value = _needle(rng)
                while needle in seen:
                    needle, question, value = _needle(rng)
                seen.add(needle)
                sentences = _haystack(pool, rng.randrange(len(pool)), length)
                cumulative = np.cumsum([0] + [n for _, n in sentences])
                at = int(np.argmin(np.abs(cumulative - depth * cumulative[-1])))
                text = " ".join([s for s, _ in sentences[:at]] + [needle] + [s for s, _ in sentences[at:]])
                prompt = build_prompt(engine, text, question)
                ids, span = _span(engine, prompt, needle)
                instances.append(
                    NeedleInstance(
                        f"L{length}-d{depth:g}-{k}", length, depth, needle, question, value, prompt, ids, span
                    )
                )
    return instances


def copy_scores(
    argmax: np.ndarray, context_ids: Sequence[int], answer_ids: Sequence[int], span: tuple[int, int]
) -> np.ndarray:
    """Per-head share of needle tokens copied, from argmax positions of shape (layers, heads, steps).

    ``argmax[l, h, t]`` is where head (l, h) looked most when generating ``answer_ids[t]``;
    ``context_ids`` must cover every such position (prompt + answer so far).
    """
    start, end = span
    layers, heads, steps = argmax.shape
    tokens = np.asarray(context_ids, dtype=np.int64)
    answer = np.asarray(answer_ids[:steps], dtype=np.int64)
    inside = (argmax >= start) & (argmax < end)
    looked_up = tokens[np.clip(argmax, 0, len(tokens) - 1)]
    copies = inside & (looked_up == answer[None, None, :])
    scores = np.zeros((layers, heads))
    for layer in range(layers):
        for head in range(heads):
            scores[layer, head] = len(set(argmax[layer, head, copies[layer, head]].tolist())) / (end - start)
    return scores


def one_pass_argmax(model: object, prompt_ids: Sequence[int], answer_ids: Sequence[int]) -> np.ndarray:
    """Argmax positions (layers, heads, steps) of every generation step, from one teacher-forced pass.

    The query that produced ``answer_ids[t]`` sits at position len(prompt) - 1 + t and sees
    exactly what it saw during decoding, so this equals step-by-step greedy decoding.
    """
    from tunelens.engine._attention import attention_argmax

    context = list(prompt_ids) + list(answer_ids[:-1])
    queries = [len(prompt_ids) - 1 + t for t in range(len(answer_ids))]
    return attention_argmax(model, context, queries)
