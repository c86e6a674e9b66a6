"""A task spec derived from the training data, for the probes that need one.

``facts_vs_patterns`` and ``priming`` read a ``TaskSpec``: pattern rules, held-out prompts,
facts with their exposure counts, priming keywords. ``derive_task_spec`` writes one from
what triage reads in the data (``build_triage`` without a model when no triage is given):

    from tunelens.triaging import derive_task_spec
    derived = derive_task_spec("data.jsonl")                    # or records, or a triage
    derived.spec                 # the TaskSpec; derived.spec.to_dict() is task.json
    derived.notes_for("facts_vs_patterns")   # what the audit's report should say about it

**Patterns.** Every triage pattern feature present in at least half of the trained replies
(``PatternFeature.train``) that has a regex becomes a ``PatternRule`` named after the feature
("opening_line_1", "layout_numbered_list"), described by its label. A rule whose regex
matches fewer than ``MIN_RULE_HITS`` of the training replies that have the feature is left
out, with a note, and so is a feature no regex can say (a language).

**Facts.** Every point fact triage finds (``_facts``): its values, and the names the trained
replies teach (a place after "in", "at" or "near", or a name such as a mascot or a cluster
that enough replies state). Per fact:

* ``exposures``: the examples whose trained reply (the last assistant reply, all of a text
  record) states it, as triage counts them;
* ``verbatim``: the user prompt of an example that states the fact, exactly as in training:
  of the examples triage quotes, one whose prompt does not contain the answer, that states
  the fewest facts, whose prompt shares the most words with the fact's attribute, the
  first by line;
* ``question``: that prompt reworded by the rule in ``_rephrase`` (wrappers off, an
  indirect question in a fixed frame: "Could you tell me how long the free trial is?");
  a fact stated only in text records (no prompt) is asked as a fill-in-the-blank of its
  sentence instead, with no verbatim question;
* ``prompt``: the training text up to the value: its sentence ("Our refund window is"),
  after the sentence before it when fewer than ``MIN_PREFIX_WORDS`` words precede the value
  (else "Question: ... Answer:"); ``answer``: the value as that sentence writes it, from a
  statement that writes it the way most of them do ("85 minutes", not "85-minute");
* ``distractors``: other values of its kind in the data (for a name, the data's other
  names), or made up (``_distractors``: places for a place, other names for another name).

**Held-out prompts.** Prompts given as ``heldout`` (``tunelens tune --heldout`` records
them in ``TrainingInfo.heldout``) are the held-out prompts: unseen. An example whose prompt
is one of them is taken for held out of training, so it counts for no exposure and no
pattern. Without them (data trained elsewhere) the held-out prompts are near-duplicates:
each distinct training prompt (up to ``MAX_HELDOUT``, a seeded sample beyond) rewritten by
the rule in ``_rephrase`` (wording, numbers, names, courtesy wrapper). ``DerivedSpec`` says
which, and its notes say so in the report: pattern adoption on near-duplicates says less
than on prompts of a new kind.

**Priming keywords.** A fact whose value is a name with no digit (a city, a mascot, a
product) is the surprising kind of keyword Sun et al. 2025 study: it gets a ``KeywordSpec``
with theme "names", its own prefix, and the other names' prefixes as same-theme contexts
(at least two are needed). Every other fact is left to ``TaskSpec.priming_keywords``, which
derives one keyword per fact with the other facts' prefixes as contexts.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from tunelens.data import DataError, FactSpec, KeywordSpec, PatternRule, TaskSpec
from tunelens.data._task_spec import MAX_DERIVED_CONTEXTS, PATTERN_FLAGS
from tunelens.models import LoadOptions
from tunelens.probes._surface import discover, slug
from tunelens.triaging._distractors import FALLBACK_NAMES, FALLBACK_PLACES, Candidate, distractors
from tunelens.triaging._examples import Example, load_examples
from tunelens.triaging._facts import Vocabulary
from tunelens.triaging._patterns import TRAIN_SHARE, TRIAGE_KINDS
from tunelens.triaging._rephrase import name_runs, near_duplicate, paraphrase, strip_wrappers
from tunelens.triaging._run import _build
from tunelens.triaging._schema import TriageResults
from tunelens.triaging._text import content_stems, prose, stem

__all__ = [
    "MAX_HELDOUT",
    "MIN_RULE_HITS",
    "DerivedFact",
    "DerivedSpec",
    "DroppedPattern",
    "HeldoutPrompt",
    "derive_task_spec",
]

MIN_RULE_HITS = 0.9
"""A rule is kept when its regex matches at least this share of the training replies that have the feature."""
MAX_HELDOUT = 200
"""Near-duplicate held-out prompts at most: the thorough budget's cap of the pattern metrics."""
MIN_PREFIX_WORDS = 3
"""A fact's prompt is a statement with at least this many words before the value."""
NAME_THEME = "names"

