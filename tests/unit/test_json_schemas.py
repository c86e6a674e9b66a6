"""The JSON Schemas published in schemas/: up to date with the code, and they accept what the code
writes (results.json, task.json) and reject broken files, as the code's readers do."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tunelens.data import TaskSpec, support_desk_dataset, task_json_schema
from tunelens.demo import demo_config
from tunelens.errors import TunelensError
from tunelens.results import (
    SCHEMA_VERSION,
    AuditResults,
    FactFate,
    ForecastCheck,
    ItemRecord,
    Metric,
    ModelInfo,
    Plot,
    ProbeResult,
    Series,
    Table,
    TrainingInfo,
    load_results,
    results_json_schema,
    save_results,
)
from tunelens.stats import make_metric
from tunelens.triaging import derive_task_spec

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
TRIAGE_DATA = Path(__file__).parent / "triage_data"


def _generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("schemas_generate", SCHEMAS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


# --- the published files -------------------------------------------------------------------------------


def test_published_schemas_are_what_the_code_generates() -> None:
    generate = _generate()
    makers: dict[str, Callable[[], dict[str, Any]]] = generate.generators()
    assert set(makers) == {"results.schema.json", "task.schema.json"}
    assert makers["results.schema.json"] is results_json_schema and makers["task.schema.json"] is task_json_schema
    run = f"run `{generate.COMMAND}` and commit schemas/"
    for name, make in makers.items():
        path = SCHEMAS / name
        assert path.is_file(), f"schemas/{name} is missing: {run}"
        published = json.loads(path.read_text(encoding="utf-8"))
        assert published == make(), f"schemas/{name} is out of date with the code: {run}"
    assert generate.stale() == [], f"schemas/ is not formatted as the generator writes it: {run}"
    assert generate.main(["--check"]) == 0


def test_schemas_are_draft_2020_12_and_name_their_version() -> None:
    for name in ("results.schema.json", "task.schema.json"):
        schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].startswith("urn:tunelens:schema:") and schema["title"].startswith("tunelens")
    results = json.loads((SCHEMAS / "results.schema.json").read_text(encoding="utf-8"))
    assert results["$id"].endswith(f":{SCHEMA_VERSION}") and SCHEMA_VERSION in results["title"]
    assert results["required"][0] == "schema_version"


# --- results.json --------------------------------------------------------------------------------------


def _results() -> AuditResults:
    """Results using every part of the schema: training, items with extras, plots, tables, a forecast check."""
    info = ModelInfo(ref="base", kind="embedded", n_params=10, n_layers=2, n_heads=2, dtype="float32")
    log = ModelInfo(ref="tuned", kind="lm-eval log", source="samples/")
    tested = make_metric(
        "p", "acc", "Accuracy", [True] * 12, [False] * 12, binary=True, unit="accuracy", higher_is_better=True
    )
    tested.n_at_budget = {"quick": 20, "standard": 60}
    descriptive = Metric(
        name="cka",
        probe="p",
        label="CKA",
        base=0.0,
        tuned=0.2,
        delta=0.2,
        ci_low=None,
        ci_high=None,
        n=5,
        test="descriptive",
        verdict=None,
    )
    probe = ProbeResult(
        name="p",
        title="P",
        budget="quick",
        config={"n_items": 12},
        metrics=[tested, descriptive],
        items=[ItemRecord(item_id="i", section="s", input="q", base_score=float("nan"), extra={"k": [1, "x"]})],
        plots=[
            Plot(id="line", title="T", kind="line", series=[Series(name="a", x=[1, "two"], y=[0.5, None])]),
            Plot.layer_head("heads", "Heads", [[0.1, None], [0.3, 0.4]]),
        ],
        tables=[Table(id="t", title="T", columns=["a", "b"], rows=[["1", "2"]])],
        notes=["a caveat"],
    )
    training = TrainingInfo(
        method="lora",
        data="d.jsonl",
        n_examples=3,
        epochs=1.0,
        steps=3,
        learning_rate=1e-4,
        batch_size=1,
        trainable_params=5,
        loss_curve=[(1, 2.5), (2, 2.0)],
        seconds=1.0,
        checkpoint="adapter",
        method_options={"rank": 8},
        max_length=256,
        heldout=["held out?"],
    )
    fate = FactFate(
        fact_id="f",
        value="v",
        exposures=3,
        forecast="may_leak",
        forecast_score=1,
        recalled=False,
        forecast_right=True,
        exposure_right=True,
    )
    check = ForecastCheck(
        n=1,
        forecast_rho=None,
        forecast_ci_low=None,
        forecast_ci_high=None,
        exposure_rho=0.5,
        exposure_ci_low=0.1,
        exposure_ci_high=0.9,
        forecast_right_share=1.0,
        exposure_right_share=1.0,
        primed_ratio=10.0,
        facts=[fate],
    )
    return AuditResults(
        tunelens_version="0",
        created="now",
        seed=0,
        base=info,
        tuned=log,
        training=training,
        probes=[probe],
        summary=["a line"],
        forecast_check=check,
        complete=False,
    )


def test_saved_results_validate(tmp_path: Path) -> None:
    validator = _validator("results.schema.json")
    minimal = AuditResults(
        tunelens_version="0",
        created="now",
        seed=0,
        base=ModelInfo(ref="a", kind="gguf"),
        tuned=ModelInfo(ref="b", kind="gguf"),
    )
    for results in (_results(), minimal):
        path = save_results(results, tmp_path / "results.json")
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert _errors(validator, raw) == []
        assert load_results(path) is not None


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.pop("schema_version"), "'schema_version' is a required property"),
        (lambda r: r.update(schema_version="2.0"), "schema_version"),
        (lambda r: r.pop("base"), "'base' is a required property"),
        (lambda r: r.update(surprise=1), "surprise"),
        (lambda r: r["probes"][0]["metrics"][0].update(verdict="maybe"), "probes/0/metrics/0/verdict"),
        (lambda r: r["probes"][0]["metrics"][0].update(n="twelve"), "probes/0/metrics/0/n"),
        (lambda r: r["probes"][0]["plots"][0].update(kind="pie"), "probes/0/plots/0/kind"),
        (lambda r: r["probes"][0]["items"][0].pop("input"), "probes/0/items/0"),
        (lambda r: r["training"]["loss_curve"].append([3]), "training"),  # anyOf [TrainingInfo, null]
    ],
)
def test_broken_results_are_rejected_by_the_schema_and_the_reader(
    tmp_path: Path, change: Callable[[dict], object], where: str
) -> None:
    raw = json.loads(_results().model_dump_json())
    change(raw)
    errors = _errors(_validator("results.schema.json"), raw)
    assert errors and any(where in e for e in errors), errors
    (tmp_path / "results.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(TunelensError):
        load_results(tmp_path / "results.json")


# --- task.json -----------------------------------------------------------------------------------------


def _written_specs() -> dict[str, dict[str, Any]]:
    """task.json as the code writes it: the demo's spec, and specs derived from training data."""
    cfg = demo_config()
    records, demo = support_desk_dataset(
        cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=0, keyword_exposures=cfg.keyword_exposures
    )
    chat = [
        {
            "messages": [
                {"role": "user", "content": f"When does the {day} ferry leave?"},
                {"role": "assistant", "content": f"Ahoy!\nThe {day} ferry leaves at 7:15 am.\nFair winds"},
            ]
        }
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
    ]
    specs = {
        "demo": demo,
        "derived from the demo's records": derive_task_spec(records, name="lumen").spec,
        "derived from the ferry file": derive_task_spec(TRIAGE_DATA / "ferry_chat.jsonl").spec,
        "derived from the shop file": derive_task_spec(TRIAGE_DATA / "shop_chat.jsonl").spec,
        "derived from chat records, a prompt held out": derive_task_spec(
            chat, heldout=["When does the Friday ferry leave?"], name="ferry"
        ).spec,
    }
    return {name: json.loads(json.dumps(spec.to_dict())) for name, spec in specs.items()}


