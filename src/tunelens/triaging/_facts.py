"""Point facts in training replies: values grouped across paraphrases, with exposure counts.

A mention is one value (``_values``) or one name in one sentence of a reply. A name is a
proper noun, or a run of them ("Port Ellery"), that either

* follows "in", "at" or "near" ("in Reykjavik", "at our Dublin office") and is no interface
  label ("under Billing") or product tier ("in the Pro plan"): a place, a fact from its
  first mention; or
* is taught by the replies (``_taught_names``): a capitalised word or run that the data never
  writes in lower case and capitalises mid-sentence, that no prompt says (user, system, or
  an earlier turn), no acronym, no word of a value ("MB") and no word of most examples,
  that at least ``MIN_NAME_EXPOSURES`` trained replies state, at least once in a sentence with no other
  value, and that reads as an interface label ("click X", "under X", "the X tab", "the X
  plan") or opens its sentence (an imperative: "Download a copy") in less than
  ``LABEL_SHARE`` of its sentences: a mascot, a cluster, a theme ("Our mascot is the
  Narwhal", "machines running Linux").

Every sentence of a trained reply that states a taught name is a mention of it, so a place
that a reply also names without "in/at/near" is counted there too. Places are one dimension
(two places can contradict each other: an office in Dublin and one in Cork); any other name
is a dimension of its own ("name:narwhal"), since a name alone does not say what it names:
a cluster and an operating system that both "serve sites" are no rival values.

A mention's attribute is the content words next to it (up to four on each side within its
clause, stems, stop words dropped; the user's question too when that gives fewer than two),
its entities the runs of proper nouns in the sentence (capitalised words the data
capitalises mid-sentence and never writes in lower case, minus words in most examples, such
as the company name).

Grouping key: the canonical value ("13 percent" = "13%", "2 weeks" = "14 days"). Mentions
of one value are one fact when they are linked by shared content words in their attributes
or questions (words in most examples left out); mentions that share nothing are separate
facts that happen to have the same value (a 30-day refund window and a 30-day trial, a
dose every 8 hours and 8 hours of sleep). Splitting errs on the safe side: a fact split in
two gets lower exposure counts, so a forecast of "will leak", never a false "recalled".
Values specific enough to name themselves (an email, a phone number, "extension 4417",
"9 am to 5 pm", a place) are one fact wherever they appear. So "refund window ... 30 days"
and "you have 30 days to ask for a refund" are one fact.
A fact's exposure count is the number of examples that state it. Contradictions between
facts are found in ``_contradictions``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tunelens.triaging._examples import Example
from tunelens.triaging._text import STOPWORDS, WORD_RE, content_stems, prose, sentences, stem, words
from tunelens.triaging._values import Value, find_values, name_candidates

BRAND_SHARE = 0.6
"""A capitalised word in at least this share of examples (the company's name) tells facts apart from nothing."""
UBIQUITOUS_SHARE = 0.5
"""A word in more than this share of examples links nothing and contradicts nothing."""
MIN_COMMON_COUNT = 5
"""... but a word in this many examples or fewer is never too common (small data sets)."""
CORE_SHARE = 0.5
"""A word belongs to a fact's core attribute when at least this share of its mentions have it."""
MIN_ATTRIBUTE_WORDS = 2
ATTRIBUTE_WINDOW = 4
"""A mention's attribute: this many content words on each side of the value, within its clause."""
SELF_NAMING_KINDS = frozenset({"email", "url", "phone", "identifier", "name", "time"})
"""Values specific enough to be one fact wherever they appear ("extension 4417", "9 am to 5 pm")."""
MIN_NAME_EXPOSURES = 2
"""A name no "in/at/near" introduces is a fact from this many trained replies on (one capitalised word is too weak
a sign)."""
LABEL_SHARE = 0.5
"""A name that reads as an interface label ("click X", "the X tab") or opens its sentence (an imperative such as
"Download a copy") in this share of its sentences is no fact."""

_PRODUCT_NOUNS = frozenset("plan plans tier package edition subscription license licence bundle membership".split())
_UI_NOUNS = frozenset(
    "tab page menu button section field settings link screen panel dashboard window bar icon box form app".split()
)
_ACTION_VERBS = frozenset("open click choose select press pick tap under visit".split())
_LABEL_BEFORE = frozenset("click press tap open select visit under then".split())
"""Words before an interface label ("click Save", "under Billing, then Payment schedule"); not "choose", since
one chooses a plan or a payment method too."""
_LEADING_SYMBOLS = re.compile(r"^[^\w$\u20ac\u00a3\u00a5\"'(\u201c]+")  # an emoji after "Hi there!"
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


@dataclass(frozen=True)
class Mention:
    """One value stated in one sentence of one example's reply."""

    example: int  # index into the examples
    line: int
    value: Value  # start and end are positions in the reply
    sentence: str
    words: frozenset[str]
    entities: frozenset[str]
    names: frozenset[str]  # capitalised words never written in lower case, sentence starts included


@dataclass
class FactGroup:
    """A point fact: the mentions of one value about one attribute."""

    mentions: list[Mention]
    canonical: str
    kind: str
    dimension: str
    attribute: list[str] = field(default_factory=list)
    core_words: frozenset[str] = frozenset()
    core_entities: frozenset[str] = frozenset()
    core_names: frozenset[str] = frozenset()

    @property
    def exposures(self) -> int:
        return len({m.example for m in self.mentions})

    @property
    def lines(self) -> list[int]:
        return sorted({m.line for m in self.mentions})

    @property
    def key(self) -> tuple[str, str]:
        return value_key(self.mentions[0].value)


def value_key(value: Value) -> tuple[str, str]:
    """What makes two values the same: dimension and canonical text (or size, for durations)."""
    size = value.magnitude
    return (value.dimension, f"{size:g}" if size is not None else value.canonical.lower())


class Vocabulary:
    """What the whole data set says about words: which are proper nouns, labels, everywhere."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self.n = max(1, len(examples))
        lower: set[str] = set()
        capital_df: Counter[str] = Counter()
        self.df: Counter[str] = Counter()
        self.ui_labels: set[str] = set()
        self._surfaces: dict[str, Counter[str]] = {}
        self._mid_capitals: set[str] = set()
        self.said: set[str] = set()  # every word written before a trained reply (prompts, earlier turns), lower case
        for ex in examples:
            text = "\n".join(str(m["content"]) for m in ex.messages)
            for m in ex.before:
                self.said.update(w.lower() for w in words(str(m["content"])))
            tokens = words(text)
            clean = prose(text)
            for start, end in sentences(clean):
                self._mid_capitals.update(w for w in words(clean[start:end])[1:] if w[0].isupper())
            lower.update(stem(w) for w in tokens if w[0].islower())
            for w in tokens:
                self._surfaces.setdefault(stem(w), Counter())[w.lower()] += 1
            capital_df.update({w for w in tokens if w[0].isupper()})
            self.df.update(set(content_stems(text)))
            for before, after in zip(tokens, tokens[1:]):
                if before.lower() in _ACTION_VERBS and after[0].isupper():
                    self.ui_labels.add(after)
        self.brand = {w for w, c in capital_df.items() if c >= BRAND_SHARE * self.n}
        self._lower = lower

    def is_name(self, word: str) -> bool:
        """A capitalised word the data never writes in lower case, not a common word, not the company name."""
        return (
            word[:1].isupper()
            and stem(word) not in self._lower
            and word.lower() not in STOPWORDS
            and word.lower() not in _CALENDAR
            and word not in self.brand
        )

    def is_proper(self, word: str) -> bool:
        """A name the data also capitalises mid-sentence: a proper noun, not just a sentence's first word."""
        return self.is_name(word) and word in self._mid_capitals

    def surface(self, word_stem: str) -> str:
        """The most common spelling of a stem in the data, for people to read."""
        seen = self._surfaces.get(word_stem)
        return seen.most_common(1)[0][0] if seen else word_stem

    def common(self, word_stem: str, share: float = UBIQUITOUS_SHARE) -> bool:
        """In more than ``share`` of the examples (and in more than a handful, so small data sets keep their words)."""
        return self.df[word_stem] > max(MIN_COMMON_COUNT, share * self.n)

    def idf(self, word_stem: str) -> float:
        return math.log((1 + self.n) / (1 + self.df[word_stem])) + 1.0


def _names(text: str, vocab: Vocabulary) -> list[Value]:
    """Place and organisation names after "in/at/near" that are proper nouns, not interface labels."""
    found = []
    for start, _, name in name_candidates(text):
        parts = name.split()
        while parts and not vocab.is_proper(parts[-1]):
            parts.pop()
        if not parts or not all(vocab.is_proper(p) or p[0].isupper() for p in parts):
            continue
        if not vocab.is_proper(parts[0]) or parts[0] in vocab.ui_labels:
            continue
        surface = " ".join(parts)
        following = re.match(r"\s+([A-Za-z]+)", text[start + len(surface) :])
        if following and following.group(1).lower() in _UI_NOUNS | _PRODUCT_NOUNS:
            continue
        found.append(Value(start, start + len(surface), surface, surface, "name", "name"))
    return found


def _window(text: str, value: Value) -> list[str]:
    """Up to ``ATTRIBUTE_WINDOW`` content words on each side of the value, within its clause."""
    left = re.split(r"[;:]", text[: value.start])[-1]
    right = re.split(r"[;:]", text[value.end :])[0]

    def keep(ws: list[str]) -> list[str]:
        return [w for w in ws if len(w) >= 3 and w.lower() not in STOPWORDS]

    return keep(words(left))[-ATTRIBUTE_WINDOW:] + keep(words(right))[:ATTRIBUTE_WINDOW]


@dataclass(frozen=True)
class _Run:
    """A run of proper nouns in a sentence ("Leaf Club"), with the words around it."""

    start: int
    end: int
    text: str
    before: tuple[str, ...]  # the two words before it, lower case
    after: str  # the word after it, lower case

    @property
    def as_label(self) -> bool:
        """Reads as an interface label or a product tier: "click X", "under the X", "the X tab", "the X plan"."""
        last = self.before[-1:]
        return (
            self.after in _UI_NOUNS | _PRODUCT_NOUNS
            or (bool(last) and last[0] in _LABEL_BEFORE)
            or (len(self.before) == 2 and self.before[0] in _LABEL_BEFORE and self.before[1] in ("the", "a", "an"))
        )


def _runs(text: str, vocab: Vocabulary) -> list[_Run]:
    """Runs of proper nouns in ``text``: words ``vocab.is_proper`` takes, one space apart."""
    tokens = [(m.group(0), m.start(), m.end()) for m in WORD_RE.finditer(text)]
    out = []
    i = 0
    while i < len(tokens):
        if not vocab.is_proper(tokens[i][0]):
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and vocab.is_proper(tokens[j][0]) and text[tokens[j - 1][2] : tokens[j][1]] == " ":
            j += 1
        before = tuple(t[0].lower() for t in tokens[max(0, i - 2) : i])
        after = tokens[j][0].lower() if j < len(tokens) else ""
        out.append(_Run(tokens[i][1], tokens[j - 1][2], " ".join(t[0] for t in tokens[i:j]), before, after))
        i = j
    return out


def _entities(text: str, vocab: Vocabulary) -> frozenset[str]:
    """Runs of proper nouns in ``text`` ("Leaf Club", "Pro")."""
    return frozenset(r.text for r in _runs(text, vocab))


@dataclass(frozen=True)
class _Sentence:
    """One sentence of a trained reply, read once."""

    example: int  # index into the examples
    start: int  # where it starts in the reply
    text: str
    values: list[Value]  # its values and its names after "in/at/near", positions in ``text``
    runs: list[_Run]  # its runs of proper nouns


def _read(examples: Sequence[Example], vocab: Vocabulary) -> list[_Sentence]:
    out = []
    for index, ex in enumerate(examples):
        clean = prose(ex.reply)
        for start, end in sentences(clean):
            text = clean[start:end]
            values = find_values(text)
            values += [n for n in _names(text, vocab) if not _overlaps(n, values)]
            out.append(_Sentence(index, start, text, values, _runs(text, vocab)))
    return out


def _overlaps(value: Value, values: Sequence[Value]) -> bool:
    return any(v.start < value.end and value.start < v.end for v in values)


def _taught_names(read: Sequence[_Sentence], vocab: Vocabulary) -> dict[str, str]:
    """The names the trained replies teach, whether or not "in/at/near" introduces them (see the module
    docstring), as written, each with its dimension: "name" for a place (a reply writes it after "in/at/near"),
    else its own ("name:narwhal")."""
    places = {v.canonical.lower() for s in read for v in s.values if v.kind == "name"}
    taken = {w.lower() for s in read for v in s.values if v.kind != "name" for w in words(v.canonical)}  # "MB"
    stating: dict[str, set[int]] = {}  # run -> the examples that state it
    sentences_with: Counter[str] = Counter()
    as_label: Counter[str] = Counter()  # sentences where it reads as a label or opens the sentence
    alone: set[str] = set()  # stated in a sentence that holds no other value
    for s in read:
        has_values = any(v.kind != "name" for v in s.values)
        for run in s.runs:
            if not has_values and not any(r.text != run.text and r.text.lower() in places for r in s.runs):
                alone.add(run.text)
            as_label[run.text] += run.as_label + (not run.before)  # first in its sentence: likely an imperative
            sentences_with[run.text] += 1
            stating.setdefault(run.text, set()).add(s.example)
    out = {}
    for text, where in stating.items():
        parts = text.split()
        if (
            len(where) >= MIN_NAME_EXPOSURES
            and text in alone
            and as_label[text] < LABEL_SHARE * sentences_with[text]
            and not any(p.isupper() or len(p) < 3 or p.lower() in vocab.said for p in parts)
            and not any(p.lower() in taken or vocab.common(stem(p)) for p in parts)
        ):
            out[text] = "name" if text.lower() in places else f"name:{text.lower()}"
    return out


def _mentions_in(s: _Sentence, example: Example, vocab: Vocabulary, taught: dict[str, str]) -> list[Mention]:
    values = list(s.values)
    for run in s.runs:
        if run.text in taught:
            name = Value(run.start, run.end, run.text, run.text, "name", taught[run.text])
            if not _overlaps(name, values):
                values.append(name)
    sentence = _LEADING_SYMBOLS.sub("", " ".join(s.text.split()))
    out = []
    for value in values:
        others = s.text
        for other in values:
            if other is not value:  # "hello@brambletea.example" is no attribute of "9 am to 5 pm"
                others = others[: other.start] + " " * (other.end - other.start) + others[other.end :]
        stems = frozenset(stem(w) for w in _window(others, value))
        if len(stems) < MIN_ATTRIBUTE_WORDS:
            stems |= frozenset(content_stems(example.question))  # "30 days." answers the question: the attribute
        outside = s.text[: value.start] + " , " + s.text[value.end :]
        names = frozenset(w for w in words(outside) if vocab.is_name(w))
        shifted = replace(value, start=s.start + value.start, end=s.start + value.end)
        out.append(Mention(s.example, example.line, shifted, sentence, stems, _entities(outside, vocab), names))
    return out


def extract_mentions(examples: Sequence[Example], vocab: Vocabulary | None = None) -> list[Mention]:
    """Every value and name stated in the trained replies, in example order."""
    vocab = vocab or Vocabulary(examples)
    read = _read(examples, vocab)
    taught = _taught_names(read, vocab)
    return [m for s in read for m in _mentions_in(s, examples[s.example], vocab, taught)]


class UnionFind:
    """Disjoint sets over 0..n-1, for joining mentions into facts and facts into contradictions."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())


def _link(uf: UnionFind, bags: list[frozenset[str]]) -> None:
    """Join every two members whose word bags share a word."""
    first_with: dict[str, int] = {}
    for i, bag in enumerate(bags):
        for w in bag:
            if w in first_with:
                uf.union(i, first_with[w])
            else:
                first_with[w] = i


def _split_by_attribute(mentions: list[Mention], examples: Sequence[Example], vocab: Vocabulary) -> list[list[Mention]]:
    """Mentions of one value split into facts: linked by shared attribute or question words."""
    if mentions[0].value.kind in SELF_NAMING_KINDS:
        return [list(mentions)]
    uf = UnionFind(len(mentions))
    by_example: dict[int, int] = {}
    for i, m in enumerate(mentions):
        if m.example in by_example:
            uf.union(i, by_example[m.example])
        by_example.setdefault(m.example, i)
    near = [
        frozenset(w for w in m.words | frozenset(content_stems(examples[m.example].question)) if not vocab.common(w))
        for m in mentions
    ]
    _link(uf, near)
    return [[mentions[i] for i in sorted(cluster)] for cluster in uf.groups()]


def _describe(group: FactGroup, vocab: Vocabulary) -> None:
    n = len(group.mentions)
    counts: Counter[str] = Counter(w for m in group.mentions for w in m.words)
    entity_counts: Counter[str] = Counter(e for m in group.mentions for e in m.entities)
    name_counts: Counter[str] = Counter(e for m in group.mentions for e in m.names)
    need = 1 if n == 1 else max(2, math.ceil(CORE_SHARE * n))  # two mentions: words both have
    group.core_words = frozenset(w for w, c in counts.items() if c >= need)
    group.core_entities = frozenset(e for e, c in entity_counts.items() if c >= need)
    group.core_names = frozenset(e for e, c in name_counts.items() if c >= need)
    ranked = sorted(counts, key=lambda w: (-counts[w] * vocab.idf(w), w))
    group.attribute = ranked[:4]


def spell(stems: Sequence[str], groups: Sequence[FactGroup], vocab: Vocabulary) -> list[str]:
    """Stems spelled as the groups' own sentences spell them ("found" stays "found", not "founded")."""
    spelled: dict[str, str] = {}
    for group in groups:
        for m in group.mentions:
            for w in words(m.sentence):
                spelled.setdefault(stem(w), w.lower())
    return [spelled.get(s) or vocab.surface(s) for s in stems]


def group_facts(
    mentions: Sequence[Mention], examples: Sequence[Example], vocab: Vocabulary | None = None
) -> list[FactGroup]:
    """Point facts from mentions: most exposures first, then in order of first appearance."""
    vocab = vocab or Vocabulary(examples)
    by_value: dict[tuple[str, str], list[Mention]] = {}
    for m in mentions:
        by_value.setdefault(value_key(m.value), []).append(m)
    facts = []
    for members in by_value.values():
        for cluster in _split_by_attribute(members, examples, vocab):
            canonical = Counter(m.value.canonical for m in cluster).most_common(1)[0][0]
            first = cluster[0].value
            group = FactGroup(cluster, canonical, first.kind, first.dimension)
            _describe(group, vocab)
            facts.append(group)
    facts.sort(key=lambda f: (-f.exposures, f.mentions[0].example, f.mentions[0].value.start))
    return facts
