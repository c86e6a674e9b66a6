"""The diversity probe on the embedded SmolLM2-135M-Instruct against itself: real replies
with real formats, and no change."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_null_diversity_on_the_embedded_model() -> None:
    from tunelens.engine import Engine
    from tunelens.models import load_model
    from tunelens.probes import PROBES, ProbeContext
    from tunelens.probes.diversity import QUICK
    from tunelens.stats import apply_verdicts, declare_all

    engine = Engine(load_model("embedded:smollm2-135m-instruct"))
    result = PROBES["diversity"].run(ProbeContext(engine, engine), QUICK)
    assert declare_all(result.metrics, PROBES["diversity"].metrics) == []
    apply_verdicts(result.metrics)
    assert all(m.delta == 0.0 and m.verdict != "changed" for m in result.metrics)
    # Headline metrics sit away from the ends of their scale on a real chat model.
    headline = [m for m in result.metrics if m.headline]
    assert len(headline) == 2 and all(m.room == "" for m in headline)
    # A real chat model says something in most samples, in more than one format overall.
    assert not any("too few words" in n for n in result.notes)
    base = result.plots[0].series[0]
    assert sum(1 for y in base.y if y) >= 2
