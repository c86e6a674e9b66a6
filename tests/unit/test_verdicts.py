"""Three verdicts, two families, p-values that can get small, power that matches simulation,
and null audits that keep their error rates (calibration)."""

from __future__ import annotations

import numpy as np
import pytest

from tunelens.results import AuditResults, Metric, Verdict
from tunelens.stats import (
    apply_verdicts,
    compare_binary,
    compare_continuous,
    make_metric,
    power_of,
    sign_flip_exact,
    sign_flip_p,
)
from tunelens.stats._calibration import null_audits
from tunelens.stats._verdicts import correct, declare


def _reachable(n: int, m_head: int) -> bool:
    """Whether n paired items can reach 'changed' among m_head headline metrics: the smallest exact
    p (McNemar or sign-flip, 2 / 2^n) through Holm and the weighted BH's half share clears alpha."""
    return 2 * 0.5**n * 2 * m_head < 0.05


def _metric(base, tuned, *, binary: bool, unit: str, headline: bool = False, name: str = "m", probe: str = "p"):
    m = make_metric(probe, name, name, base, tuned, binary=binary, unit=unit)
    declare(m, None)
    m.headline = headline
    return m


def test_exact_sign_flip_known_values() -> None:
    # Five positive differences: only the all-plus and all-minus patterns are as extreme.
    assert sign_flip_exact(np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == pytest.approx(2 / 32)
    # Zeros flip to themselves and do not count.
    assert sign_flip_exact(np.array([0.0, 1.0, 1.0, 1.0])) == pytest.approx(2 / 8)
    assert sign_flip_p(np.zeros(20)) == 1.0


def test_p_values_get_far_below_any_corrected_level() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    c = compare_continuous(base, base + 0.5 + rng.normal(scale=0.3, size=200))
    assert c.test == "paired_t" and c.p_value < 1e-12  # a sampled test floors at 1/2001
    b = compare_binary([True] * 100 + [False] * 100, [False] * 60 + [True] * 40 + [False] * 100)
    assert b.p_value < 1e-15


def test_equivalent_needs_the_90_interval_inside_the_margin() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(2.0, 0.5, size=300)
    null = _metric(base, base + rng.normal(0, 0.05, size=300), binary=False, unit="nats/token", headline=True)
    wide = _metric(base[:12], base[:12] + rng.normal(0, 0.5, size=12), binary=False, unit="nats/token")
    apply_verdicts([null, wide])
    assert null.verdict == Verdict.equivalent and null.margin == pytest.approx(0.03)
    assert -0.03 < null.ci90_low < null.ci90_high < 0.03
    assert wide.verdict == Verdict.inconclusive and wide.n_needed is not None and wide.n_needed > 12
    assert "interval" in wide.reason


def test_a_tiny_but_certain_change_is_changed_and_negligible() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(2.0, 0.5, size=400)
    m = _metric(base, base + 0.01 + rng.normal(0, 0.01, size=400), binary=False, unit="nats/token", headline=True)
    apply_verdicts([m])
    assert m.verdict == Verdict.changed and m.negligible


def test_a_rate_at_the_floor_is_neither_equivalent_nor_changed_downwards() -> None:
    zeros = _metric([False] * 100, [False] * 100, binary=True, unit="rate", headline=True)
    apply_verdicts([zeros])
    assert zeros.room == "floor" and zeros.verdict == Verdict.inconclusive and "floor" in zeros.reason
    # Up from the floor there is room: a rise can still be changed.
    rise = _metric([False] * 100, [True] * 40 + [False] * 60, binary=True, unit="rate", headline=True)
    apply_verdicts([rise])
    assert rise.room == "floor" and rise.verdict == Verdict.changed
    # ... and a fall into the floor cannot.
    fall = _metric([True] * 3 + [False] * 97, [False] * 100, binary=True, unit="rate", headline=True)
    fall.p_value = 1e-9  # even with an (impossible) tiny p, the direction has no room
    apply_verdicts([fall])
    assert fall.verdict == Verdict.inconclusive


def test_too_few_items_is_a_reason_not_a_verdict() -> None:
    thin = _metric([True] * 5, [False] * 5, binary=True, unit="rate", headline=True)
    apply_verdicts([thin])
    assert thin.verdict == Verdict.inconclusive and thin.reason.startswith("too few items")


def test_descriptive_metrics_take_no_verdict() -> None:
    d = _metric([0.0] * 10, [0.3] * 10, binary=False, unit="score")
    d.test = "descriptive"
    d.p_value = None
    apply_verdicts([d])
    assert d.verdict is None


def test_holm_on_headline_and_weighted_bh_on_the_report() -> None:
    head, other = correct([0.001, 0.03, 0.04], [0.001] * 10 + [0.5] * 10)
    assert head[0] < 0.05 and head[1] > 0.05 and head[2] > 0.05  # Holm: 0.03 * 2 is not enough
    assert all(q < 0.05 for q in other[:10]) and all(q > 0.05 for q in other[10:])
    # Half the weight sits on the headline family: p = 0.01 is a headline discovery among 100 null
    # exploratory metrics, but would not be one as the 101st exploratory metric.
    head, _ = correct([0.01], [0.5] * 100)
    _, other = correct([], [0.01] + [0.5] * 100)
    assert head[0] < 0.05 and other[0] > 0.05


def test_headline_is_reachable_at_the_standard_budget_with_every_declared_headline() -> None:
    from tunelens.probes import PROBES

    declared = [(spec, d) for spec in PROBES.values() for d in spec.headline]
    m_head = len(declared)
    assert m_head >= len(PROBES) - 1  # nearly every probe names a headline
    for spec, decl in declared:
        assert decl.items is not None, f"{spec.name}.{decl.name} declares no item count"
        for budget in ("standard", "thorough"):
            n = decl.items(spec.config_for(budget))
            assert _reachable(n, m_head), f"{spec.name}.{decl.name} cannot reach changed at {budget} (n={n})"


def test_stated_power_matches_simulated_power() -> None:
    rng = np.random.default_rng(4)
    n, sd, level = 200, 1.0, 0.05 / 20
    probe_metric = _metric(rng.normal(size=n), rng.normal(size=n), binary=False, unit="nats/token")
    from tunelens.stats import minimum_detectable_effect

    probe_metric.diff_sd = sd
    mde = minimum_detectable_effect(probe_metric, level)
    assert mde is not None
    assert power_of(mde, sd, n, level) == pytest.approx(0.8, abs=0.01)
    hits = 0
    for _ in range(1000):
        d = rng.normal(mde, sd, size=n)
        hits += sign_flip_p(d) < level
    assert hits / 1000 == pytest.approx(0.8, abs=0.04)
    # Binary outcomes: discordant pairs at 30%, a planted net shift of the stated size.
    b = [True] * 100 + [False] * 100
    t = [False] * 30 + [True] * 70 + [True] * 30 + [False] * 70
    m = _metric(b, t, binary=True, unit="rate")
    mde_b = minimum_detectable_effect(m, level)
    assert mde_b is not None
    p_disc = 0.3
    hits = 0
    for _ in range(1000):
        # each pair discordant with p_disc; among those, tuned better with prob (1 + mde / p_disc) / 2
        disc = rng.random(n) < p_disc
        up = rng.random(n) < (1 + mde_b / p_disc) / 2
        base = np.where(disc, ~up, True)
        tuned = np.where(disc, up, True)
        hits += compare_binary(list(base), list(tuned)).p_value < level
    assert hits / 1000 == pytest.approx(0.8, abs=0.06)


def _null_report(seed: int) -> list[Metric]:
    """A report shaped like a real audit: binary and continuous metrics over shared items,
    some of them real changes (only null audits are drawn from them)."""
    rng = np.random.default_rng(seed)
    metrics: list[Metric] = []
    for probe in range(6):
        n = 60 + 20 * probe
        skill = rng.random(n) < 0.5
        for k in range(8):
            base = skill ^ (rng.random(n) < 0.2)
            tuned = base ^ (rng.random(n) < 0.15)
            metrics.append(
                _metric(base, tuned, binary=True, unit="rate", headline=k == 0, name=f"b{k}", probe=f"p{probe}")
            )
        x = rng.normal(size=n)
        for k in range(4):
            shifted = x + rng.normal(0.1 * k, 0.5, size=n)
            metrics.append(_metric(x, shifted, binary=False, unit="nats/token", name=f"c{k}", probe=f"p{probe}"))
        small = rng.normal(size=12)
        noisy = small + rng.normal(0, 1, size=12)
        metrics.append(_metric(small, noisy, binary=False, unit="nats/token", name="s", probe=f"p{probe}"))
    apply_verdicts(metrics)
    return metrics


def test_null_audits_keep_family_wise_and_false_discovery_rates() -> None:
    metrics = _null_report(5)
    calibration = null_audits(metrics, n_audits=2000, seed=1)
    assert calibration.n_metrics == len(metrics) and calibration.n_headline == 6
    assert calibration.familywise_rate <= 0.05
    assert calibration.false_discovery_rate <= 0.05


def test_legacy_results_read_with_the_new_verdicts() -> None:
    old = {
        "name": "x",
        "probe": "p",
        "label": "x",
        "base": 0.5,
        "tuned": 0.5,
        "delta": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.0,
        "n": 10,
        "test": "paired_bootstrap",
        "verdict": "no_change",
    }
    assert Metric.model_validate(old).verdict == Verdict.inconclusive
    thin = Metric.model_validate({**old, "verdict": "insufficient", "n": 3})
    assert thin.verdict == Verdict.inconclusive and thin.reason == "too few items"
    desc = Metric.model_validate({**old, "verdict": "insufficient", "test": "descriptive"})
    assert desc.verdict is None
    assert AuditResults.model_fields["schema_version"].default == "1.6"


def test_the_report_names_headline_metrics_a_quick_budget_cannot_settle() -> None:
    from tunelens.probes import PROBES
    from tunelens.report import render_html
    from tunelens.results import ModelInfo, ProbeResult

    m_head = sum(len(spec.headline) for spec in PROBES.values())
    quick_unreachable = [
        (spec.name, d.name)
        for spec in PROBES.values()
        for d in spec.headline
        if not _reachable(d.items(spec.config_for("quick")), m_head)
    ]
    assert quick_unreachable  # a handful of items cannot reach changed under the full correction
    # Eight items, every one lost: at the corrected level of 16 headline metrics the test cannot reach it.
    thin = _metric([True] * 8, [False] * 8, binary=True, unit="rate", headline=True, name="thin")
    others = [
        _metric([True] * 60, [True] * 60, binary=True, unit="rate", headline=True, name=f"h{i}") for i in range(15)
    ]
    apply_verdicts([thin, *others])
    assert thin.verdict == Verdict.inconclusive and thin.mde is None and thin.reason.startswith("too few items")
    info = ModelInfo(ref="a", kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="f", tokenizer_fingerprint="x")
    results = AuditResults(
        tunelens_version="0", created="now", seed=0, base=info, tuned=info, budget="quick",
        probes=[ProbeResult(name="p", title="P", metrics=[thin, *others])],
    )  # fmt: skip
    html = render_html(results)
    assert "cannot reach a verdict of changed at the quick budget" in html and "thin" in html
