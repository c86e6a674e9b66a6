"""A gate for continuous integration: does a results file pass the conditions a job sets?

    from tunelens.gate import check_gate
    outcome = check_gate(results, fail_on="regression", require_verdicts=True)
    sys.exit(outcome.exit_code)

Only headline metrics (the confirmatory family, corrected by Holm) gate a job: the
exploratory ones (every discovered behaviour feature, sub-groups) are for reading, and a gate
on them would fail on the false discoveries a false-discovery rate allows.

- ``fail_on="regression"``: a headline metric ``changed`` in its worse direction and not
  *negligible* (its whole 90% interval inside the margin of equivalence).
- ``fail_on="change"``: a headline metric ``changed`` either way and not negligible.
- ``require_verdicts``: a headline metric ``inconclusive`` fails the gate, so a job cannot pass
  by measuring too little.

Exit codes (``EXIT_CODES``) are distinct from usage errors and run errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tunelens.results import AuditResults, Metric, Verdict
from tunelens.summary import describe, verdict_text

FailOn = Literal["regression", "change"]
FAIL_ON: tuple[str, ...] = ("regression", "change")

EXIT_PASSED = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_ERROR = 3
EXIT_UNSETTLED = 4
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_PASSED: "done; the gate (if any) passed",
    EXIT_GATE_FAILED: "the gate failed: a headline metric regressed (--fail-on regression) or changed "
    "(--fail-on change)",
    EXIT_USAGE: "usage error: an unknown option or a malformed value on the command line",
    EXIT_ERROR: "error: bad input, a model that does not load, mismatched tokenizers, ... (the message says which)",
    EXIT_UNSETTLED: "--require-verdicts: a headline metric is inconclusive (the gate cannot pass on too few items)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); the results written so far are kept",
}
"""Every exit code of the ``tunelens`` command and what it means."""


def is_worse(metric: Metric) -> bool:
    """The metric moved in its worse direction (False when it has no better direction)."""
    if metric.higher_is_better is None or not metric.delta:
        return False
    return (metric.delta > 0) != metric.higher_is_better


def is_regression(metric: Metric) -> bool:
    """A headline metric changed, in its worse direction, by more than a negligible amount."""
    return is_change(metric) and is_worse(metric)


def is_change(metric: Metric) -> bool:
    """A headline metric changed by more than a negligible amount."""
    return metric.headline and metric.verdict == Verdict.changed and not metric.negligible


@dataclass
class GateOutcome:
    """What the gate concluded, with the metrics behind it."""

    fail_on: str | None
    require_verdicts: bool
    failing: list[Metric] = field(default_factory=list)
    unsettled: list[Metric] = field(default_factory=list)
    incomplete: bool = False

    @property
    def passed(self) -> bool:
        return not self.failing and not (self.require_verdicts and (self.unsettled or self.incomplete))

    @property
    def exit_code(self) -> int:
        if self.failing:
            return EXIT_GATE_FAILED
        if self.require_verdicts and (self.unsettled or self.incomplete):
            return EXIT_UNSETTLED
        return EXIT_PASSED

    def lines(self) -> list[str]:
        """The gate's outcome in sentences, for the console."""
        if self.fail_on is None and not self.require_verdicts:
            return []
        if self.passed:
            what = []
            if self.fail_on:
                what.append(f"no headline metric {'regressed' if self.fail_on == 'regression' else 'changed'}")
            if self.require_verdicts:
                what.append("every headline metric has a verdict")
            line = f"gate passed: {' and '.join(what)}"
            if not self.require_verdicts and (self.unsettled or self.incomplete):
                left = f"{len(self.unsettled)} headline metric{'s' if len(self.unsettled) != 1 else ''} inconclusive"
                line += f" ({left}{', the audit incomplete' if self.incomplete else ''}; --require-verdicts would fail)"
            return [line]
        out = []
        word = "regressed" if self.fail_on == "regression" else "changed"
        for metric in self.failing:
            out.append(f"gate failed: {metric.probe}.{metric.name} {word}: {describe(metric)}")
        if self.require_verdicts:
            for metric in self.unsettled:
                out.append(f"gate unsettled: {metric.probe}.{metric.name} is {verdict_text(metric)}")
            if self.incomplete:
                out.append("gate unsettled: the audit is incomplete (a probe did not run to the end)")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "fail_on": self.fail_on,
            "require_verdicts": self.require_verdicts,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "failing": [f"{m.probe}.{m.name}" for m in self.failing],
            "unsettled": [f"{m.probe}.{m.name}" for m in self.unsettled],
            "incomplete": self.incomplete,
        }


def check_gate(results: AuditResults, fail_on: str | None = None, require_verdicts: bool = False) -> GateOutcome:
    """Apply the gate's conditions to ``results`` (see the module's docstring)."""
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {FAIL_ON}, not {fail_on!r}")
    headline = [m for m in results.metrics() if m.headline and m.verdict is not None]
    test = is_regression if fail_on == "regression" else is_change
    failing = [m for m in headline if test(m)] if fail_on else []
    unsettled = [m for m in headline if m.verdict == Verdict.inconclusive]
    return GateOutcome(fail_on, require_verdicts, failing, unsettled, incomplete=not results.complete)


def metric_dict(metric: Metric) -> dict[str, Any]:
    """A headline metric as the JSON summary gives it."""
    return {
        "probe": metric.probe,
        "name": metric.name,
        "label": metric.label,
        "unit": metric.unit,
        "base": metric.base,
        "tuned": metric.tuned,
        "delta": metric.delta,
        "ci_low": metric.ci_low,
        "ci_high": metric.ci_high,
        "n": metric.n,
        "verdict": metric.verdict,
        "negligible": metric.negligible,
        "worse": is_worse(metric),
        "p_adjusted": metric.p_adjusted,
    }


def summary_dict(results: AuditResults, outcome: GateOutcome, paths: dict[str, str]) -> dict[str, Any]:
    """The summary ``--json`` prints: the pair, every headline metric, the sentences and the gate."""
    counts = {v.value: 0 for v in Verdict}
    for metric in results.metrics():
        if metric.verdict is not None:
            counts[str(metric.verdict)] += 1
    return {
        "source": results.source,
        "base": results.base.ref,
        "tuned": results.tuned.ref,
        "complete": results.complete,
        "budget": results.budget,
        "seed": results.seed,
        "verdicts": counts,
        "headline": [metric_dict(m) for m in results.metrics() if m.headline],
        "summary": list(results.summary),
        "gate": outcome.to_dict(),
        **paths,
    }


__all__ = [
    "EXIT_CODES",
    "FAIL_ON",
    "GateOutcome",
    "check_gate",
    "is_change",
    "is_regression",
    "is_worse",
    "summary_dict",
]