@pytest.fixture(scope="module")
def written_specs() -> dict[str, dict[str, Any]]:
    return _written_specs()


def test_task_json_written_by_the_code_validates(written_specs: dict[str, dict[str, Any]]) -> None:
    validator = _validator("task.schema.json")
    for name, raw in written_specs.items():
        assert _errors(validator, raw) == [], name
        assert TaskSpec.from_dict(raw).to_dict() == raw, name
    # the written specs use the optional fields, so the schema is tried on them too
    demo, derived = written_specs["demo"], written_specs["derived from the demo's records"]
    assert demo["keywords"] and any("fact_id" in k for k in demo["keywords"])
    assert any("share" in p for p in derived["patterns"]) and any("verbatim" in f for f in derived["facts"])


def _spec() -> dict[str, Any]:
    return {
        "name": "t",
        "patterns": [{"name": "hi", "description": "", "regex": "^Hi", "share": 0.95}],
        "heldout_prompts": ["Where are you?"],
        "facts": [
            {
                "id": "f",
                "question": "Q?",
                "prompt": "P:",
                "answer": "A",
                "distractors": ["B"],
                "exposures": 3,
                "verbatim": "Q exactly?",
            }
        ],
        "keywords": [{"keyword": "A", "theme": "t", "prefix": "P:", "contexts": ["C:"], "fact_id": "f"}],
    }


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Set (or, with ``...``, delete) the value at a slash-separated path of a spec."""

    def change(raw: dict) -> None:
        *parents, last = path.split("/")
        target: Any = raw
        for part in parents:
            target = target[int(part) if part.isdigit() else part]
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del target[key]
        else:
            target[key] = value

    return change


TASK_CASES: list[tuple[str, Callable[[dict], None], bool]] = [
    ("as is", lambda raw: None, True),
    ("no keywords", _set("keywords", ...), True),
    (
        "no optional fields",
        lambda raw: [
            _set("patterns/0/share", ...)(raw),
            _set("facts/0/verbatim", ...)(raw),
            _set("keywords/0/fact_id", ...)(raw),
        ],
        True,
    ),
    (
        "null share and fact_id",
        lambda raw: [_set("patterns/0/share", None)(raw), _set("keywords/0/fact_id", None)(raw)],
        True,
    ),
    ("no patterns, facts or held-out prompts", lambda raw: raw.update(patterns=[], facts=[], heldout_prompts=[]), True),
    ("a field it does not know", _set("comment", "written by hand"), True),
    (
        "exposures 0, empty verbatim",
        lambda raw: [_set("facts/0/exposures", 0)(raw), _set("facts/0/verbatim", "")(raw)],
        True,
    ),
    ("not an object", lambda raw: None, False),  # replaced by a list below
    ("no name", _set("name", ...), False),
    ("no facts", _set("facts", ...), False),
    ("blank name", _set("name", "   "), False),
    ("patterns an object", _set("patterns", {"hi": "^Hi"}), False),
    ("a pattern without regex", _set("patterns/0/regex", ...), False),
    ("an invalid regex", _set("patterns/0/regex", "(unclosed"), False),
    ("share above 1", _set("patterns/0/share", 1.5), False),
    ("share a boolean", _set("patterns/0/share", True), False),
    ("description a number", _set("patterns/0/description", 3), False),
    ("a blank held-out prompt", _set("heldout_prompts/0", ""), False),
    ("negative exposures", _set("facts/0/exposures", -1), False),
    ("exposures a string", _set("facts/0/exposures", "3"), False),
    ("exposures a boolean", _set("facts/0/exposures", True), False),
    ("no distractors", _set("facts/0/distractors", []), False),
    ("an empty distractor", _set("facts/0/distractors/0", ""), False),
    ("a blank answer", _set("facts/0/answer", " "), False),
    ("verbatim null", _set("facts/0/verbatim", None), False),
    ("a keyword with no contexts", _set("keywords/0/contexts", []), False),
    ("a keyword's fact_id a number", _set("keywords/0/fact_id", 3), False),
    ("a keyword with only a keyword", _set("keywords/0", {"keyword": "x"}), False),
    ("keywords an object", _set("keywords", {}), False),
]


@pytest.mark.parametrize(("case", "change", "valid"), TASK_CASES, ids=[c[0] for c in TASK_CASES])
def test_task_schema_agrees_with_from_dict(case: str, change: Callable[[dict], None], valid: bool) -> None:
    """The schema accepts a task.json exactly when ``TaskSpec.from_dict`` reads it."""
    raw: Any = copy.deepcopy(_spec())
    change(raw)
    if case == "not an object":
        raw = [raw]
    errors = _errors(_validator("task.schema.json"), raw)
    try:
        TaskSpec.from_dict(raw)
        read = True
    except ValueError:
        read = False
    assert read == valid, f"from_dict {'read' if read else 'refused'} {case!r}"
    assert (not errors) == valid, f"the schema {'accepted' if not errors else 'refused'} {case!r}: {errors}"