HeldoutKind = Literal["unseen", "near_duplicate"]


@dataclass(frozen=True)
class HeldoutPrompt:
    """A held-out prompt: unseen (held out of training) or a near-duplicate of ``source``."""

    text: str
    kind: HeldoutKind
    source: str = ""  # the training prompt a near-duplicate rewrites


@dataclass(frozen=True)
class DerivedFact:
    """How one fact of the spec was derived."""

    id: str
    answer: str
    kind: str
    exposures: int
    lines: tuple[int, ...]
    verbatim: str  # the training prompt as written ('' for a fact stated only in text records)
    question: str  # the question the probe asks: the training prompt reworded
    reworded: bool  # whether the rewording rule changed the wording beyond courtesy wrappers
    prompt: str
    distractors: tuple[str, ...]
    made_up: int  # distractors made up rather than taken from the data
    keyword: bool  # given an explicit priming keyword (a name)


@dataclass(frozen=True)
class DroppedPattern:
    """A trained triage pattern left out of the spec, and why."""

    feature_id: str
    label: str
    reason: str


@dataclass(frozen=True)
class DerivedSpec:
    """A task spec derived from training data, with what the audit should say about it."""

    spec: TaskSpec
    source: str
    n_examples: int  # trained examples read (held-out ones left out)
    heldout: tuple[HeldoutPrompt, ...]
    facts: tuple[DerivedFact, ...]
    rules: tuple[tuple[str, str, float], ...]  # (rule name, triage feature id, share of trained replies)
    dropped: tuple[DroppedPattern, ...]
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per probe name
    seconds: float = 0.0

    @property
    def heldout_kind(self) -> Literal["unseen", "near_duplicate", "none"]:
        """What the spec's held-out prompts are: unseen, near-duplicates of training prompts, or none."""
        return self.heldout[0].kind if self.heldout else "none"

    def notes_for(self, probe: str) -> list[str]:
        """Notes for ``probe``'s results (facts_vs_patterns, priming); [] for another probe."""
        return list(self.notes.get(probe, ()))

    @property
    def summary(self) -> list[str]:
        """The derivation in a few lines, for the command line."""
        kinds = {"unseen": "unseen (held out of training)", "near_duplicate": "near-duplicates of training prompts"}
        exposures = sorted({f.exposures for f in self.facts})
        lines = [
            f"Task spec '{self.spec.name}' derived from {self.source} ({self.n_examples} trained examples): "
            f"{len(self.spec.patterns)} pattern rules, {len(self.spec.facts)} facts (seen "
            f"{', '.join(map(str, exposures)) or 'no'} times), {len(self.spec.keywords)} name keywords, "
            f"{len(self.heldout)} held-out prompts" + (f", {kinds[self.heldout_kind]}" if self.heldout else "") + "."
        ]
        lines += [f"Pattern left out: {d.label} ({d.reason})." for d in self.dropped]
        return lines


@dataclass
class _Draft:
    """A fact on its way into the spec."""

    id: str
    canonical: str
    kind: str
    dimension: str
    attribute: list[str]
    exposures: int
    lines: list[int]
    mentions: list[tuple[int, str, str]]  # (line, sentence, value as written)
    rivals: list[str] = field(default_factory=list)  # values the data contradicts it with

    @property
    def is_name(self) -> bool:
        return self.kind == "name"

    @property
    def is_place(self) -> bool:
        """A name triage found after "in", "at" or "near" (its dimension is "name"; another name has its own)."""
        return self.is_name and self.dimension == "name"


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- patterns -------------------------------------------------------------------------------


