"""The CI gate: which metrics fail it, the exit codes, and the JSON summary."""

from __future__ import annotations

import json

import pytest

from tunelens.gate import EXIT_CODES, check_gate, summary_dict
from tunelens.results import AuditResults, Metric, ModelInfo, ProbeResult


def _metric(name: str, verdict: str | None, delta: float, *, headline: bool = True, negligible: bool = False,
            higher_is_better: bool | None = True) -> Metric:  # fmt: skip
    return Metric(
        name=name, probe="p", label=name, unit="rate", higher_is_better=higher_is_better, base=0.5,
        tuned=0.5 + delta, delta=delta, ci_low=delta - 0.05, ci_high=delta + 0.05, n=100, test="mcnemar",
        verdict=verdict, headline=headline, negligible=negligible,
    )  # fmt: skip


def _results(*metrics: Metric, complete: bool = True) -> AuditResults:
    info = ModelInfo(ref="m", kind="directory")
    return AuditResults(
        tunelens_version="0", created="2026-01-01T00:00:00+00:00", seed=0, base=info, tuned=info,
        probes=[ProbeResult(name="p", metrics=list(metrics))], complete=complete,
    )  # fmt: skip


def test_regression_fails_only_in_the_worse_direction_and_not_when_negligible() -> None:
    worse = _metric("acc", "changed", -0.2)
    better = _metric("other", "changed", +0.2)
    small = _metric("small", "changed", -0.01, negligible=True)
    exploratory = _metric("feature", "changed", -0.3, headline=False)
    lower_better = _metric("loss", "changed", +0.4, higher_is_better=False)
    outcome = check_gate(_results(worse, better, small, exploratory, lower_better), fail_on="regression")
    assert [m.name for m in outcome.failing] == ["acc", "loss"]
    assert not outcome.passed and outcome.exit_code == 1
    assert any("p.acc regressed" in line for line in outcome.lines())


def test_change_fails_on_either_direction_and_directionless_metrics() -> None:
    up = _metric("acc", "changed", +0.2)
    shape = _metric("length", "changed", +3.0, higher_is_better=None)
    assert check_gate(_results(up, shape), fail_on="regression").passed  # neither is worse
    outcome = check_gate(_results(up, shape), fail_on="change")
    assert [m.name for m in outcome.failing] == ["acc", "length"] and outcome.exit_code == 1


def test_require_verdicts_fails_on_an_inconclusive_headline_or_an_incomplete_audit() -> None:
    settled = _metric("acc", "equivalent", 0.0)
    unsettled = _metric("loss", "inconclusive", 0.05)
    lenient = check_gate(_results(settled, unsettled), fail_on="regression")
    assert lenient.exit_code == 0
    assert lenient.lines() == [
        "gate passed: no headline metric regressed (1 headline metric inconclusive; --require-verdicts would fail)"
    ]
    outcome = check_gate(_results(settled, unsettled), fail_on="regression", require_verdicts=True)
    assert outcome.exit_code == 4 and [m.name for m in outcome.unsettled] == ["loss"]
    assert check_gate(_results(settled, complete=False), require_verdicts=True).exit_code == 4
    assert check_gate(_results(settled), require_verdicts=True).exit_code == 0
    # a failing metric decides the code even when verdicts are also missing
    both = check_gate(_results(_metric("acc", "changed", -0.2), unsettled), "regression", require_verdicts=True)
    assert both.exit_code == 1


def test_codes_are_distinct_and_documented() -> None:
    assert len(EXIT_CODES) == len(set(EXIT_CODES)) and {0, 1, 2, 3, 4, 130} == set(EXIT_CODES)
    with pytest.raises(ValueError):
        check_gate(_results(), fail_on="anything")


def test_summary_json_lists_headline_metrics_and_the_gate() -> None:
    results = _results(_metric("acc", "changed", -0.2), _metric("feature", "changed", 0.3, headline=False))
    payload = summary_dict(results, check_gate(results, "regression"), {"report": "r.html"})
    text = json.dumps(payload)
    back = json.loads(text)
    assert [m["name"] for m in back["headline"]] == ["acc"] and back["headline"][0]["worse"] is True
    assert back["gate"]["passed"] is False and back["gate"]["failing"] == ["p.acc"]
    assert back["verdicts"] == {"changed": 2, "equivalent": 0, "inconclusive": 0} and back["report"] == "r.html"
