"""--budget and --margin: budgets pick each probe's pool; margins are checked against the declarations."""

from __future__ import annotations

import pytest

from tunelens.cli.audit_cmd import parse_margins
from tunelens.errors import TunelensError
from tunelens.probes import BUDGETS, PROBES
from tunelens.results import MetricDecl
from tunelens.stats import declare_all, make_metric


def test_margins_parse_and_name_what_is_wrong() -> None:
    assert parse_margins(["forgetting.general_text_nll=0.05"]) == {"forgetting.general_text_nll": 0.05}
    for bad, message in (
        ("forgetting.general_text_nll", "write PROBE.METRIC=X"),
        ("nosuch.x=1", "unknown probe 'nosuch'"),
        ("forgetting.nosuch=1", "declares no metric 'nosuch'"),
        ("forgetting.general_text_nll=abc", "is not a number"),
        ("forgetting.general_text_nll=-1", "must be positive"),
    ):
        with pytest.raises(TunelensError, match=message):
            parse_margins([bad])


def test_a_margin_override_wins_over_the_declaration() -> None:
    decl = MetricDecl("loss", "Loss", unit="nats/token", higher_is_better=False, headline=True)
    m = make_metric("p", "loss", "", [1.0] * 10, [1.1] * 10, binary=False)
    assert declare_all([m], [decl]) == [] and m.margin == pytest.approx(0.03) and m.headline and m.label == "Loss"
    declare_all([m], [decl], {"p.loss": 0.2})
    assert m.margin == 0.2
    other = make_metric("p", "undeclared", "x", [1.0] * 10, [1.0] * 10, binary=False)
    assert declare_all([other], [decl]) == ["undeclared"]


def test_every_probe_has_a_config_at_every_budget_and_unknown_budgets_are_refused() -> None:
    for spec in PROBES.values():
        for budget in BUDGETS:
            assert isinstance(spec.config_for(budget), spec.config_type)
    with pytest.raises(TunelensError, match="unknown budget 'huge'"):
        PROBES["forgetting"].config_for("huge")


def test_a_family_declaration_matches_its_members_and_an_exact_name_wins() -> None:
    from tunelens.results import find_declaration

    exact = MetricDecl("pattern_all", "All", headline=True)
    family = MetricDecl("pattern_*", "One rule")
    assert find_declaration([family, exact], "pattern_all") is exact
    assert find_declaration([family, exact], "pattern_greeting") is family
    assert find_declaration([family, exact], "fact_recall") is None
