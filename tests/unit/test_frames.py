"""Results as pandas DataFrames (``to_frame``, ``items_frame``) and items.jsonl, on hand-built results."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tunelens.errors import TunelensError
from tunelens.results import (
    AuditResults,
    ItemRecord,
    Metric,
    ModelInfo,
    ProbeResult,
    items_frame,
    load_items,
    load_results,
    metrics_frame,
    save_items,
    save_results,
)
from tunelens.results._frames import ITEM_COLUMNS, METRIC_COLUMNS, VERDICTS
from tunelens.stats import make_metric

FLOAT_COLUMNS = [
    "base",
    "tuned",
    "delta",
    "ci_low",
    "ci_high",
    "ci90_low",
    "ci90_high",
    "p_value",
    "p_adjusted",
    "margin",
    "n_needed",
    "diff_sd",
    "min_p",
    "mde",
    "equivalence_reach",
]
TEXT_COLUMNS = ["probe", "name", "label", "unit", "group", "family", "test", "room", "reason"]
LINE_SEPARATOR = "\u2028"  # splitlines() would cut a line of items.jsonl here


def _info(ref: str) -> ModelInfo:
    return ModelInfo(ref=ref, kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="float32")


def build_results(with_items: bool = True) -> AuditResults:
    """Two probes: forgetting (a tested metric, an equivalent one, a descriptive one) and context
    (an inconclusive metric with n_needed); items with extras, one of which clashes with a column."""
    tested = make_metric(
        "forgetting",
        "arithmetic_acc",
        "Arithmetic",
        [True] * 20,
        [False] * 20,
        binary=True,
        unit="accuracy",
        higher_is_better=True,
    )
    tested.headline, tested.family, tested.verdict, tested.p_adjusted = True, "confirmatory", "changed", 1e-4
    equivalent = Metric(
        name="perplexity",
        probe="forgetting",
        label="Loss",
        unit="nats/token",
        higher_is_better=False,
        base=3.1,
        tuned=3.11,
        delta=0.01,
        ci_low=-0.01,
        ci_high=0.03,
        ci90_low=-0.005,
        ci90_high=0.02,
        n=60,
        test="paired_t",
        p_value=0.4,
        p_adjusted=0.8,
        verdict="equivalent",
        margin=0.05,
        family="exploratory",
        group="general",
        base_values=[3.0, 3.2],
        tuned_values=[3.1, 3.1],
        n_at_budget={"quick": 20},
    )
    descriptive = Metric(
        name="cka",
        probe="forgetting",
        label="Representation distance",
        base=0.0,
        tuned=None,
        delta=0.12,
        ci_low=None,
        ci_high=None,
        n=30,
        test="descriptive",
        verdict=None,
    )
    inconclusive = Metric(
        name="context_recall",
        probe="context",
        label="Context recall",
        unit="rate",
        base=0.8,
        tuned=0.6,
        delta=-0.2,
        ci_low=-0.5,
        ci_high=0.1,
        n=6,
        test="mcnemar",
        p_value=0.3,
        p_adjusted=0.6,
        room="ceiling",
        reason="too few items",
        n_needed=120,
    )  # verdict left at its default (inconclusive)
    forgetting_items = [
        ItemRecord(
            item_id=f"a{i}",
            section="arithmetic",
            input=f"What is {i} + {i}?{LINE_SEPARATOR}Answer:",
            expected=str(2 * i),
            base_output=str(2 * i),
            tuned_output="ünïcode ✓",
            base_score=1.0,
            tuned_score=0.0,
            extra={"kind": "add", "section": "clash", **({"digits": i} if i else {})},
        )
        for i in range(3)
    ]
    context_items = [
        ItemRecord(
            item_id="c0",
            section="conflict",
            input="Context: ...",
            base_output="x",
            tuned_output=None,
            base_score=None,
            tuned_score=1.0,
            extra={"n_tokens": 5, "tags": ["a", "b"]},
        ),
        ItemRecord(item_id="c1", section="conflict", input="Context: ..."),
    ]
    return AuditResults(
        tunelens_version="0",
        created="now",
        seed=0,
        base=_info("base"),
        tuned=_info("tuned"),
        probes=[
            ProbeResult(
                name="forgetting",
                metrics=[tested, equivalent, descriptive],
                items=forgetting_items if with_items else [],
            ),
            ProbeResult(name="context", metrics=[inconclusive], items=context_items if with_items else []),
        ],
    )


def test_metrics_frame_rows_columns_and_dtypes() -> None:
    results = build_results()
    frame = results.to_frame()
    assert list(frame.columns) == list(METRIC_COLUMNS)
    assert list(frame.index) == [0, 1, 2, 3]
    assert list(frame["probe"]) == ["forgetting", "forgetting", "forgetting", "context"]
    assert list(frame["name"]) == ["arithmetic_acc", "perplexity", "cka", "context_recall"]
    for column in FLOAT_COLUMNS:
        assert frame[column].dtype == "float64", column
    assert frame["n"].dtype == "int64" and list(frame["n"]) == [20, 60, 30, 6]
    assert frame["headline"].dtype == bool and list(frame["headline"]) == [True, False, False, False]
    assert frame["negligible"].dtype == bool
    assert frame["higher_is_better"].dtype == "boolean"
    assert frame["higher_is_better"].tolist()[:2] == [True, False]
    assert frame["higher_is_better"].isna().tolist() == [False, False, True, True]
    assert isinstance(frame["verdict"].dtype, pd.CategoricalDtype)
    assert list(frame["verdict"].cat.categories) == list(VERDICTS) == ["changed", "equivalent", "inconclusive"]
    assert frame["verdict"].tolist()[:2] == ["changed", "equivalent"] and frame["verdict"].tolist()[3] == "inconclusive"
    assert pd.isna(frame["verdict"][2])  # descriptive: no verdict
    for column in TEXT_COLUMNS:
        assert pd.api.types.is_string_dtype(frame[column]), column
    row = frame.set_index("name").loc["perplexity"]
    assert (row["margin"], row["ci90_low"], row["group"], row["family"], row["test"]) == (
        0.05,
        -0.005,
        "general",
        "exploratory",
        "paired_t",
    )
    assert math.isnan(frame["tuned"][2]) and math.isnan(frame["n_needed"][0]) and frame["n_needed"][3] == 120
    assert pd.isna(frame["group"][0]) and frame["room"][3] == "ceiling" and frame["reason"][3] == "too few items"
    assert not {"base_values", "tuned_values", "n_at_budget"} & set(frame.columns)
    # the function and the method agree; the frame's verdicts agree with the metrics
    pd.testing.assert_frame_equal(metrics_frame(results), frame)
    assert frame["verdict"].value_counts().to_dict() == {"changed": 1, "equivalent": 1, "inconclusive": 1}


def test_items_frame_rows_columns_and_extras() -> None:
    frame = build_results().items_frame()
    assert list(frame.columns) == [*ITEM_COLUMNS, "kind", "extra.section", "digits", "n_tokens", "tags"]
    assert list(frame["probe"]) == ["forgetting"] * 3 + ["context"] * 2
    assert list(frame["item_id"]) == ["a0", "a1", "a2", "c0", "c1"]
    assert list(frame["section"]) == ["arithmetic"] * 3 + ["conflict"] * 2  # the item's, not extra's
    assert list(frame["extra.section"][:3]) == ["clash"] * 3 and frame["extra.section"][3:].isna().all()
    assert frame["base_score"].dtype == "float64" and frame["tuned_score"].dtype == "float64"
    assert math.isnan(frame["base_score"][3]) and math.isnan(frame["base_score"][4]) and frame["tuned_score"][3] == 1
    assert frame["digits"].isna().tolist() == [True, False, False, True, True]
    assert frame["digits"][2] == 2 and frame["n_tokens"][3] == 5 and frame["tags"][3] == ["a", "b"]
    assert pd.isna(frame["expected"][3]) and pd.isna(frame["tuned_output"][3])
    assert frame["tuned_output"][0] == "ünïcode ✓"
    for column in ("probe", "item_id", "section", "input", "expected", "base_output", "tuned_output"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["input"][0].endswith(f"0?{LINE_SEPARATOR}Answer:")


def test_to_frame_survives_save_and_load(tmp_path: Path) -> None:
    results = build_results()
    loaded = load_results(save_results(results, tmp_path / "results.json"))
    pd.testing.assert_frame_equal(loaded.to_frame(), results.to_frame())
    pd.testing.assert_frame_equal(loaded.items_frame(), results.items_frame())


def test_items_jsonl_round_trip(tmp_path: Path) -> None:
    results = build_results()
    path = save_items(results, tmp_path / "items.jsonl")
    assert path == tmp_path / "items.jsonl" and [p.name for p in tmp_path.iterdir()] == ["items.jsonl"]
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 6  # five records, each ending in a newline
    first = json.loads(lines[0])
    assert list(first)[:3] == ["probe", "item_id", "section"] and first["probe"] == "forgetting"
    assert first["extra"] == {"kind": "add", "section": "clash"}
    loaded = load_items(path)
    assert list(loaded) == ["forgetting", "context"]
    assert loaded == {p.name: p.items for p in results.probes}
    pd.testing.assert_frame_equal(items_frame(loaded), results.items_frame())


def test_load_items_names_the_bad_line(tmp_path: Path) -> None:
    path = save_items(build_results(), tmp_path / "items.jsonl")
    good = path.read_text(encoding="utf-8")
    for bad, message in [
        ("{", "line 7 is not valid JSON"),
        ('{"item_id": "x"}', "line 7 is not an item record"),
        ('{"probe": "p", "item_id": "x", "section": "s"}', "line 7 does not match the item schema at input"),
        ('{"probe": "p", "item_id": "x", "section": "s", "input": "i", "score": 1}', "at score"),
    ]:
        path.write_text(good + "\n" + bad + "\n", encoding="utf-8")  # the blank line 6 is skipped
        with pytest.raises(TunelensError, match=message):
            load_items(path)
    with pytest.raises(TunelensError, match="no such items file"):
        load_items(tmp_path / "missing.jsonl")


def test_empty_frames_keep_their_columns_and_dtypes(tmp_path: Path) -> None:
    full, empty = build_results(), build_results(with_items=False)
    items = empty.items_frame()
    assert items.empty and list(items.columns) == list(ITEM_COLUMNS)
    assert (items.dtypes == full.items_frame()[list(ITEM_COLUMNS)].dtypes).all()
    path = save_items(empty, tmp_path / "items.jsonl")
    assert path.read_text(encoding="utf-8") == "" and load_items(path) == {}
    assert list(items_frame(load_items(path)).columns) == list(ITEM_COLUMNS)

    nothing = empty.model_copy(update={"probes": []})
    metrics = nothing.to_frame()
    assert metrics.empty and list(metrics.columns) == list(METRIC_COLUMNS)
    pd.testing.assert_series_equal(metrics.dtypes, full.to_frame().dtypes)


def test_import_stays_free_of_pandas() -> None:
    code = "import sys, tunelens, tunelens.results, tunelens.data; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