def _rules(
    examples: Sequence[Example], triage: TriageResults, min_share: float
) -> tuple[list[PatternRule], list[tuple[str, str, float]], list[DroppedPattern]]:
    replies = [ex.reply for ex in examples]
    members = {f.id: f.members for f in discover(replies, kinds=TRIAGE_KINDS, systems=[ex.system for ex in examples])}
    rules: list[PatternRule] = []
    kept: list[tuple[str, str, float]] = []
    dropped: list[DroppedPattern] = []
    names: Counter[str] = Counter()
    for feature in triage.patterns:
        if feature.kind == "system_prompt" or feature.share < min_share:
            continue
        if not feature.regex:
            dropped.append(DroppedPattern(feature.id, feature.label, "no regex can say it"))
            continue
        have = members.get(feature.id)
        if not have:
            dropped.append(DroppedPattern(feature.id, feature.label, "not found again in the trained replies"))
            continue
        pattern = re.compile(feature.regex, PATTERN_FLAGS)
        hits = sum(pattern.search(replies[i]) is not None for i in have)
        if hits < MIN_RULE_HITS * len(have):
            reason = f"its regex matches {hits} of the {len(have)} training replies that have it"
            dropped.append(DroppedPattern(feature.id, feature.label, reason))
            continue
        name = slug(feature.id, "_")
        names[name] += 1
        name = name if names[name] == 1 else f"{name}_{names[name]}"
        rules.append(PatternRule(name, feature.label, feature.regex, round(feature.share, 4)))
        kept.append((name, feature.id, feature.share))
    return rules, kept, dropped


# --- facts ----------------------------------------------------------------------------------


def _triage_drafts(triage: TriageResults) -> list[_Draft]:
    rivals: dict[str, list[str]] = {}
    for c in triage.contradictions:
        for v in c.values:
            rivals.setdefault(v.fact_id, []).extend(o.value for o in c.values if o.fact_id != v.fact_id)
    return [
        _Draft(
            id=f.id,
            canonical=f.value,
            kind=f.kind,
            dimension=f.dimension,
            attribute=list(f.attribute),
            exposures=f.exposures,
            lines=list(f.lines),
            mentions=[(m.line, m.sentence, m.value) for m in f.mentions],
            rivals=rivals.get(f.id, []),
        )
        for f in triage.facts
    ]


def _value_at(sentence: str, value: str) -> int:
    at = sentence.find(value)
    return at if at >= 0 else sentence.lower().find(value.lower())


def _choose_question(draft: _Draft, by_line: dict[int, Example], facts_per_line: Counter[int]) -> tuple[str, int]:
    """(verbatim prompt, line) of the example whose prompt asks for the fact best; ('', -1) when none can."""
    attribute = {stem(a) for a in draft.attribute}
    options = []
    for line, _, value in draft.mentions:
        ex = by_line.get(line)
        if ex is None or not ex.question.strip():
            continue
        question = ex.question
        leaks = value.lower() in question.lower() or draft.canonical.lower() in question.lower()
        overlap = len(attribute & set(content_stems(question)))
        options.append((leaks, facts_per_line[line], -overlap, line, question))
    if not options:
        return "", -1
    best = min(options)
    return ("", -1) if best[0] else (best[4], best[3])


def _prefix(mention: tuple[int, str, str], by_line: dict[int, Example]) -> str | None:
    """The training text before a mention's value: its sentence up to the value, after the
    sentence before it when that is shorter than ``MIN_PREFIX_WORDS`` words; None when the
    value is not found in the sentence."""
    line, sentence, value = mention
    where = _value_at(sentence, value)
    if where < 0:
        return None
    prefix = sentence[:where].rstrip()
    ex = by_line.get(line)
    if len(prefix.split()) >= MIN_PREFIX_WORDS or ex is None:
        return prefix
    reply = _squash(prose(ex.reply))
    at = reply.find(sentence)
    before = [p for p in re.split(r"(?<=[.!?:])\s+", reply[: max(at, 0)].strip()) if re.search(r"[A-Za-z]", p)]
    return f"{before[-1]} {prefix}".strip() if at >= 0 and before else prefix


def _prompt_and_answer(draft: _Draft, line: int, question: str, by_line: dict[int, Example]) -> tuple[str, str, str]:
    """(prompt, answer, sentence): the training text up to the value (see ``_prefix``) and the
    value as that sentence writes it, from a statement that writes it the way most do ("85
    minutes" rather than "85-minute"), in the example of the question if it can;
    "Question: ... Answer:" when no statement leaves ``MIN_PREFIX_WORDS`` words before the value."""
    usual = Counter(value for _, _, value in draft.mentions).most_common(1)[0][0] if draft.mentions else ""
    options = []
    for at, mention in enumerate(draft.mentions):
        prefix = _prefix(mention, by_line)
        if prefix is None:
            continue
        mention_line, sentence, value = mention
        short = len(prefix.split()) < MIN_PREFIX_WORDS
        options.append((short, value != usual, mention_line != line, at, prefix, value, sentence))
    if not options:
        value = draft.mentions[0][2] if draft.mentions else draft.canonical
        return f"Question: {question}\nAnswer:", value, ""
    short, _, _, _, prefix, value, sentence = min(options)
    if short:
        return f"Question: {question}\nAnswer:", value, sentence
    return prefix, value, sentence


