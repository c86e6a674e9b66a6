"""General English text for measuring perplexity drift after a fine-tune.

The text comes from the Python language reference topics that ship with
CPython (``pydoc_data.topics.topics``), so it is available offline and never
overlaps the tuning data this package generates.  It is technical but mostly
plain English prose, which is what a perplexity probe needs: if a fine-tune
makes ordinary explanatory text less likely, this slice shows it.

The held-out slice is fixed: every topic in sorted key order, with indented
blocks (code samples, grammar rules, tables) and heading underlines removed,
runs of spaces collapsed, cut into chunks that end at a sentence or line
boundary near ``chars_per_chunk``, keeping only chunks that are mostly letters
and spaces.  The seed then picks which chunks are returned.  The topics text
differs between CPython releases, so chunks are reproducible for a given
interpreter version.
"""

from __future__ import annotations

import random
import re
from pydoc_data.topics import topics

# Lines indented this much or more are code, grammar or tables in the topics text.
_CODE_INDENT = 3
# A chunk must be at least this share of letters and whitespace to count as prose.
MIN_PROSE_FRACTION = 0.6
# ...and at least this share of its tokens must be plain words.
MIN_WORD_FRACTION = 0.7
# Chunks may end anywhere between these fractions of the requested length.
_MIN_FRACTION = 0.5
_MAX_FRACTION = 1.5

_UNDERLINE = re.compile(r"^([*=\-~^\"'`#+])\1{2,}$")
_SPACES = re.compile(r"[ \t]+")
_WORD = re.compile(r"^[\"'(\u201c*]?[A-Za-z][A-Za-z'\u2019-]*[\"')\u201d*]?[.,;:!?]?[\"')\u201d]?$")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s)")


def _clean_topic(text: str) -> str:
    """Drop code blocks and heading underlines; collapse spaces; keep paragraphs."""
    lines: list[str] = []
    for raw in text.splitlines():
        indent = len(raw) - len(raw.lstrip(" "))
        line = _SPACES.sub(" ", raw).strip()
        if not line:
            if lines and lines[-1]:
                lines.append("")
            continue
        if indent >= _CODE_INDENT or _UNDERLINE.match(line):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def _boundaries(text: str) -> tuple[list[int], list[int]]:
    """Offsets just after sentence ends and paragraph breaks, and after any line end.

    Chunks prefer the first kind so they start and stop on whole sentences,
    and fall back to plain line ends only when no sentence end is in range.
    """
    strong = {match.end() for match in _SENTENCE_END.finditer(text)}
    strong.update(match.start() for match in re.finditer(r"\n\n", text))
    strong.add(len(text))
    weak = strong | {index for index, char in enumerate(text) if char == "\n"}
    return sorted(strong), sorted(weak)


def _pick_end(ends: list[int], start: int, low: int, target: int, high: int) -> int | None:
    """The last end within ``target`` characters of ``start``, else the first up to ``high``."""
    fitting = [end for end in ends if low <= end - start <= target]
    if fitting:
        return fitting[-1]
    longer = [end for end in ends if target < end - start <= high]
    return longer[0] if longer else None


def _cut(text: str, chars_per_chunk: int) -> list[str]:
    """Split one cleaned topic into chunks ending at boundaries near the target length."""
    low = int(chars_per_chunk * _MIN_FRACTION)
    high = int(chars_per_chunk * _MAX_FRACTION)
    strong, weak = _boundaries(text)
    chunks: list[str] = []
    start = 0
    while len(text) - start >= low:
        end = _pick_end(strong, start, low, chars_per_chunk, high)
        if end is None:
            end = _pick_end(weak, start, low, chars_per_chunk, high)
        if end is None:
            break
        chunks.append(text[start:end].strip())
        start = end
    return chunks


def is_prose(chunk: str) -> bool:
    """True when a chunk reads as English prose rather than code or a list of signatures.

    At least MIN_PROSE_FRACTION of the characters must be letters or
    whitespace, and at least MIN_WORD_FRACTION of the whitespace-separated
    tokens must be plain words (letters, optionally quoted or followed by
    punctuation), which rules out runs like ``object.__init__(self[, ...])``.
    """
    tokens = chunk.split()
    if not tokens:
        return False
    wordy = sum(1 for char in chunk if char.isalpha() or char.isspace())
    words = sum(1 for token in tokens if _WORD.match(token))
    return wordy / len(chunk) >= MIN_PROSE_FRACTION and words / len(tokens) >= MIN_WORD_FRACTION


def all_general_chunks(chars_per_chunk: int = 800) -> list[str]:
    """Every prose chunk of the held-out slice, in topic-key order."""
    if chars_per_chunk < 50:
        raise ValueError(f"chars_per_chunk must be at least 50, got {chars_per_chunk}")
    chunks: list[str] = []
    for key in sorted(topics):
        chunks.extend(chunk for chunk in _cut(_clean_topic(topics[key]), chars_per_chunk) if is_prose(chunk))
    return chunks


def general_text_chunks(n_chunks: int = 16, chars_per_chunk: int = 800, seed: int = 0) -> list[str]:
    """Pick ``n_chunks`` distinct prose chunks of about ``chars_per_chunk`` characters.

    The chunks are the first ``n_chunks`` of the distinct chunks in an order shuffled
    with ``random.Random(seed)``, returned in their order within the slice: the same
    arguments always give the same list, and a smaller ``n_chunks`` gives a subset of a
    larger one's, so a quick audit scores some of the standard one's text and text held
    out from the larger set is held out from the smaller. Raises ValueError when the
    slice holds fewer distinct chunks than asked.
    """
    if n_chunks < 1:
        raise ValueError(f"n_chunks must be at least 1, got {n_chunks}")
    chunks = list(dict.fromkeys(all_general_chunks(chars_per_chunk)))  # a few topics repeat a paragraph
    if n_chunks > len(chunks):
        raise ValueError(
            f"asked for {n_chunks} chunks of {chars_per_chunk} characters but the "
            f"general-text slice only has {len(chunks)} distinct ones; ask for fewer or shorter chunks"
        )
    order = list(range(len(chunks)))
    random.Random(seed).shuffle(order)
    return [chunks[index] for index in sorted(order[:n_chunks])]
