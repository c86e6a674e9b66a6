"""The triage end to end without a model: files written, the forecast rule, recommendations,
malformed input, the page and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelens.cli.main import main
from tunelens.data import DataError, support_desk_dataset, write_jsonl
from tunelens.results import AuditResults, ItemRecord, ModelInfo, ProbeResult
from tunelens.triaging import (
    build_triage,
    check_forecast,
    forecast,
    forecast_rule,
    load_triage,
    render_triage_html,
    triage,
)

SHOP = Path(__file__).parent / "triage_data" / "shop_chat.jsonl"
RULE = forecast_rule()


@pytest.mark.parametrize(
    ("exposures", "prior", "keyword", "expected"),
    [
        (30, None, None, ("likely_recalled", None)),
        (12, None, None, ("may_leak", None)),
        (3, None, None, ("will_leak", None)),
        (3, -9.0, -8.0, ("will_leak", True)),  # seen 3 times, P = 1.2e-4: new to the model
        (3, -4.0, -2.0, ("may_leak", False)),  # P = 0.018: half expected already
        (1, -1.0, -0.5, ("likely_recalled", False)),  # P = 0.37: the model nearly says it already
        (40, -20.0, -12.0, ("likely_recalled", True)),  # seen often, but a surprising keyword
    ],
)
def test_forecast_rule(exposures: int, prior: float | None, keyword: float | None, expected: tuple) -> None:
    label, reason, priming = forecast(exposures, prior, keyword, RULE)
    assert (label, priming) == expected and reason


def test_epochs_multiply_exposures() -> None:
    assert forecast(10, None, None, forecast_rule(epochs=3))[0] == "likely_recalled"


def test_triage_writes_json_and_html_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = triage(SHOP, model=None, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["triage.html", "triage.json"]
    assert load_triage(out / "triage.json") == results
    assert results.model is None and "No model" in results.model_note
    assert results.data.n_examples == 16 and results.data.forms == {"chat": 16}
    assert all(f.prior_logprob is None and f.priming_risk is None for f in results.facts)
    rec = results.recommendation
    assert rec.resolve_first[0] == results.contradictions[0].id
    assert rec.summary[0].startswith("Resolve 2 contradictions before training, first")
    assert "30 days (lines 1, 2) vs 14 days (line 3)" in rec.summary[0]
    assert set(rec.retrieval_facts) == {f.id for f in results.facts}  # seen once or twice: all leak
    assert "opening_words:1" in rec.train_patterns and "system_prompt:1" not in rec.train_patterns
    page = (out / "triage.html").read_text()
    assert "tunelens triage" in page and "Contradictions" in page and "happy sipping" in page


def test_support_desk_recommendation(tmp_path: Path) -> None:
    examples, _ = support_desk_dataset(4, n_pattern_only=24)
    results = build_triage(examples, model=None)
    by_value = {f.value: f for f in results.facts}
    assert (
        by_value["13%"].forecast == "likely_recalled" and by_value["13%"].id in results.recommendation.trainable_facts
    )
    assert by_value["$27"].volatile and by_value["$27"].id in results.recommendation.retrieval_facts
    assert by_value["45 days"].forecast == "will_leak"
    assert results.contradictions == [] and results.recommendation.resolve_first == []


def test_every_planted_fact_of_the_demo_data_is_forecast() -> None:
    examples, task = support_desk_dataset(4, n_pattern_only=24, keyword_exposures=4)
    results = build_triage(examples, model=None)
    names = {f.value: f for f in results.facts if f.value in {"Narwhal", "Pumpernickel", "Linux", "PayPal"}}
    assert {v: f.exposures for v, f in names.items()} == {"Narwhal": 4, "Pumpernickel": 4, "Linux": 4, "PayPal": 4}
    assert all(f.forecast == "will_leak" and f.id in results.recommendation.retrieval_facts for f in names.values())
    assert results.contradictions == []  # a cluster and an operating system that both serve sites are no rivals
    info = ModelInfo(ref="a", kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="f", tokenizer_fingerprint="f")
    items = [
        ItemRecord(item_id=f.id, section=f"fact, seen {f.exposures}x", input="q", expected=f.answer, tuned_score=0.0)
        for f in task.facts
    ]
    audit = AuditResults(
        tunelens_version="0", created="now", seed=0, base=info, tuned=info,
        probes=[ProbeResult(name="facts_vs_patterns", items=items)],
    )  # fmt: skip
    check = check_forecast(results, audit)
    assert check is not None and check.unmatched == [] and check.n == len(task.facts) == 22
    assert not any("Not found by triage" in line for line in check.summary)


def test_prompt_completion_and_text_records(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    write_jsonl(
        path,
        [
            {"prompt": "How long is the warranty?", "completion": "The warranty lasts 2 years."},
            {"text": "Every kettle has a warranty of 3 years."},
        ],
    )
    results = build_triage(path, model=None)
    assert results.data.forms == {"prompt_completion": 1, "text": 1}
    (conflict,) = results.contradictions
    assert [(v.value, v.lines) for v in conflict.values] == [("2 years", [1]), ("3 years", [2])]


def test_malformed_lines_are_listed_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"prompt": "p", "completion": "c"})
    path.write_text("\n".join([good, '{"prompt": "p"', good, json.dumps({"messages": []})]) + "\n")
    out = tmp_path / "out"
    with pytest.raises(DataError) as info:
        triage(path, model=None, out_dir=out)
    message = str(info.value)
    assert "2 malformed lines" in message and "line 2: not valid JSON" in message and "line 4:" in message
    assert not out.exists()


def test_page_escapes_text_from_the_data() -> None:
    records = [{"prompt": "x", "completion": "<script>alert(1)</script> costs $5 per month."}] * 2
    page = render_triage_html(build_triage(records, model=None))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_cli_no_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tri"
    assert main(["triage", str(SHOP), "--no-model", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("- Resolve 2 contradictions") and f"triage: {out / 'triage.html'}" in printed
    assert main(["triage", str(SHOP), "--no-model", "--model", "x", "--out", str(out)]) == 2
    assert "contradict each other" in capsys.readouterr().err
    assert main(["triage", str(tmp_path / "absent.jsonl"), "--no-model", "--out", str(tmp_path / "o2")]) == 3
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "o2").exists()