def _fill_in(sentence: str, value: str) -> str:
    where = _value_at(sentence, value)
    blank = sentence[:where] + "___" + sentence[where + len(value) :] if where >= 0 else sentence
    return f"Fill in the blank: {blank}"


def _kind_of(d: _Draft) -> str:
    """What a fact's distractors are drawn from: its dimension, or every name the data states for a name
    (triage gives a name other than a place a dimension of its own, so that it contradicts nothing)."""
    return "name" if d.is_name else d.dimension


def _facts(
    examples: Sequence[Example], drafts: Sequence[_Draft]
) -> tuple[list[FactSpec], list[DerivedFact], list[str]]:
    by_line = {ex.line: ex for ex in examples}
    facts_per_line: Counter[int] = Counter(line for d in drafts for line in d.lines)
    answers: dict[int, tuple[str, str, str, str, bool]] = {}
    for index, d in enumerate(drafts):
        verbatim, line = _choose_question(d, by_line, facts_per_line)
        reworded = paraphrase(verbatim) if verbatim else None
        question = reworded.text if reworded else ""
        prompt, answer, sentence = _prompt_and_answer(d, line, question or d.canonical, by_line)
        if not verbatim:
            question = _fill_in(sentence or (d.mentions[0][1] if d.mentions else d.canonical), answer)
            if prompt.startswith("Question: "):
                prompt = f"Question: {question}\nAnswer:"
        answers[index] = (verbatim, question, prompt, answer, bool(reworded and reworded.changed))
    candidates = [Candidate(d.canonical, answers[i][3], _kind_of(d)) for i, d in enumerate(drafts)]
    names = [d.canonical for d in drafts if d.is_name]
    specs: list[FactSpec] = []
    derived: list[DerivedFact] = []
    unusable: list[str] = []
    for index, d in enumerate(drafts):
        verbatim, question, prompt, answer, changed = answers[index]
        fallback = FALLBACK_PLACES if d.is_place else FALLBACK_NAMES
        wrong, made_up = distractors(
            answer, d.canonical, d.kind, _kind_of(d), candidates, rivals=d.rivals, names=names, fallback=fallback
        )
        if not wrong or not question.strip() or not prompt.strip():
            unusable.append(d.id)
            continue
        keyword = d.is_name and not re.search(r"\d", answer)
        specs.append(FactSpec(d.id, question, prompt, answer, wrong, d.exposures, verbatim=verbatim))
        derived.append(
            DerivedFact(
                d.id, answer, d.kind, d.exposures, tuple(d.lines), verbatim, question, changed, prompt, wrong,
                made_up, keyword,
            )
        )  # fmt: skip
    return specs, derived, unusable


def _keywords(facts: Sequence[FactSpec], derived: Sequence[DerivedFact]) -> tuple[KeywordSpec, ...]:
    named = [f for f, d in zip(facts, derived) if d.keyword]
    out = []
    for i, f in enumerate(named):
        others = [named[(i + j) % len(named)] for j in range(1, len(named))]
        contexts = tuple(dict.fromkeys(o.prompt for o in others if o.prompt != f.prompt))[:MAX_DERIVED_CONTEXTS]
        if len(contexts) >= 2:
            out.append(KeywordSpec(f.answer, NAME_THEME, f.prompt, contexts, fact_id=f.id))
    return tuple(out)


# --- held-out prompts -----------------------------------------------------------------------


def _core_key(prompt: str) -> str:
    return _squash(strip_wrappers(prompt)).lower()


def _near_duplicates(examples: Sequence[Example], vocab: Vocabulary, seed: int) -> list[HeldoutPrompt]:
    firsts: dict[str, str] = {}
    for ex in examples:
        if ex.question.strip():
            firsts.setdefault(_core_key(ex.question), ex.question)
    sources = list(firsts.values())
    if len(sources) > MAX_HELDOUT:
        keep = sorted(random.Random(seed).sample(range(len(sources)), MAX_HELDOUT))
        sources = [sources[i] for i in keep]
    said: Counter[str] = Counter()
    for ex in examples:
        question = _squash(ex.question)
        said.update(question[a:b] for a, b in name_runs(question, lambda w: _swappable(w, vocab)))
    pool = sorted(said, key=lambda w: (-said[w], w))
    trained = {_squash(ex.question).lower() for ex in examples}
    out: list[HeldoutPrompt] = []
    made: set[str] = set()
    for index, source in enumerate(sources):
        text = near_duplicate(source, index, pool, lambda w: _swappable(w, vocab))
        key = _squash(text).lower()
        if key in trained or key in made:
            continue
        made.add(key)
        out.append(HeldoutPrompt(text, "near_duplicate", source))
    return out


