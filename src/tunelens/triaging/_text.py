"""Plain-text helpers for triage: words and crude stems, prose without markup, sentences.

Stems only need to make the forms of one word in one data set meet ("refunds" and
"refund", "renewed" and "renew", "closing" and "closed"), so a few suffix rules do; no
dictionary is involved and nothing is downloaded.
"""

from __future__ import annotations

import re

from tunelens.probes._surface import STOPWORDS, WORD_RE, words

__all__ = ["STOPWORDS", "WORD_RE", "content_stems", "prose", "sentences", "stem", "words"]

_FENCE = re.compile(r"^[ \t]*(```|~~~).*?(^[ \t]*\1[^\n]*$|\Z)", re.M | re.S)
_TOOL_TAG = re.compile(r"<(tool_call|function_call|tool|function)[^>]*>.*?(</\1>|\Z)", re.S)
_JSON_LINE = re.compile(r"^[ \t]*[\[{].*[\]}][ \t]*$", re.M)
_LIST_MARKER = re.compile(r"^[ \t]*(?:\d{1,3}[.)]|[-*+\u2022]|#{1,6})[ \t]+", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+|\n+")
_ABBREVIATION = re.compile(r"(?i)\b(?:a\.m|p\.m|e\.g|i\.e|etc|ext|no|vs|approx|mr|mrs|ms|dr|st)\.$")


def stem(word: str) -> str:
    """A crude stem: lower case, possessive and common suffixes off, a final 'e' off."""
    w = word.lower().replace("\u2019", "'")
    w = re.sub(r"'s?$", "", w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def content_stems(text: str) -> list[str]:
    """Stems of the words of ``text`` that carry meaning (no stop words, at least three letters)."""
    return [stem(w) for w in words(text) if len(w) >= 3 and w.lower() not in STOPWORDS]


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def prose(text: str) -> str:
    """``text`` with code blocks, tool calls, JSON lines and list markers blanked out.

    The result has the same length as ``text``, so positions found in it are positions in
    ``text``: values in a tool call or a code sample are conventions, not claims.
    """
    for pattern in (_FENCE, _TOOL_TAG, _JSON_LINE, _LIST_MARKER):
        text = pattern.sub(_blank, text)
    return text.replace("**", "  ").replace("__", "  ")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of ``text``, white space trimmed."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if "\n" not in m.group(0) and _ABBREVIATION.search(text, 0, m.start()):
            continue  # "6 a.m. to 10 p.m." is one sentence
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        piece = text[a:b]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((a + lead, a + len(piece.rstrip())))
    return out
