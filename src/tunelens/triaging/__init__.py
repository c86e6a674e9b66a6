"""Triage a training set before training: patterns to train, point facts to retrieve, contradictions to fix.

    import tunelens
    results = tunelens.triage("data.jsonl", out_dir="triage")   # writes triage.json and triage.html
    for line in results.recommendation.summary:
        print(line)

Run from the shell as ``tunelens triage DATA.jsonl [--model M | --no-model] [--out DIR]``.
"""

from tunelens.triaging._derive import DerivedFact, DerivedSpec, DroppedPattern, HeldoutPrompt, derive_task_spec
from tunelens.triaging._evaluate import ExtractorScore, score_against_task
from tunelens.triaging._forecast import forecast, forecast_rule
from tunelens.triaging._html import render_triage_html
from tunelens.triaging._outcome import PRIMED_RATIO, check_forecast
from tunelens.triaging._run import build_triage, load_triage, triage, write_triage
from tunelens.triaging._schema import (
    TRIAGE_SCHEMA_VERSION,
    Contradiction,
    ContradictionValue,
    DataSummary,
    Fact,
    FactMention,
    ForecastRule,
    PatternFeature,
    Recommendation,
    TriageResults,
)

__all__ = [
    "PRIMED_RATIO",
    "TRIAGE_SCHEMA_VERSION",
    "Contradiction",
    "ContradictionValue",
    "DataSummary",
    "DerivedFact",
    "DerivedSpec",
    "DroppedPattern",
    "ExtractorScore",
    "Fact",
    "FactMention",
    "ForecastRule",
    "HeldoutPrompt",
    "PatternFeature",
    "Recommendation",
    "TriageResults",
    "build_triage",
    "check_forecast",
    "derive_task_spec",
    "forecast",
    "forecast_rule",
    "load_triage",
    "render_triage_html",
    "score_against_task",
    "triage",
    "write_triage",
]
