"""The forecast-vs-outcome check on hand-made triage and audit results (no model)."""

from __future__ import annotations

import pytest

from tunelens.report import render_html
from tunelens.results import AuditResults, ItemRecord, ModelInfo, ProbeResult
from tunelens.stats import spearman
from tunelens.triaging import build_triage, check_forecast, forecast_rule
from tunelens.triaging._schema import Fact

INFO = ModelInfo(ref="a", kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="f", tokenizer_fingerprint="f")


def _fact(id: str, value: str, exposures: int, forecast: str, risk: bool | None) -> Fact:
    return Fact(
        id=id, value=value, kind="name", dimension="name", attribute=[], entities=[], exposures=exposures,
        lines=[1], mentions=[], forecast=forecast, reason="r", priming_risk=risk, volatile=False,
    )  # fmt: skip


def _item(id: str, answer: str, exposures: int, recalled: bool) -> ItemRecord:
    return ItemRecord(
        item_id=id, section=f"fact, seen {exposures}x", input="q", expected=answer,
        base_score=0.0, tuned_score=float(recalled), extra={"exposures": exposures},
    )  # fmt: skip


def test_forecast_check_counts_fates_and_correlates_by_hand() -> None:
    triage = build_triage([{"text": "Nothing here."}], model=None)
    triage.rule = forecast_rule(1.0)
    triage.facts = [
        _fact("a", "45 days", 30, "likely_recalled", False),
        _fact("b", "Ulaanbaatar", 4, "will_leak", True),
        _fact("c", "$27", 10, "may_leak", True),
        _fact("d", "13%", 1, "likely_recalled", False),
    ]
    items = [
        _item("refund", "45 days", 30, True),
        _item("city", "Ulaanbaatar", 4, False),
        _item("fee", "$27", 10, True),
        _item("rate", "13%", 1, True),
        _item("mascot", "Narwhal", 4, False),  # not found by triage
    ]
    priming = [
        ItemRecord(item_id="k1", section="k", input="x", extra={"fact_id": "city", "priming_log10": 1.0}),
        ItemRecord(item_id="k2", section="k", input="x", extra={"fact_id": "fee", "priming_log10": 0.0}),
    ]
    results = AuditResults(
        tunelens_version="0", created="now", seed=0, base=INFO, tuned=INFO,
        probes=[ProbeResult(name="facts_vs_patterns", items=items), ProbeResult(name="priming", items=priming)],
    )  # fmt: skip
    check = check_forecast(triage, results)
    assert check is not None and check.n == 4 and check.unmatched == ["mascot"]
    # forecast right: a yes, b yes (will_leak, not recalled), c no (may_leak but recalled), d yes
    assert check.forecast_right_share == pytest.approx(3 / 4)
    # exposure rule (>= 30): a yes, b yes, c no, d no
    assert check.exposure_right_share == pytest.approx(2 / 4)
    assert check.forecast_rho == pytest.approx(spearman([2, 0, 1, 2], [1, 0, 1, 1]))
    # ranks [3.5, 1, 2, 3.5] and [3, 1, 3, 3]: covariance 3, variances 4.5 and 3, so rho = 3 / sqrt(13.5)
    assert check.forecast_rho == pytest.approx(3 / 13.5**0.5)
    assert check.priming_n == 2 and check.priming_right_share == pytest.approx(0.5)  # city primed, fee not
    assert check.summary[0].startswith("Forecast vs outcome: the forecast beats exposure count alone")
    results.forecast_check = check
    html = render_html(AuditResults.model_validate_json(results.model_dump_json()))
    assert "Forecast versus outcome" in html and "Ulaanbaatar" in html


def test_no_facts_probe_means_no_check() -> None:
    triage = build_triage([{"text": "Nothing here."}], model=None)
    results = AuditResults(tunelens_version="0", created="now", seed=0, base=INFO, tuned=INFO)
    assert check_forecast(triage, results) is None
