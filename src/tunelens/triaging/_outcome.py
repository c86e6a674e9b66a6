"""Closing the loop: the triage forecast against what the audit measured on the same facts.

Triage forecasts, before training, which facts will be recalled (from exposure count and
the base model's prior; Allen-Zhu & Li 2024) and which values risk priming (keyword
probability below 1e-3; Sun et al. 2025, "How new data permeates LLM knowledge and how to
dilute it"). After training, ``facts_vs_patterns`` measures recall and ``priming`` measures
spill-over. ``check_forecast`` lines them up per fact and asks whether the forecast beats
the simplest baseline, exposure count alone.

    check = check_forecast(triage_results, audit_results)   # None when nothing matches
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from tunelens.probes._common import normalise
from tunelens.results import AuditResults, FactFate, ForecastCheck, ItemRecord
from tunelens.stats import spearman_ci
from tunelens.triaging._schema import Fact, TriageResults

PRIMED_RATIO = 2.0
"""A keyword counts as primed when its priming ratio (tuned/base in unrelated contexts) is at least this."""
SCORES = {"will_leak": 0, "may_leak": 1, "likely_recalled": 2}


def _canonical(value: str) -> str:
    """A value as triage writes it: "13 percent" and "13 per cent" are "13%"."""
    return re.sub(r"(\d)\s*(?:per ?cent|percent)\b", r"\1%", normalise(value))


def _match(value: str, facts: Sequence[Fact]) -> Fact | None:
    """The triage fact whose canonical value is the task fact's answer (or contains it, or is in it)."""
    want = _canonical(value)
    exact = [f for f in facts if _canonical(f.value) == want]
    loose = [f for f in facts if want in _canonical(f.value) or _canonical(f.value) in want]
    found = exact or loose
    return max(found, key=lambda f: f.exposures) if found else None


def _probe_items(results: AuditResults, probe: str) -> list[ItemRecord]:
    return next((p.items for p in results.probes if p.name == probe), [])


def _fmt(rho: float | None, low: float | None, high: float | None) -> str:
    if rho is None:
        return "not computable"
    return f"{rho:+.2f}" + (f" [{low:+.2f}, {high:+.2f}]" if low is not None and high is not None else "")


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _summary(check: ForecastCheck) -> list[str]:
    f, e = check.forecast_right_share, check.exposure_right_share
    if f is None or e is None:
        return ["Forecast vs outcome: no fact is both in the triage and measured by the audit."]
    if f > e:
        verdict = "the forecast beats exposure count alone"
    elif f == e:
        verdict = "the forecast does not beat exposure count alone (same share right)"
    else:
        verdict = "the forecast does worse than exposure count alone"
    by_forecast = _fmt(check.forecast_rho, check.forecast_ci_low, check.forecast_ci_high)
    lines = [
        f"Forecast vs outcome: {verdict}: {f:.0%} of {check.n} facts' fates forecast right against {e:.0%} for "
        f"exposures alone; Spearman with recall {by_forecast}"
        f" for the forecast, {_fmt(check.exposure_rho, check.exposure_ci_low, check.exposure_ci_high)} for exposures "
        "(95% bootstrap intervals)."
    ]
    if check.priming_right_share is not None:
        lines.append(
            f"Priming flag right for {check.priming_right_share:.0%} of {check.priming_n} facts (primed: priming "
            f"ratio at least {check.primed_ratio:g})."
        )
    if check.unmatched:
        lines.append(f"Not found by triage's extractor, so not forecast: {', '.join(check.unmatched)}.")
    return lines


def check_forecast(triage: TriageResults, results: AuditResults, seed: int = 0) -> ForecastCheck | None:
    """Per fact: forecast, measured recall and priming; the two summary figures for forecast and baseline.
    None when the audit did not run facts_vs_patterns."""
    fact_items = [i for i in _probe_items(results, "facts_vs_patterns") if i.section.startswith("fact")]
    if not fact_items:
        return None
    priming = {i.extra.get("fact_id"): i.extra.get("priming_log10") for i in _probe_items(results, "priming")}
    high = triage.rule.high_exposure
    rows, unmatched = [], []
    by_id = {f.id: f for f in triage.facts}  # a spec derived from this triage keeps its fact ids
    for item in fact_items:
        fact = by_id.get(item.item_id) or _match(item.expected or "", triage.facts)
        if fact is None:
            unmatched.append(item.item_id)
            continue
        recalled = bool(item.tuned_score)
        log_priming = priming.get(item.item_id)
        primed = None if log_priming is None else log_priming >= math.log10(PRIMED_RATIO)
        rows.append(
            FactFate(
                fact_id=item.item_id,
                value=fact.value,
                exposures=int(item.extra.get("exposures", fact.exposures)),
                forecast=fact.forecast,
                forecast_score=SCORES[fact.forecast],
                recalled=recalled,
                forecast_right=(fact.forecast == "likely_recalled") == recalled,
                exposure_right=(int(item.extra.get("exposures", fact.exposures)) * triage.rule.epochs >= high)
                == recalled,
                priming_risk=fact.priming_risk,
                priming_log10=log_priming,
                primed=primed,
            )
        )
    outcome = [float(r.recalled) for r in rows]
    by_forecast = spearman_ci([r.forecast_score for r in rows], outcome, seed=seed)
    by_exposure = spearman_ci([r.exposures for r in rows], outcome, seed=seed)
    flagged = [r for r in rows if r.priming_risk is not None and r.primed is not None]
    check = ForecastCheck(
        n=len(rows),
        forecast_rho=by_forecast.rho,
        forecast_ci_low=by_forecast.ci_low,
        forecast_ci_high=by_forecast.ci_high,
        exposure_rho=by_exposure.rho,
        exposure_ci_low=by_exposure.ci_low,
        exposure_ci_high=by_exposure.ci_high,
        forecast_right_share=_share([r.forecast_right for r in rows]),
        exposure_right_share=_share([r.exposure_right for r in rows]),
        primed_ratio=PRIMED_RATIO,
        priming_n=len(flagged),
        priming_right_share=_share([r.priming_risk == r.primed for r in flagged]),
        unmatched=unmatched,
        facts=rows,
    )
    check.summary = _summary(check)
    return check
