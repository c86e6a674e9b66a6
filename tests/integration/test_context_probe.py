"""The context probe end to end on the tiny model."""

from __future__ import annotations

import pytest

from tunelens.engine import Engine
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.context import ContextConfig
from tunelens.results import ProbeResult, Verdict

pytestmark = pytest.mark.integration


def test_context_probe_runs_and_a_null_pair_shows_no_change(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    result = PROBES["context"].run(ProbeContext(engine, engine), ContextConfig(facts_per_category=2, max_new_tokens=6))
    ProbeResult.model_validate(result.model_dump())
    names = {m.name for m in result.metrics}
    for variant in ("plain", "opinion", "instructed"):
        assert {f"{variant}_p_s", f"{variant}_p_o", f"{variant}_memorization_ratio"} <= names
    assert all(m.delta in (0.0, None) for m in result.metrics)
    assert all(m.verdict != Verdict.changed for m in result.metrics)
    assert "both models answer right closed-book" in result.notes[0]
    assert result.plots[0].series[0].x == ["plain", "opinion", "instructed"]


def test_known_items_are_asked_under_every_context(tiny_loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    # The random tiny model knows nothing closed-book; count every reply as a mention so
    # every item is kept and asked again under each context.
    monkeypatch.setattr("tunelens.probes.context.mentions", lambda reply, answer: True)
    engine = Engine(tiny_loaded)
    cfg = ContextConfig(facts_per_category=2, max_new_tokens=4)
    result = PROBES["context"].run(ProbeContext(engine, engine), cfg)
    metrics = {m.name: m for m in result.metrics}
    n_items = metrics["closed_book_acc"].n
    assert n_items == 10 and metrics["plain_p_s"].n == n_items and metrics["consistent_acc"].base == 1.0
    assert len(result.items) == n_items
    item = result.items[0]
    assert item.base_output == item.tuned_output and item.input.endswith("\nA:")
    assert set(item.extra) == {"closed_book", "consistent", "irrelevant", "opinion", "instructed"}
    assert item.extra["opinion"]["base"] == item.extra["opinion"]["tuned"]
    assert "10 of 10 facts" in result.notes[0]
