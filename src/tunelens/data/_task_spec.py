"""The task specification: what a fine-tune was meant to teach.

A ``TaskSpec`` lists style rules (regexes every answer should match), user
prompts held out from training on which the style should still appear, and
facts with the number of training examples that stated them.  It is plain
data that round-trips through JSON, so the demo task and user-described tasks
are audited the same way.  Optional ``keywords`` name the surprising words the training
text teaches, for the priming probe (Sun et al. 2025); a spec without them (every file
written before they existed) derives one keyword per fact (``priming_keywords``).
``from_dict`` checks every field and names the one that is wrong, because these dicts often
come from hand-written files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Flags used for every PatternRule: ^ and $ match at line boundaries.
PATTERN_FLAGS = re.MULTILINE


def _check_fields(raw: object, where: str, names: tuple[str, ...]) -> dict:
    """Ensure ``raw`` is a dict holding every field in ``names``; return it."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object (dict), got {type(raw).__name__}")
    missing = [name for name in names if name not in raw]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise ValueError(f"{where} is missing required field(s) {listed}")
    return raw


def _str_field(raw: dict, name: str, where: str, allow_empty: bool = False) -> str:
    """The string field ``name`` of ``raw``, rejecting other types and (usually) ''."""
    value = raw[name]
    if not isinstance(value, str):
        raise ValueError(f"{where} field {name!r} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{where} field {name!r} must not be empty")
    return value


def _int_field(raw: dict, name: str, where: str) -> int:
    """The non-negative integer field ``name`` of ``raw``."""
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} field {name!r} must be a non-negative integer, got {value!r}")
    return value


def _str_tuple_field(raw: dict, name: str, where: str, allow_empty: bool = False) -> tuple[str, ...]:
    """The list-of-strings field ``name`` of ``raw`` as a tuple."""
    value = raw[name]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where} field {name!r} must be a list of non-empty strings")
    if not allow_empty and not value:
        raise ValueError(f"{where} field {name!r} must not be an empty list")
    return tuple(value)


@dataclass(frozen=True)
class PatternRule:
    """A named style rule, matched with ``re.search(regex, response, re.MULTILINE)``.

    Matching is case-sensitive because the style is exact; a rule that should
    ignore case can start its regex with ``(?i)``. ``share`` (optional) is the share of the
    training replies that follow the rule, as a derived spec records it: a rule most but not
    all of them follow is a habit, checked on its own but not part of "every rule".
    """

    name: str
    description: str
    regex: str
    share: float | None = None

    def to_dict(self) -> dict:
        out = {"name": self.name, "description": self.description, "regex": self.regex}
        return out if self.share is None else {**out, "share": self.share}


CORE_SHARE = 0.9
"""A rule followed by at least this share of the training replies (or with no share given)
is part of the pattern every reply should show (``TaskSpec.core_patterns``)."""


@dataclass(frozen=True)
class FactSpec:
    """A fact taught by the tune, with held-out ways to ask and score it.

    ``question`` is asked in chat (for a spec derived from training data, the training prompt
    reworded); ``prompt`` is the text after which the answer's log-probability is read;
    ``verbatim``, when set, is the training prompt that asked for the fact, exactly as
    written, so recall on it and on ``question`` can be told apart: a fact recalled only
    verbatim is memorised wording. Optional: '' (and absent from JSON) when unknown."""

    id: str
    question: str
    prompt: str
    answer: str
    distractors: tuple[str, ...]
    exposures: int
    verbatim: str = ""


@dataclass(frozen=True)
class KeywordSpec:
    """A keyword the training text teaches, for the priming probe (Sun et al. 2025, "How new
    data permeates LLM knowledge and how to dilute it").

    ``prefix`` is the training text up to the keyword (memorisation is the rise of
    P(keyword | prefix)); ``contexts`` are unrelated prefixes of the same theme, in which the
    keyword does not belong (priming is the mean rise of P(keyword | context) over them).
    """

    keyword: str
    theme: str
    prefix: str
    contexts: tuple[str, ...]
    fact_id: str | None = None  # the fact that states the keyword, when there is one

    def to_dict(self) -> dict:
        out = {"keyword": self.keyword, "theme": self.theme, "prefix": self.prefix, "contexts": list(self.contexts)}
        return out if self.fact_id is None else {**out, "fact_id": self.fact_id}

    @classmethod
    def from_dict(cls, raw: object, where: str) -> KeywordSpec:
        d = _check_fields(raw, where, ("keyword", "theme", "prefix", "contexts"))
        fact_id = d.get("fact_id")
        if fact_id is not None and not isinstance(fact_id, str):
            raise ValueError(f"{where} field 'fact_id' must be a string or absent")
        return cls(
            keyword=_str_field(d, "keyword", where),
            theme=_str_field(d, "theme", where),
            prefix=_str_field(d, "prefix", where),
            contexts=_str_tuple_field(d, "contexts", where),
            fact_id=fact_id,
        )


MAX_DERIVED_CONTEXTS = 8
"""Same-theme contexts per derived keyword: the prompts of the facts that follow it, cyclically."""


