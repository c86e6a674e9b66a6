"""Rule-based labels for the surface format of a reply, for the ``diversity`` probe.

Zhao et al. 2025 ("Echo Chamber: RL Post-training Amplifies Behaviors Learned in
Pretraining") label every sampled answer by its surface format with rules, and find that
post-training drives one format to dominance. These rules do the same for open chat
replies. Each reply gets exactly one label; the first rule that matches wins:

1. ``empty``: nothing but white space.
2. ``json``: the reply is a JSON object or array, or every fenced block in it holds one
   (so JSON inside a code fence is JSON, not code). A reply cut off by the token budget
   counts when it opens like JSON: ``{"key":``, ``[{`` or ``["``.
3. ``code``: a fenced block (```` ``` ```` or ``~~~``), closed or running to the end of a
   cut-off reply.
4. ``table``: a markdown table: a separator row (``|---|---|``) next to a row with a
   pipe, or three lines in a row that start and end with a pipe.
5. ``sections``: two or more headings: ``# Title`` lines, or lines wholly in bold
   (``**Title**``, optionally with a colon) that are not numbered items.
6. ``numbered_list``: two or more numbered items (``1.``, ``2)``, ``**3.``). Numbered
   items outrank bullets, because a numbered list often carries bullets under its items.
7. ``bullet_list``: two or more bullet items (``-``, ``*``, ``+`` or ``•`` and a space).
8. ``one_line``: a single line of at most ``ONE_LINE_WORDS`` words that is finished: it
   ends like a sentence (``.``, ``!``, ``?``, a closing quote or bracket) or is a short
   phrase of at most ``SHORT_PHRASE_WORDS`` words (a name, a number). A single line cut
   off by the token budget mid-sentence is the start of a paragraph: prose.
9. ``prose``: anything else.

Lines around a structure do not change its label: a numbered list after "Sure! Here are
some ideas:" is a numbered list. Replies cut off by the token budget are labelled by what
is there.
"""

from __future__ import annotations

import json
import re

EMPTY = "empty"
JSON = "json"
CODE = "code"
TABLE = "table"
SECTIONS = "sections"
NUMBERED_LIST = "numbered_list"
BULLET_LIST = "bullet_list"
ONE_LINE = "one_line"
PROSE = "prose"

FORMATS: tuple[str, ...] = (PROSE, ONE_LINE, NUMBERED_LIST, BULLET_LIST, SECTIONS, TABLE, CODE, JSON, EMPTY)
"""Every label, in the order plots list them (the common shapes of a chat reply first)."""

FORMAT_NAMES: dict[str, str] = {
    PROSE: "prose",
    ONE_LINE: "one line",
    NUMBERED_LIST: "numbered list",
    BULLET_LIST: "bullet list",
    SECTIONS: "headed sections",
    TABLE: "table",
    CODE: "code block",
    JSON: "JSON",
    EMPTY: "empty",
}

ONE_LINE_WORDS = 30
"""A single line longer than this is a paragraph of prose, not a one-line answer."""

SHORT_PHRASE_WORDS = 8
"""A single line this short is an answer even without a full stop ("Crumbs by the Sea")."""

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_JSON_OPENING = re.compile(r'^\s*(\{\s*"[^"\n]*"\s*:|\[\s*[\{"])')
_TABLE_SEPARATOR = re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+(\s*:?-{3,}:?)?\s*$")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_BOLD_HEADING = re.compile(r"^\s*\*\*(?!\s*\d+[.)])[^*\n]+\*\*:?\s*$")
_NUMBERED_ITEM = re.compile(r"^\s*(\*\*)?\d{1,3}[.)]\s+\S")
_BULLET_ITEM = re.compile(r"^\s*[-*+\u2022]\s+\S")
_FINISHED = re.compile(r"[.!?)\]\"'\u201d\u2019*`]$")


def fenced_blocks(text: str) -> list[str]:
    """The bodies of the fenced blocks in ``text``; an unclosed last block runs to the end."""
    blocks: list[str] = []
    body: list[str] | None = None
    for line in text.splitlines():
        if _FENCE.match(line):
            if body is None:
                body = []
            else:
                blocks.append("\n".join(body))
                body = None
        elif body is not None:
            body.append(line)
    if body is not None:
        blocks.append("\n".join(body))
    return blocks


def is_json_text(text: str) -> bool:
    """A JSON object or array, or (cut off) the opening of one."""
    stripped = text.strip()
    if not stripped:
        return False
    try:
        return isinstance(json.loads(stripped), (dict, list))
    except ValueError:
        return bool(_JSON_OPENING.match(stripped))


def _is_table(lines: list[str]) -> bool:
    for i, line in enumerate(lines):
        if _TABLE_SEPARATOR.match(line):
            neighbours = lines[max(0, i - 1) : i] + lines[i + 1 : i + 2]
            if any("|" in n for n in neighbours):
                return True
    run = 0
    for line in lines:
        s = line.strip()
        run = run + 1 if len(s) > 1 and s.startswith("|") and s.endswith("|") else 0
        if run >= 3:
            return True
    return False


def label_format(text: str) -> str:
    """The surface format of one reply: one of :data:`FORMATS` (precedence in the module docstring)."""
    stripped = text.strip()
    if not stripped:
        return EMPTY
    blocks = fenced_blocks(stripped)
    if is_json_text(stripped) or (blocks and all(is_json_text(b) for b in blocks)):
        return JSON
    if blocks:
        return CODE
    lines = [line for line in stripped.splitlines() if line.strip()]
    if _is_table(lines):
        return TABLE
    if sum(1 for line in lines if _ATX_HEADING.match(line) or _BOLD_HEADING.match(line)) >= 2:
        return SECTIONS
    if sum(1 for line in lines if _NUMBERED_ITEM.match(line)) >= 2:
        return NUMBERED_LIST
    if sum(1 for line in lines if _BULLET_ITEM.match(line)) >= 2:
        return BULLET_LIST
    n_words = len(stripped.split())
    finished = n_words <= SHORT_PHRASE_WORDS or bool(_FINISHED.search(stripped))
    if len(lines) == 1 and n_words <= ONE_LINE_WORDS and finished:
        return ONE_LINE
    return PROSE