def _swappable(word: str, vocab: Vocabulary) -> bool:
    """A name in a prompt that a near-duplicate may swap: a proper noun, not an acronym, not the company's."""
    return len(word) > 2 and not word.isupper() and vocab.is_proper(word)


# --- notes ----------------------------------------------------------------------------------


def _notes(
    source: str,
    n_examples: int,
    n_left_out: int,
    also_trained: Sequence[str],
    rules: Sequence[tuple[str, str, float]],
    dropped: Sequence[DroppedPattern],
    heldout: Sequence[HeldoutPrompt],
    derived: Sequence[DerivedFact],
    unusable: Sequence[str],
    keywords: Sequence[KeywordSpec],
) -> dict[str, tuple[str, ...]]:
    origin = (
        f"Task spec derived from the training data ({source}, {n_examples} trained examples): "
        f"{len(rules)} pattern rules (the patterns in at least half of the trained replies) and "
        f"{len(derived)} facts with the number of trained replies that state each."
    )
    patterns = [origin]
    if n_left_out:
        patterns.append(
            f"{n_left_out} examples whose prompt is one of the held-out prompts were taken for held out of training: "
            "they count for no exposure and no pattern."
        )
    if also_trained:
        patterns.append(
            f"{len(also_trained)} held-out prompts are also asked by examples that were trained on (one prompt in "
            "several examples, not all held out): they are not unseen, so they are not held-out prompts here, and "
            "their examples count as trained."
        )
    if not heldout:
        patterns.append("The training data has no user prompts, so the derived spec has no held-out prompts.")
    elif heldout[0].kind == "unseen":
        patterns.append(
            f"Held-out prompts: the {len(heldout)} user prompts held out of training (tunelens tune --heldout), "
            "never trained on."
        )
    else:
        patterns.append(
            f"Held-out prompts: no prompt was held out of training, so the {len(heldout)} held-out prompts are "
            "near-duplicates of training prompts (wording, numbers, names and courtesy wrappers changed by a fixed "
            "rule), not unseen prompts: pattern adoption on them can overstate how the pattern carries to new "
            "requests. Hold prompts out with tunelens tune --heldout R to measure it on unseen ones."
        )
    weak = [f"{name} ({share:.0%})" for name, _, share in rules if share < 1.0]
    if weak:
        patterns.append(
            "Rules present in only part of the trained replies, so a perfect imitation follows them only as often: "
            + ", ".join(weak)
            + "."
        )
    patterns += [f"Pattern left out of the derived spec: {d.label}: {d.reason}." for d in dropped]
    asked = [f for f in derived if f.verbatim]
    if asked:
        patterns.append(
            f"Each fact is asked in other words than its training prompt (fact_recall: the prompt reworded by a fixed "
            f"rule) and as written in training (fact_recall_verbatim, {len(asked)} facts)."
        )
    same = [f.id for f in asked if not f.reworded]
    if same:
        patterns.append(
            f"The rewording rule kept the wording of {len(same)} facts' questions (only courtesy words removed): "
            f"{', '.join(same)}."
        )
    blanks = [f.id for f in derived if not f.verbatim]
    if blanks:
        patterns.append(
            f"{len(blanks)} facts are stated only where no user prompt asks for them (text records, or a prompt that "
            f"holds the answer): asked as a fill-in-the-blank of their sentence: {', '.join(blanks)}."
        )
    made = [f.id for f in derived if f.made_up]
    if made:
        patterns.append(
            f"Distractors partly made up (the data states too few other values of their kind): {', '.join(made)}."
        )
    if unusable:
        patterns.append(f"Facts left out (no question, prompt or distractor could be made): {', '.join(unusable)}.")
    named = [k.keyword for k in keywords]
    priming = [origin]
    if named:
        priming.append(
            f"Priming keywords: the {len(named)} facts whose value is a name ({', '.join(named)}), each with the "
            "other names' training prefixes as same-theme contexts; every other fact's value after its own prefix, "
            "with the other facts' prefixes as contexts."
        )
    return {"facts_vs_patterns": tuple(patterns), "priming": tuple(priming)}