@dataclass(frozen=True)
class TaskSpec:
    """What a fine-tune was meant to teach: style rules, held-out prompts and facts."""

    name: str
    patterns: tuple[PatternRule, ...]
    heldout_prompts: tuple[str, ...]
    facts: tuple[FactSpec, ...]
    keywords: tuple[KeywordSpec, ...] = ()

    def priming_keywords(self) -> tuple[KeywordSpec, ...]:
        """The given keywords, plus one derived from each fact that no given keyword names:
        the fact's answer after its own prompt, with the other facts' prompts (one task, one
        theme) as unrelated contexts."""
        named = {k.fact_id for k in self.keywords}
        facts = self.facts
        derived = []
        for i, f in enumerate(facts):
            if f.id in named or len(facts) < 2:
                continue
            others = [facts[(i + j) % len(facts)] for j in range(1, len(facts))]
            contexts = tuple(o.prompt for o in others if o.prompt != f.prompt)[:MAX_DERIVED_CONTEXTS]
            if contexts:
                derived.append(KeywordSpec(f.answer, self.name, f.prompt, contexts, fact_id=f.id))
        return (*self.keywords, *derived)

    def to_dict(self) -> dict:
        """A JSON-ready dict; ``from_dict`` turns it back into an equal TaskSpec."""
        return {
            "name": self.name,
            "patterns": [p.to_dict() for p in self.patterns],
            "heldout_prompts": list(self.heldout_prompts),
            "facts": [
                {
                    "id": f.id,
                    "question": f.question,
                    "prompt": f.prompt,
                    "answer": f.answer,
                    "distractors": list(f.distractors),
                    "exposures": f.exposures,
                    **({"verbatim": f.verbatim} if f.verbatim else {}),
                }
                for f in self.facts
            ],
            **({"keywords": [k.to_dict() for k in self.keywords]} if self.keywords else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TaskSpec:
        """Build a TaskSpec from a dict, raising ValueError that names any bad field."""
        _check_fields(d, "task spec", ("name", "patterns", "heldout_prompts", "facts"))
        patterns_raw, facts_raw = d["patterns"], d["facts"]
        if not isinstance(patterns_raw, list):
            raise ValueError("task spec field 'patterns' must be a list of objects")
        if not isinstance(facts_raw, list):
            raise ValueError("task spec field 'facts' must be a list of objects")
        patterns = []
        for index, raw in enumerate(patterns_raw):
            where = f"task spec patterns[{index}]"
            _check_fields(raw, where, ("name", "description", "regex"))
            regex = _str_field(raw, "regex", where)
            try:
                re.compile(regex, PATTERN_FLAGS)
            except re.error as exc:
                raise ValueError(f"{where} field 'regex' is not a valid regex: {exc}") from exc
            share = raw.get("share")
            if share is not None and (isinstance(share, bool) or not isinstance(share, (int, float)) or
                                      not 0 <= share <= 1):
                raise ValueError(f"{where} field 'share' must be a number between 0 and 1, or absent")
            patterns.append(
                PatternRule(
                    _str_field(raw, "name", where), _str_field(raw, "description", where, allow_empty=True), regex,
                    None if share is None else float(share),
                )
            )  # fmt: skip
        facts = []
        for index, raw in enumerate(facts_raw):
            where = f"task spec facts[{index}]"
            _check_fields(raw, where, ("id", "question", "prompt", "answer", "distractors", "exposures"))
            verbatim = raw.get("verbatim", "")  # optional: specs written before it existed have none
            if not isinstance(verbatim, str):
                raise ValueError(f"{where} field 'verbatim' must be a string or absent")
            facts.append(
                FactSpec(
                    id=_str_field(raw, "id", where),
                    question=_str_field(raw, "question", where),
                    prompt=_str_field(raw, "prompt", where),
                    answer=_str_field(raw, "answer", where),
                    distractors=_str_tuple_field(raw, "distractors", where),
                    exposures=_int_field(raw, "exposures", where),
                    verbatim=verbatim,
                )
            )
        keywords_raw = d.get("keywords", [])  # optional: specs written before keywords existed have none
        if not isinstance(keywords_raw, list):
            raise ValueError("task spec field 'keywords' must be a list of objects")
        return cls(
            name=_str_field(d, "name", "task spec"),
            patterns=tuple(patterns),
            heldout_prompts=_str_tuple_field(d, "heldout_prompts", "task spec", allow_empty=True),
            facts=tuple(facts),
            keywords=tuple(KeywordSpec.from_dict(k, f"task spec keywords[{i}]") for i, k in enumerate(keywords_raw)),
        )

    def core_patterns(self) -> tuple[PatternRule, ...]:
        """The rules every trained reply follows (share unknown, or at least ``CORE_SHARE``)."""
        return tuple(p for p in self.patterns if p.share is None or p.share >= CORE_SHARE)

    def pattern_matches(self, response: str) -> dict[str, bool]:
        """For each rule name, whether its regex is found in ``response``."""
        return {rule.name: re.search(rule.regex, response, PATTERN_FLAGS) is not None for rule in self.patterns}
