"""The triage's recommendation: which patterns to train, which facts to retrieve, what to fix first.

* Train the patterns present in at least half of the examples: fine-tuning installs them
  durably.
* Serve by retrieval every fact not forecast as likely recalled, and every price or date
  whatever its forecast: a trained value goes stale when the world changes, a retrieved
  one is edited in place.
* Resolve contradictions first, likely ones and those with the most exposures first: a
  model trained on both values learns a blend of them.
* Facts whose value risks priming (Sun et al. 2025) are listed with the mitigations that
  paper found: stepping-stone rewriting of the text, ignore-k update pruning.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunelens.triaging._schema import Contradiction, Fact, PatternFeature, Recommendation

MAX_NAMED = 3
"""How many items a summary sentence names before saying how many more there are."""


def _listing(items: Sequence[str]) -> str:
    named = ", ".join(items[:MAX_NAMED])
    return named + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _short(feature: PatternFeature) -> str:
    """A pattern in a few words: the line or phrase itself, else its label in lower case."""
    if feature.kind in ("opening_line", "closing_line", "opening_words", "closing_words"):
        words = feature.label.split("\u201c", 1)[1].rstrip("\u201d")
        where = "opening" if feature.kind.startswith("opening") else "ending"
        return f"the {where} \u201c{words}\u201d"
    return feature.label[0].lower() + feature.label[1:]


def _contradiction_text(c: Contradiction) -> str:
    sides = " vs ".join(
        f"{v.value} (line{'s' if len(v.lines) > 1 else ''} {', '.join(str(n) for n in v.lines[:3])}"
        f"{', ...' if len(v.lines) > 3 else ''})"
        for v in c.values
    )
    return f"\u201c{', '.join(c.attribute)}\u201d: {sides}"


def recommend(
    patterns: Sequence[PatternFeature], facts: Sequence[Fact], contradictions: Sequence[Contradiction], has_model: bool
) -> Recommendation:
    """What to train, what to retrieve and what to fix, with the reasons in sentences."""
    train = [p for p in patterns if p.train]
    in_conflict = {v.fact_id for c in contradictions for v in c.values}
    retrieval = [f for f in facts if f.forecast != "likely_recalled" or f.volatile]
    trainable = [f for f in facts if f.forecast == "likely_recalled" and not f.volatile and f.id not in in_conflict]
    priming = [f for f in facts if f.priming_risk]
    summary = []
    if contradictions:
        first = _contradiction_text(contradictions[0])
        summary.append(f"Resolve {_plural(len(contradictions), 'contradiction')} before training, first {first}.")
    if train:
        named = _listing([_short(p) for p in train])
        summary.append(
            f"Train the {_plural(len(train), 'pattern')} found in at least half of the examples, which fine-tuning "
            f"installs durably: {named}."
        )
    elif patterns:
        summary.append("No pattern recurs in half of the examples: there is little consistent style to train.")
    if retrieval:
        leak = sum(f.forecast == "will_leak" for f in retrieval)
        may = sum(f.forecast == "may_leak" for f in retrieval)
        stale = sum(f.volatile for f in retrieval)
        why = [f"{leak} will leak" if leak else "", f"{may} may leak" if may else "", f"{stale} are prices or dates"]
        summary.append(
            f"Move {len(retrieval)} of {_plural(len(facts), 'fact')} to retrieval ({'; '.join(w for w in why if w)}): "
            f"{_listing([f.value for f in retrieval])}."
        )
    if train and facts:
        summary.append(
            "`tunelens tune BASE DATA --method split` does both in one run: the patterns train, every fact goes "
            "to a fact sheet that retrieval serves, and an edit of the sheet updates a fact."
        )
    if trainable:
        summary.append(
            f"{_plural(len(trainable), 'fact')} should stick (seen often enough or already expected): "
            f"{_listing([f.value for f in trainable])}."
        )
    if priming:
        summary.append(
            f"{_plural(len(priming), 'value')} hold a token the base model finds surprising (probability below "
            f"0.001) and risk priming, showing up in unrelated answers: {_listing([f.value for f in priming])}. "
            "Retrieval avoids it; if you train them, rewrite with stepping-stone context or prune the largest "
            "updates (Sun et al. 2025)."
        )
    if not facts:
        summary.append("No point facts found: the data teaches patterns only.")
    if not has_model and facts:
        summary.append("Priors were not measured (no model): forecasts rest on exposure counts alone.")
    return Recommendation(
        train_patterns=[p.id for p in train],
        retrieval_facts=[f.id for f in retrieval],
        trainable_facts=[f.id for f in trainable],
        priming_facts=[f.id for f in priming],
        resolve_first=[c.id for c in contradictions],
        summary=summary,
    )