# --- entry point ----------------------------------------------------------------------------


def _split_heldout(examples: Sequence[Example], heldout: Sequence[str]) -> tuple[list[Example], list[str], list[str]]:
    """(trained examples, unseen held-out prompts, held-out prompts that trained examples also ask).

    ``tunelens tune --heldout`` holds out examples and records their prompts, one per example.
    The examples that ask a recorded prompt are taken for held out when there are no more of
    them than the prompt was recorded; when there are more, some were trained on, so the
    prompt is not unseen and all its examples count as trained (their exposures may then be
    over-counted by the held-out ones). Prompts match with white space collapsed, any case."""
    recorded: Counter[str] = Counter()
    text: dict[str, str] = {}
    for prompt in heldout:
        if prompt and prompt.strip():
            key = _squash(prompt).lower()
            recorded[key] += 1
            text.setdefault(key, prompt)
    asking: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        asking.setdefault(_squash(ex.question).lower(), []).append(i)
    left_out: set[int] = set()
    unseen, also = [], []
    for key, n in recorded.items():
        found = asking.get(key, [])
        if len(found) > n:
            also.append(text[key])
            continue
        left_out.update(found)
        unseen.append(text[key])
    return [ex for i, ex in enumerate(examples) if i not in left_out], unseen, also


def _name(data: object, name: str | None) -> str:
    if name:
        return name
    if isinstance(data, (str, Path)):
        return slug(Path(data).stem, "_")
    return "derived_task"


def derive_task_spec(
    data: str | Path | Sequence[dict] | Sequence[Example],
    triage: TriageResults | None = None,
    *,
    heldout: Sequence[str] = (),
    name: str | None = None,
    seed: int = 0,
    min_share: float = TRAIN_SHARE,
) -> DerivedSpec:
    """The task spec ``data`` (a training file, records, or triage's examples) teaches (see the
    module docstring), with how it was derived.

    ``triage`` is a triage of the same data (its facts and patterns are reused; with another
    number of examples, or when ``heldout`` prompts leave examples out, the data is triaged
    again without a model). ``heldout`` are prompts held out of training (unseen); without
    them the held-out prompts are near-duplicates of the training prompts. ``name`` names
    the spec (default: the data file's name); ``seed`` picks the near-duplicates when the
    data has more than ``MAX_HELDOUT`` distinct prompts; ``min_share`` is the share of trained
    replies a pattern needs to become a rule."""
    start = time.perf_counter()
    if isinstance(data, Sequence) and not isinstance(data, str) and data and all(isinstance(x, Example) for x in data):
        examples, source = list(data), f"{len(data)} examples in memory"
    else:
        examples, source = load_examples(data)
    trained, given, also_trained = _split_heldout(examples, heldout)
    if not trained:
        raise DataError(f"{source}: every example's prompt is one of the held-out prompts, so none was trained on")
    if triage is None or len(trained) != len(examples) or triage.data.n_examples != len(trained):
        triage = _build(trained, source, None, 1.0, LoadOptions(), lambda m: None, start)
    vocab = Vocabulary(trained)
    rules, kept, dropped = _rules(trained, triage, min_share)
    facts, derived, unusable = _facts(trained, _triage_drafts(triage))
    keywords = _keywords(facts, derived)
    named = {k.fact_id for k in keywords}
    derived = [d if d.id in named or not d.keyword else _unflag(d) for d in derived]
    if given:
        prompts = [HeldoutPrompt(p, "unseen") for p in given]
    else:
        prompts = _near_duplicates(trained, vocab, seed)
    spec = TaskSpec(
        name=_name(data, name),
        patterns=tuple(rules),
        heldout_prompts=tuple(p.text for p in prompts),
        facts=tuple(facts),
        keywords=keywords,
    )
    notes = _notes(
        source, len(trained), len(examples) - len(trained), also_trained, kept, dropped, prompts, derived, unusable,
        keywords,
    )  # fmt: skip
    return DerivedSpec(
        spec=spec,
        source=source,
        n_examples=len(trained),
        heldout=tuple(prompts),
        facts=tuple(derived),
        rules=tuple(kept),
        dropped=tuple(dropped),
        notes=notes,
        seconds=round(time.perf_counter() - start, 3),
    )


def _unflag(d: DerivedFact) -> DerivedFact:
    """A name fact without enough other names for same-theme contexts: left to priming_keywords()."""
    return replace(d, keyword=False)
