"""The behaviour probe's discoveries: sentences ranked by effect, opening the report and the
summary once each, and only for changes that are real and not negligible."""

from __future__ import annotations

from tests.unit.test_report import metric, model
from tunelens.report import discoveries, discovery_sentence, render_html
from tunelens.results import AuditResults, ProbeResult, Table
from tunelens.summary import summarise


def _results() -> AuditResults:
    greeting = metric(
        "feature:opening_line:hi-there", "behaviour", "changed", label="Opens with the line \u201cHi there!\u201d",
        unit="rate", base=0.0, tuned=1.0, delta=1.0, ci_low=0.97, ci_high=1.0, n=200, p_adjusted=1e-9,
    )  # fmt: skip
    listed = metric(
        "feature:layout:numbered-list", "behaviour", "changed", label="Layout: numbered list", unit="rate",
        base=0.3, tuned=0.8, delta=0.5, ci_low=0.4, ci_high=0.6, n=200, p_adjusted=1e-6,
    )  # fmt: skip
    tiny = metric(
        "feature:tone:please", "behaviour", "changed", label='Says "please"', unit="rate", base=0.1, tuned=0.12,
        delta=0.02, ci_low=0.01, ci_high=0.03, n=200, p_adjusted=0.01, negligible=True,
    )  # fmt: skip
    same = metric("feature:tone:emoji", "behaviour", "equivalent", unit="rate")
    table = Table(id="token-shift", title="Tokens the tuned model now favours", columns=["token"], rows=[["'Hi'"]])
    probe = ProbeResult(name="behaviour", title="Behaviour", metrics=[same, tiny, listed, greeting], tables=[table])
    results = AuditResults(
        tunelens_version="t", created="2026-12-01T00:00:00+00:00", seed=0, base=model("b"), tuned=model("t"),
        probes=[probe],
    )  # fmt: skip
    results.summary = summarise(results)
    return results


def test_discoveries_are_the_real_changes_largest_first() -> None:
    found = discoveries(_results())
    assert [m.name for m in found] == ["feature:opening_line:hi-there", "feature:layout:numbered-list"]
    assert discovery_sentence(found[0]) == (
        "Opens with the line \u201cHi there!\u201d: 0% \u2192 100% (+100 points, 95% CI +97 to +100; n = 200)"
    )


def test_the_report_opens_with_them_once_and_shows_the_token_table() -> None:
    results = _results()
    assert results.summary[0].startswith("Now: Opens with the line")
    html = render_html(results)
    assert html.index("What the tuned model now does") < html.index("What the audit shows unchanged")
    assert html.count("+100 points, 95% CI +97 to +100") == 1  # the block, not the summary list again
    assert "Tokens the tuned model now favours" in html and "&#x27;Hi&#x27;" in html


def test_without_the_probe_there_is_no_block() -> None:
    results = _results()
    results.probes = []
    assert discoveries(results) == [] and "What the tuned model now does" not in render_html(results)
