"""results.json round-trips and refuses files it cannot read, with clear messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelens.errors import TunelensError
from tunelens.results import AuditResults, ModelInfo, ProbeResult, load_results, save_results
from tunelens.stats import make_metric
from tunelens.summary import summarise


def _results() -> AuditResults:
    info = ModelInfo(
        ref="a", kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="float32", tokenizer_fingerprint="f"
    )
    metric = make_metric("p", "m", "M", [True] * 10, [False] * 10, binary=True, unit="accuracy", higher_is_better=True)
    return AuditResults(
        tunelens_version="0",
        created="now",
        seed=0,
        base=info,
        tuned=info,
        probes=[ProbeResult(name="p", title="P", description="d", metrics=[metric])],
    )


def test_round_trip(tmp_path: Path) -> None:
    results = _results()
    path = save_results(results, tmp_path / "results.json")
    assert load_results(path) == results
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_wrong_version_and_bad_json(tmp_path: Path) -> None:
    raw = json.loads(_results().model_dump_json())
    raw["schema_version"] = "9.0"
    (tmp_path / "r.json").write_text(json.dumps(raw))
    with pytest.raises(TunelensError, match="schema version 9.0"):
        load_results(tmp_path / "r.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(TunelensError, match="not valid JSON"):
        load_results(tmp_path / "bad.json")
    with pytest.raises(TunelensError, match="no such results file"):
        load_results(tmp_path / "missing.json")


def test_summary_says_when_nothing_changed() -> None:
    results = _results()
    results.probes[0].metrics[0].verdict = "equivalent"  # type: ignore[assignment]
    lines = summarise(results)
    assert "No change shown on any of the 1 tested metrics" in lines[0]
    assert "Shown unchanged (equivalent within their margins): 1 of 1" in lines[-1]
