"""Surface features of replies, discovered from the replies themselves: one extractor for
``triage`` (what recurs in the trained replies) and the ``behaviour`` probe (how the replies
of two models to the same prompts differ).

Nothing is listed in advance except the *kinds* of feature; the features themselves come
from the replies given (for ``behaviour``, both models' replies pooled, so no feature is
chosen for having changed). Every feature is a rule a person can check by eye, and every
one carries a ``test`` that decides it on any reply and a ``regex`` (``re.search`` with
``re.MULTILINE``) that reproduces it for a task spec — exactly for lines, phrases and
markers, approximately for a layout (``''`` where no regex can say it: prose, a language):

* ``opening_line`` / ``closing_line``: the first or last non-blank line, digits masked
  ("Order #123 shipped" = "Order #456 shipped") and case folded;
* ``opening_words`` / ``closing_words``: the first or last two to five words of that line,
  when they recur more often than any whole line they belong to;
* ``recurring_line``: a line inside the reply (list marker dropped) that recurs in many;
* ``layout``: the reply's surface format as the ``diversity`` probe labels it (numbered or
  bulleted list, headed sections, table, code block, JSON, one line, prose);
* ``length``: a band of reply lengths in words (triage; ``behaviour`` tests length as a
  number);
* ``structure``: a tool or function call, **bold** text, a link;
* ``tone``: exclamation marks, emoji, "please", apologies, thanks, a question back to the
  user, speaking as "we" or as "I", courtesy formulas ("I hope this helps", "feel free");
* ``stance``: declining the request, hedging;
* ``language``: the language the reply is written in, from its function words;
* ``phrase``: a word or a run of two or three words that recurs across replies — a product
  name, a catchphrase — chosen by how many replies hold it, never by who wrote them;
* ``system_prompt``: a system prompt shared by many examples (triage only: context, not a
  reply).

A feature is a candidate when at least ``min_share`` of the replies (and two of them) have
it. Selection only ever looks at counts over all the replies given, so when ``behaviour``
pools two models' replies to the same prompts, swapping which model wrote the two replies
of a prompt changes no selection: the exact McNemar test on each selected feature keeps its
level (the test conditions on that swap, Lehmann & Romano 2005, ch. 5).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tunelens.probes._formats import (
    BULLET_LIST,
    CODE,
    FORMAT_NAMES,
    JSON,
    NUMBERED_LIST,
    ONE_LINE,
    SECTIONS,
    TABLE,
    label_format,
)

MIN_SHARE = 0.1
"""A candidate is present in at least this share of the replies (and two of them)."""
RECURRING_LINE_SHARE = 0.2
"""A line inside replies counts from this share on (lower shares are mostly one fact's wording)."""
PHRASE_WORDS = (2, 5)
"""Opening and closing phrases are this many words long (shortest, longest)."""
NGRAM_WORDS = 3
"""Recurring phrases of the ``phrase`` kind are one to this many words long."""
MAX_PHRASES = 40
"""At most this many ``phrase`` candidates, those held by the most replies: each is a test in
the report's false-discovery control, and a long tail of common words only dilutes it."""
LENGTH_BANDS: tuple[tuple[int, int], ...] = ((1, 20), (21, 50), (51, 100), (101, 200), (201, 400), (401, 10**9))
LENGTH_COVER = 0.8
"""The length feature is the narrowest run of bands that holds at least this share of replies."""

KINDS: tuple[str, ...] = (
    "opening_line",
    "closing_line",
    "opening_words",
    "closing_words",
    "recurring_line",
    "layout",
    "length",
    "structure",
    "tone",
    "stance",
    "language",
    "phrase",
    "system_prompt",
)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could did do does doing don't down during each either else
    ever every few for from further had has have having he her here hers him his how i if in into is isn't
    it it's its itself just let me more most much must my no nor not now of off on once one only or other
    our ours out over own same she should so some such than that that's the their theirs them then there
    these they this those through to too under until up upon us very was we were what when where which while
    who whom why will with within without would yet you your yours yourself yourselves
    please thanks thank hello hi hey sure okay ok yes great happy glad sorry just really
    get gets got make makes made need needs want wants know see use used using go goes going come take takes
    help ask asked tell find give keep let like may might also anything something everything nothing
    anytime always never still already even via per new next last first
    """.split()
)
"""English function words and chat filler: never a ``phrase`` on their own (triage's fact
extractor uses the same list)."""

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z]|[A-Za-z]")
"""A word as written: letters, inner apostrophes and hyphens."""

_DIGITS = re.compile(r"\d+")
_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*+\u2022]|#{1,6})\s+")
_EMOJI_CLASS = "[\U0001f300-\U0001faff\u2600-\u27bf\U0001f1e6-\U0001f1ff]"
_TOOL_CALL = (
    r"<(?:tool_call|function_call|tool|function)\b|\"(?:tool_calls?|function_call)\"\s*:|"
    r"\{\s*\"name\"\s*:\s*\"[^\"]+\"\s*,\s*\"(?:arguments|parameters)\"\s*:"
)
_REFUSAL = (
    r"(?i)\b(?:I\s+(?:can(?:not|'t|\u2019t)|am\s+(?:not\s+able|unable)|won(?:'t|\u2019t)|will\s+not|"
    r"must\s+decline)\s+(?:help|assist|provide|do\s+that|write|create|comply|fulfil|support|give|share)|"
    r"I(?:'m|\u2019m|\s+am)\s+(?:sorry|afraid),?\s+(?:but\s+)?I\s+(?:can(?:not|'t|\u2019t)|won)|"
    r"(?:not|isn't|is\s+not)\s+(?:something\s+I\s+can|appropriate|ethical|legal)\b)"
)
_HEDGE = (
    r"(?i)\b(?:I(?:'m|\u2019m|\s+am)\s+not\s+(?:sure|certain)|it\s+depends|I\s+(?:don't|do\s+not)\s+know|"
    r"hard\s+to\s+say|may\s+or\s+may\s+not|I\s+(?:think|believe)|(?:probably|possibly|perhaps)\b)"
)
_COURTESY = (
    r"(?i)\b(?:I\s+hope\s+(?:this|that|it)\s+helps|let\s+me\s+know\s+if|feel\s+free\s+to|happy\s+to\s+help|"
    r"glad\s+(?:I\s+could|to)\s+help|have\s+a\s+(?:great|nice|good|wonderful)\s+day|great\s+question)"
)

FLAGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "structure": (
        ("tool_call", "Contains a tool or function call", _TOOL_CALL),
        ("bold", "Uses **bold** text", r"\*\*[^*\n]+\*\*"),
        ("link", "Contains a link", r"https?://|www\."),
    ),
    "tone": (
        ("exclamation", "Uses an exclamation mark", r"!"),
        ("emoji", "Uses emoji", _EMOJI_CLASS),
        ("please", 'Says "please"', r"(?i)\bplease\b"),
        ("apology", "Apologises", r"(?i)\b(?:sorry|apologi[sz]e)"),
        ("thanks", "Thanks the user", r"(?i)\bthank"),
        ("question", "Asks the user a question", r"\?"),
        ("we_voice", 'Speaks as "we"', r"\b(?:[Ww]e|[Oo]ur|us)\b"),
        ("i_voice", 'Speaks as "I"', r"\b(?:I|I'm|I'll|my)\b"),
        ("courtesy", 'Uses a courtesy formula ("I hope this helps", "feel free to")', _COURTESY),
    ),
    "stance": (
        ("refusal", "Declines the request", _REFUSAL),
        ("hedge", 'Hedges ("I\'m not sure", "it depends", "probably")', _HEDGE),
    ),
}
"""Marker features: (key, label, regex) per kind; a reply has one when the regex is found."""

LAYOUT_REGEX: dict[str, str] = {
    NUMBERED_LIST: r"^\s*(?:\*\*)?\d{1,3}[.)]\s+\S[\s\S]*^\s*(?:\*\*)?\d{1,3}[.)]\s+\S",
    BULLET_LIST: r"^\s*[-*+\u2022]\s+\S[\s\S]*^\s*[-*+\u2022]\s+\S",
    SECTIONS: r"^\s{0,3}(?:#{1,6}\s+\S|\*\*[^*\n]+\*\*:?\s*$)[\s\S]*^\s{0,3}(?:#{1,6}\s+\S|\*\*[^*\n]+\*\*:?\s*$)",
    TABLE: r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+",
    CODE: r"^\s{0,3}(?:```|~~~)",
    JSON: r"\A\s*(?:\{\s*\"|\[\s*[\{\"])",
    ONE_LINE: r"\A[^\n]*\S[^\n]*\Z",
}
"""Regexes close to each layout label, for a task spec (``label_format`` decides a reply)."""

LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "English": frozenset("the and is are of to in that it with for you this was have not be".split()),
    "French": frozenset("le la les et est sont des une un du dans pour que qui avec vous pas ce".split()),
    "Spanish": frozenset("el la los las y es son de una un del en para que con por no se".split()),
    "German": frozenset("der die das und ist sind ein eine nicht mit zu den von sie ich es".split()),
    "Italian": frozenset("il lo la gli le e è sono di una un del per che con non si".split()),
    "Portuguese": frozenset("o a os as e é são de uma um do da em para que com não".split()),
    "Dutch": frozenset("de het een en is zijn van in dat met voor niet op te ik".split()),
}
"""Common function words per language: a reply is in the language whose words it uses most
(at least three of them and a third more than the runner-up), else undetermined."""


def words(text: str) -> list[str]:
    """The words of ``text`` as written (letters, inner apostrophes and hyphens)."""
    return WORD_RE.findall(text)


def language_of(text: str) -> str:
    """The language of ``text`` by its function words, or '' when it says too little."""
    tokens = [t.lower() for t in re.findall(r"[^\W\d_]+", text)]
    counts = {lang: sum(t in vocab for t in tokens) for lang, vocab in LANGUAGE_WORDS.items()}
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 3 and top >= 1.34 * second else ""


def reply_lines(reply: str) -> list[str]:
    """The non-blank lines of ``reply``, stripped."""
    return [line.strip() for line in reply.splitlines() if line.strip()]


def _mask(line: str) -> str:
    return " ".join(_DIGITS.sub("#", line).split())


def _phrase_tokens(text: str) -> list[str]:
    return re.findall(r"[\w'#]+", _mask(text).lower())


def _line_key(line: str) -> str:
    return " ".join(_phrase_tokens(line))


def _inner_key(line: str) -> str:
    return _mask(_MARKER.sub("", line)).lower()


def _text_regex(text: str) -> str:
    """A regex for ``text`` as written: digits any number, white space any run."""
    parts = re.split(r"(\d+|\s+)", text.strip())
    out = []
    for part in parts:
        if not part:
            continue
        out.append(r"\d+" if part.isdigit() else r"\s+" if part.isspace() else re.escape(part))
    return "".join(out)


def _tokens_regex(tokens: Sequence[str]) -> str:
    return r"\W+".join(r"\d+" if t == "#" else re.escape(t).replace("\\#", r"\d+") for t in tokens)


def slug(text: str, sep: str = "-", limit: int | None = None, empty: str = "x") -> str:
    """``text`` as a lower-case name of letters and digits joined by ``sep`` (at most ``limit``
    characters; ``empty`` when nothing is left): feature, fact and rule names."""
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)[:limit] or empty


@dataclass(frozen=True)
class SurfaceFeature:
    """One discovered feature: what it is, a rule to decide it on any reply, and the replies
    of the discovery set that have it."""

    id: str  # "kind:rank" for discovered texts ("opening_line:1"), "kind:name" for named ones ("layout:code")
    kind: str
    key: str  # what the feature matches: a masked line, a phrase, a format, a marker's name
    label: str  # in words: 'Opens with the line “Hi there!”'
    example: str  # one instance as written
    regex: str  # re.search with re.MULTILINE; '' when no regex says it
    members: tuple[int, ...]  # indices of the discovery replies that have it
    test: Callable[[str], bool] = field(compare=False, repr=False)

    @property
    def slug(self) -> str:
        """A stable name from the kind and what the feature matches: 'opening_words:hi-there'
        ('opening_line:number' for a line of digits)."""
        return f"{self.kind}:{slug(self.key.replace('#', ' number '), limit=40)}"  # "#": masked digits

    def share(self, n: int) -> float:
        return len(self.members) / n if n else 0.0


class _Collector:
    def __init__(self, replies: Sequence[str], min_share: float) -> None:
        self.replies = list(replies)
        self.n = len(replies)
        self.min_share = min_share
        self.lines = [reply_lines(r) for r in replies]
        self.features: list[SurfaceFeature] = []

    def enough(self, members: Sequence[int], share: float | None = None) -> bool:
        share = self.min_share if share is None else share
        return len(members) >= 2 and len(members) >= share * self.n

    def add(
        self,
        id: str,
        kind: str,
        key: str,
        label: str,
        example: str,
        regex: str,
        members: Sequence[int],
        test: Callable[[str], bool],
    ) -> SurfaceFeature:
        """Record a feature; ``members`` are the replies the caller found it in (what ``test``
        says of each discovery reply, found once)."""
        feature = SurfaceFeature(id, kind, key, label, example, regex, tuple(sorted(members)), test)
        self.features.append(feature)
        return feature


def _first(reply: str) -> str:
    lines = reply_lines(reply)
    return lines[0] if lines else ""


def _last(reply: str) -> str:
    """The closing line; a one-line reply has an opening but no separate closing line."""
    lines = reply_lines(reply)
    return lines[-1] if len(lines) > 1 else ""


def _final(reply: str) -> str:
    """The last line, the only one of a one-line reply (whose last words can still recur)."""
    lines = reply_lines(reply)
    return lines[-1] if lines else ""


def _grouped(keyed: Sequence[tuple[str, str] | None]) -> list[tuple[str, str, list[int]]]:
    """(key, most common original, members), biggest group first."""
    members: dict[str, list[int]] = {}
    originals: dict[str, Counter[str]] = {}
    for i, item in enumerate(keyed):
        if item is None or not item[0]:
            continue
        members.setdefault(item[0], []).append(i)
        originals.setdefault(item[0], Counter())[item[1]] += 1
    ranked = sorted(members, key=lambda k: (-len(members[k]), k))
    return [(k, originals[k].most_common(1)[0][0], members[k]) for k in ranked]


def _edge_phrases(c: _Collector, texts: list[str], last: bool) -> list[tuple[str, str, list[int]]]:
    """Recurring first (or last) 2 to 5 words: the longest phrase for each set of replies, commonest first."""
    found: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        tokens = _phrase_tokens(text)
        for n in range(PHRASE_WORDS[0], min(PHRASE_WORDS[1], len(tokens)) + 1):
            found.setdefault(" ".join(tokens[-n:] if last else tokens[:n]), []).append(i)
    candidates = sorted(
        ((p, m) for p, m in found.items() if c.enough(m)), key=lambda pm: (-len(pm[1]), -len(pm[0].split()), pm[0])
    )
    kept: list[tuple[str, str, list[int]]] = []
    for phrase, members in candidates:
        if any(phrase in other or other in phrase for other, _, _ in kept):
            continue  # a shorter or longer form of a phrase already kept
        original = Counter(texts[i] for i in members).most_common(1)[0][0]
        kept.append((phrase, original, members))
    return kept


def _edges(c: _Collector) -> None:
    for kind, pick, verb in (("opening_line", _first, "Opens"), ("closing_line", _last, "Ends")):
        texts = [pick(r) for r in c.replies]
        groups = _grouped([(_line_key(t), t) if t else None for t in texts])
        best = {k: len(m) for k, _, m in groups}
        rank = 0
        for key, original, members in groups:
            if not c.enough(members):
                break
            rank += 1
            body = _text_regex(original)
            regex = rf"\A\s*{body}[ \t]*$" if kind == "opening_line" else rf"^[ \t]*{body}\s*\Z"
            c.add(
                f"{kind}:{rank}", kind, key, f"{verb} with the line \u201c{original}\u201d", original, regex, members,
                lambda r, k=key, p=pick: _line_key(p(r)) == k,
            )  # fmt: skip
        last = kind == "closing_line"
        words_kind = "closing_words" if last else "opening_words"
        if last:
            texts = [_final(r) for r in c.replies]
        for rank, (phrase, original, members) in enumerate(_edge_phrases(c, texts, last), start=1):
            # A phrase only adds something when it recurs more often than any whole line it belongs to.
            covered = max((n for k, n in best.items() if (k.endswith if last else k.startswith)(phrase)), default=0)
            if len(members) <= covered:
                continue
            tokens = phrase.split()
            body = _tokens_regex(tokens)
            regex = rf"(?i)^[ \t]*(?:.*\W)?{body}\W*\Z" if last else rf"(?i)\A\W*{body}\b"
            where = "Ends with the words" if last else "Starts with the words"
            n = len(tokens)
            test = (
                (lambda r, t=tokens, n=n: _phrase_tokens(_final(r))[-n:] == t)
                if last
                else (lambda r, t=tokens, n=n: _phrase_tokens(_first(r))[:n] == t)
            )
            label = f"{where} \u201c{phrase}\u201d"
            c.add(f"{words_kind}:{rank}", words_kind, phrase, label, original, regex, members, test)


def _recurring_lines(c: _Collector) -> None:
    found: dict[str, set[int]] = {}
    originals: dict[str, Counter[str]] = {}
    for i, lines in enumerate(c.lines):
        for line in lines[1:-1]:
            key = _inner_key(line)
            if len(key.split()) < 3:
                continue
            found.setdefault(key, set()).add(i)
            originals.setdefault(key, Counter())[_MARKER.sub("", line)] += 1
    rank = 0
    for key in sorted(found, key=lambda k: (-len(found[k]), k)):
        if not c.enough(sorted(found[key]), RECURRING_LINE_SHARE):
            break
        rank += 1
        original = originals[key].most_common(1)[0][0]
        regex = rf"^[ \t]*(?:(?:\d{{1,3}}[.)]|[-*+\u2022]|#{{1,6}})[ \t]+)?{_text_regex(original)}[ \t]*$"
        c.add(
            f"recurring_line:{rank}", "recurring_line", key, f"Has the line \u201c{original}\u201d inside the reply",
            original, regex, found[key], lambda r, k=key: any(_inner_key(x) == k for x in reply_lines(r)[1:-1]),
        )  # fmt: skip


def _layout_name(fmt: str) -> str:
    return f"Layout: {FORMAT_NAMES[fmt]}"


def _categories(c: _Collector, kind: str, of: Callable[[str], str], name: Callable[[str], str], regex: dict) -> None:
    """One feature per value of ``of`` (a reply's layout, its language) held by enough replies."""
    values = [of(r) for r in c.replies]
    for value, _, members in _grouped([(v, v) for v in values]):
        if c.enough(members):
            c.add(
                f"{kind}:{value.lower()}", kind, value, name(value), c.replies[members[0]].strip()[:200],
                regex.get(value, ""), members, lambda r, v=value: of(r) == v,
            )  # fmt: skip


def _length(c: _Collector) -> None:
    counts = [len(r.split()) for r in c.replies]
    runs = [(a, b) for a in range(len(LENGTH_BANDS)) for b in range(a, len(LENGTH_BANDS))]
    for a, b in sorted(runs, key=lambda r: r[1] - r[0]):
        low, high = LENGTH_BANDS[a][0], LENGTH_BANDS[b][1]
        members = [i for i, n in enumerate(counts) if low <= n <= high]
        if len(members) >= LENGTH_COVER * c.n and c.enough(members):
            band = f"{low}\u2013{high}" if high < 10**9 else f"over {low - 1}"
            upper = "" if high >= 10**9 else str(high - 1)
            regex = rf"\A\s*(?:\S+\s+){{{low - 1},{upper}}}\S+\s*\Z"
            c.add(
                f"length:{band}", "length", band, f"{band} words long (median {statistics.median(counts):g})",
                f"{counts[members[0]]} words", regex, members, lambda r, lo=low, hi=high: lo <= len(r.split()) <= hi,
            )  # fmt: skip
            return


def _flags(c: _Collector, kind: str) -> None:
    for key, label, pattern in FLAGS[kind]:
        compiled = re.compile(pattern, re.MULTILINE)
        members = [i for i, r in enumerate(c.replies) if compiled.search(r)]
        if c.enough(members):
            c.add(
                f"{kind}:{key}", kind, key, label, c.replies[members[0]].strip()[:200], pattern, members,
                lambda r, rx=compiled: rx.search(r) is not None,
            )  # fmt: skip


def _ngrams(tokens: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for n in range(1, NGRAM_WORDS + 1):
        for i in range(len(tokens) - n + 1):
            gram = tokens[i : i + n]
            if gram[0] in STOPWORDS or gram[-1] in STOPWORDS or any(len(t) < 3 and n == 1 for t in gram):
                continue
            out.add(" ".join(gram))
    return out


def _phrases(c: _Collector) -> None:
    """Recurring words and phrases, by how many replies hold them (both models' together)."""
    held = [_ngrams([w.lower() for w in words(r)]) for r in c.replies]
    members: dict[str, list[int]] = {}
    for i, grams in enumerate(held):
        for gram in grams:
            members.setdefault(gram, []).append(i)
    frequent = [g for g, m in members.items() if c.enough(m)]
    # Longest first: a word that only ever appears inside a kept phrase (nearly as often) adds nothing.
    frequent.sort(key=lambda g: (-len(g.split()), -len(members[g]), g))
    kept: list[str] = []
    for gram in frequent:
        if any(f" {gram} " in f" {k} " and len(members[gram]) <= 1.1 * len(members[k]) for k in kept):
            continue
        kept.append(gram)
    # Nor does a phrase that only restates an opening, closing or recurring line already found.
    texts = [f for f in c.features if f.kind.endswith(("line", "words"))]
    kept = [g for g in kept if not any(tuple(members[g]) == f.members and g in f.key.lower() for f in texts)]
    kept.sort(key=lambda g: (-len(members[g]), g))
    for gram in kept[:MAX_PHRASES]:
        tokens = gram.split()
        edge = "A-Za-z'\u2019-"
        pattern = rf"(?i)(?<![{edge}])" + r"[^A-Za-z]+".join(re.escape(t) for t in tokens) + rf"(?![{edge}])"
        example = c.replies[members[gram][0]].strip()[:200]
        c.add(
            f"phrase:{slug(gram, limit=40)}", "phrase", gram, f"Says \u201c{gram}\u201d", example, pattern,
            members[gram], lambda r, t=tuple(tokens): _holds(r, t),
        )  # fmt: skip


def _holds(reply: str, tokens: tuple[str, ...]) -> bool:
    seq = [w.lower() for w in words(reply)]
    n = len(tokens)
    return any(tuple(seq[i : i + n]) == tokens for i in range(len(seq) - n + 1))


def _system_prompts(c: _Collector, systems: Sequence[str | None]) -> None:
    keyed = [(s.strip(), s.strip()) if s else None for s in systems]
    for rank, (key, original, members) in enumerate(_grouped(keyed), start=1):
        if c.enough(members):
            feature = SurfaceFeature(
                f"system_prompt:{rank}", "system_prompt", key, "Shares a system prompt (context, not trained)",
                original, "", tuple(members), lambda r: False,
            )  # fmt: skip
            c.features.append(feature)


def discover(
    replies: Sequence[str],
    *,
    kinds: Sequence[str] = KINDS,
    min_share: float = MIN_SHARE,
    systems: Sequence[str | None] | None = None,
) -> list[SurfaceFeature]:
    """Every candidate feature of ``kinds`` held by at least ``min_share`` of ``replies`` (and
    two of them), in discovery order (edges, lines, layout, length, markers, language, phrases).
    ``systems`` (one per reply, or None) feeds the ``system_prompt`` kind."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown feature kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    c = _Collector(replies, min_share)
    if not c.n:
        return []
    steps: list[tuple[str, Callable[[], None]]] = [
        ("opening_line", lambda: _edges(c)),
        ("recurring_line", lambda: _recurring_lines(c)),
        ("layout", lambda: _categories(c, "layout", label_format, _layout_name, LAYOUT_REGEX)),
        ("length", lambda: _length(c)),
        ("structure", lambda: _flags(c, "structure")),
        ("tone", lambda: _flags(c, "tone")),
        ("stance", lambda: _flags(c, "stance")),
        ("language", lambda: _categories(c, "language", language_of, lambda g: f"Written in {g}", {})),
        ("phrase", lambda: _phrases(c)),
    ]
    edges = {"opening_line", "closing_line", "opening_words", "closing_words"}
    for kind, step in steps:
        if kind in kinds or (kind == "opening_line" and edges & set(kinds)):
            step()
    if "system_prompt" in kinds and systems is not None:
        _system_prompts(c, systems)
    return [f for f in c.features if f.kind in kinds]
