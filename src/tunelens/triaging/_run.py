"""Triage a training set before spending compute on it, and write triage.json and triage.html.

    import tunelens
    results = tunelens.triage("tunelens-demo/data.jsonl", out_dir="triage")
    results = tunelens.triage("data.jsonl", model=None)  # no model: exposure counts only

The data is read and checked before anything is written; both files are written
atomically, after everything has been computed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from tunelens._version import __version__
from tunelens.data import FORMS
from tunelens.errors import TunelensError
from tunelens.models import DEFAULT_MODEL, LoadedModel, LoadOptions
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.probes._surface import slug
from tunelens.results import load_versioned
from tunelens.triaging._contradictions import ContradictionGroup, find_contradictions
from tunelens.triaging._examples import Example, load_examples
from tunelens.triaging._facts import FactGroup, Vocabulary, extract_mentions, group_facts, spell
from tunelens.triaging._forecast import Prior, forecast, forecast_rule, score_priors, scored_per_fact
from tunelens.triaging._html import render_triage_html
from tunelens.triaging._patterns import median_words, pattern_features
from tunelens.triaging._recommend import recommend
from tunelens.triaging._schema import (
    TRIAGE_SCHEMA_VERSION,
    Contradiction,
    ContradictionValue,
    DataSummary,
    Fact,
    FactMention,
    TriageResults,
)

MAX_MENTIONS = 10
"""Mentions kept per fact in triage.json (every line number is kept)."""
VOLATILE_KINDS = frozenset({"money", "date"})


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fact_models(
    groups: Sequence[FactGroup], vocab: Vocabulary, priors: list[list[Prior | None]] | None, epochs: float
) -> list[Fact]:
    rule = forecast_rule(epochs)
    seen: Counter[str] = Counter()
    facts = []
    for index, group in enumerate(groups):
        attribute = spell(group.attribute, [group], vocab)
        base = slug(f"{group.canonical} {attribute[0] if attribute else ''}", empty="fact")
        seen[base] += 1
        scored = priors[index] if priors is not None else []
        known = [s for s in scored if s is not None]
        prior = _mean([s.logprob for s in known])
        keyword = _mean([s.keyword_logprob for s in known])
        label, reason, priming = forecast(group.exposures, prior, keyword, rule)
        mentions = []
        for i, m in enumerate(group.mentions[:MAX_MENTIONS]):
            score = scored[i] if i < len(scored) else None
            mentions.append(
                FactMention(
                    line=m.line,
                    value=m.value.surface,
                    sentence=m.sentence,
                    prior_logprob=score.logprob if score else None,
                    keyword_logprob=score.keyword_logprob if score else None,
                )
            )
        facts.append(
            Fact(
                id=base if seen[base] == 1 else f"{base}-{seen[base]}",
                value=group.canonical,
                kind=group.kind,
                dimension=group.dimension,
                attribute=attribute,
                entities=sorted(group.core_entities),
                exposures=group.exposures,
                lines=group.lines,
                mentions=mentions,
                prior_logprob=prior,
                prior_prob=None if prior is None else math.exp(prior),
                keyword_prob=None if keyword is None else math.exp(keyword),
                forecast=label,
                reason=reason,
                priming_risk=priming,
                volatile=group.kind in VOLATILE_KINDS,
            )
        )
    return facts


def _contradiction_models(
    found: Sequence[ContradictionGroup], groups: Sequence[FactGroup], facts: Sequence[Fact], vocab: Vocabulary
) -> list[Contradiction]:
    by_group = {id(g): f for g, f in zip(groups, facts)}
    out = []
    for number, c in enumerate(found, start=1):
        values = [
            ContradictionValue(
                fact_id=by_group[id(g)].id,
                value=g.canonical,
                exposures=g.exposures,
                lines=g.lines,
                sentence=g.mentions[0].sentence,
            )
            for g in c.facts
        ]
        out.append(
            Contradiction(
                id=f"contradiction-{number}",
                dimension=c.facts[0].dimension,
                attribute=spell(c.shared, c.facts, vocab),
                strength=c.strength,
                values=values,
            )
        )
    return out


def _summary(examples: Sequence[Example], source: str) -> DataSummary:
    forms = Counter(ex.form for ex in examples)
    return DataSummary(
        source=source,
        n_examples=len(examples),
        forms={form: forms[form] for form in FORMS if forms[form]},
        median_reply_words=median_words(examples),
    )


def _priors(
    model: str | LoadedModel, examples: Sequence[Example], groups: Sequence[FactGroup], options: LoadOptions
) -> tuple[list[list[Prior | None]], str, str]:
    from tunelens.engine import Engine
    from tunelens.models import load_model

    loaded = load_model(model, options) if isinstance(model, str) else model
    priors = score_priors(Engine(loaded), examples, groups)
    n = sum(s is not None for row in priors for s in row)
    note = (
        f"Priors from {loaded.ref}: log P(value | the example up to the value, in the model's chat format) and "
        f"the value's least likely token, averaged over up to {scored_per_fact(len(groups))} mentions per fact "
        f"({n} scored)."
    )
    return priors, loaded.ref, note


def _build(
    examples: Sequence[Example],
    source: str,
    model: str | LoadedModel | None,
    epochs: float,
    options: LoadOptions,
    progress: Callable[[str], None],
    start: float,
) -> TriageResults:
    vocab = Vocabulary(examples)
    groups = group_facts(extract_mentions(examples, vocab), examples, vocab)
    patterns = pattern_features(examples)
    priors, ref = None, None
    note = "No model (--no-model): priors not measured; forecasts use exposure counts only and priming risk is unknown."
    if model is not None and groups:
        progress(f"scoring the prior of {len(groups)} facts with {model if isinstance(model, str) else model.ref}")
        priors, ref, note = _priors(model, examples, groups, options)
    elif model is not None:
        ref, note = (model if isinstance(model, str) else model.ref), "No point facts, so no priors to measure."
    facts = _fact_models(groups, vocab, priors, epochs)
    contradictions = _contradiction_models(find_contradictions(groups, vocab), groups, facts, vocab)
    return TriageResults(
        tunelens_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        data=_summary(examples, source),
        model=ref,
        model_note=note,
        rule=forecast_rule(epochs),
        patterns=patterns,
        facts=facts,
        contradictions=contradictions,
        recommendation=recommend(patterns, facts, contradictions, has_model=priors is not None),
        seconds=time.perf_counter() - start,
    )


def _check_epochs(epochs: float) -> None:
    if not epochs > 0:
        raise TunelensError(f"epochs must be positive, got {epochs:g}")


def build_triage(
    data: str | Path | Sequence[dict],
    *,
    model: str | LoadedModel | None = DEFAULT_MODEL,
    epochs: float = 1.0,
    options: LoadOptions = LoadOptions(),
    progress: Callable[[str], None] = lambda message: None,
) -> TriageResults:
    """Triage ``data`` (a JSONL path or records) and return the results; writes nothing."""
    _check_epochs(epochs)
    start = time.perf_counter()
    examples, source = load_examples(data)
    return _build(examples, source, model, epochs, options, progress, start)


def write_triage(results: TriageResults, out_dir: str | Path) -> tuple[Path, Path]:
    """Write triage.json and triage.html into ``out_dir`` (each atomically); returns both paths."""
    out = prepare_out_dir(out_dir)
    html = render_triage_html(results)
    json_path = atomic_write_text(out / "triage.json", results.model_dump_json(indent=1))
    return json_path, atomic_write_text(out / "triage.html", html)


def load_triage(path: str | Path) -> TriageResults:
    """Read a triage.json, refusing unknown major schema versions."""
    return load_versioned(path, TriageResults, TRIAGE_SCHEMA_VERSION, "triage", "run tunelens triage again")


def triage(
    data: str | Path | Sequence[dict],
    *,
    model: str | LoadedModel | None = DEFAULT_MODEL,
    out_dir: str | Path | None = "tunelens-triage",
    epochs: float = 1.0,
    options: LoadOptions = LoadOptions(),
    progress: Callable[[str], None] = lambda message: None,
) -> TriageResults:
    """Say which parts of ``data`` are patterns (train them) and which are point facts (retrieve them).

    ``model`` measures each fact's prior (None skips it); ``out_dir`` receives triage.json and
    triage.html (None writes nothing). ``epochs`` scales exposure counts in the forecast.
    """
    _check_epochs(epochs)
    start = time.perf_counter()
    examples, source = load_examples(data)  # a malformed file fails here, before anything is written
    progress(f"read {len(examples)} examples from {source}")
    if out_dir is not None:
        prepare_out_dir(out_dir)  # an unwritable folder fails before the model loads, not after
    results = _build(examples, source, model, epochs, options, progress, start)
    if out_dir is not None:
        write_triage(results, out_dir)
    return results
