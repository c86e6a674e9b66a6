"""``--suite`` as an lm-eval task YAML over a local file: the forgetting probe asks every
document as lm-eval builds it (prompt format, few-shot examples, choices) and scores it by
the task's own metric; on the tiny models each document's score equals lm-eval's own run
with its Hugging Face backend (multiple choice by log-likelihood, generation by exact match)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

os.environ["HF_DATASETS_OFFLINE"] = "1"  # before ``datasets`` is imported: nothing is downloaded
os.environ["HF_HUB_OFFLINE"] = "1"

pytest.importorskip("lm_eval")

from tests.conftest import build_tiny_model  # noqa: E402
from tunelens.data import DataError  # noqa: E402
from tunelens.data._lm_eval_suite import read_lm_eval_suite  # noqa: E402
from tunelens.engine import Engine  # noqa: E402
from tunelens.probes import PROBES, ProbeContext  # noqa: E402
from tunelens.probes.forgetting import ForgettingConfig  # noqa: E402

pytestmark = pytest.mark.integration

TINY = ForgettingConfig(
    n_text_chunks=2, chars_per_chunk=200, facts_per_category=1, n_arithmetic=2, n_instructions=2, max_new_tokens=4
)

DOCS = [
    {"q": "What is the capital of France?", "choices": ["Paris", "Lyon", "Berlin", "Rome"], "gold": 0},
    {"q": "What colour is the sky?", "choices": ["green", "blue", "red"], "gold": 1},
    {"q": "How many legs does a spider have?", "choices": ["six", "four", "eight", "ten"], "gold": 2},
    {"q": "Which animal says moo?", "choices": ["a cat", "a dog", "a cow"], "gold": 2},
    {"q": "What is two plus two?", "choices": ["four", "five"], "gold": 0},
    {"q": "What do bees make?", "choices": ["milk", "silk", "honey"], "gold": 2},
]

MC_YAML = """task: suite_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
fewshot_split: test
num_fewshot: 1
output_type: multiple_choice
doc_to_text: "Q: {{{{q}}}}\\nA:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: gold
metric_list:
  - metric: acc
"""

GEN_YAML = """task: suite_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Q: {{{{q}}}}\\nA:"
doc_to_target: "{{{{choices[gold]}}}}"
generation_kwargs:
  until: ["\\n", "Q:"]
  max_gen_toks: 6
metric_list:
  - metric: exact_match
    ignore_case: true
    ignore_punctuation: true
"""


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("suite")
    data = folder / "docs.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    (folder / "suite_mc.yaml").write_text(MC_YAML.format(data=data))
    (folder / "suite_gen.yaml").write_text(GEN_YAML.format(data=data))
    return folder


@pytest.fixture(scope="module")
def tuned_dir(tmp_path_factory: pytest.TempPathFactory, smollm_tokenizer) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tuned") / "model", smollm_tokenizer, seed=1)


def _lm_eval_own(model_dir: Path, yaml: Path) -> dict[int, dict]:
    """lm-eval's own per-document samples with its Hugging Face backend (float32)."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    hf = HFLM(pretrained=str(model_dir), dtype="float32", batch_size=4, device="cpu")
    manager = TaskManager(include_path=str(yaml.parent), include_defaults=False)
    results = simple_evaluate(model=hf, tasks=[yaml.stem], task_manager=manager, log_samples=True, bootstrap_iters=0)
    return {s["doc_id"]: s for s in results["samples"][yaml.stem]}


def _run_probe(base_dir: Path, tuned_dir: Path, suite: Path):
    from tunelens.models import load_model

    base, tuned = Engine(load_model(str(base_dir))), Engine(load_model(str(tuned_dir)))
    result = PROBES["forgetting"].run(ProbeContext(base, tuned, seed=0, suite=suite), TINY)
    metric = next(m for m in result.metrics if m.name == "user_suite_acc")
    items = [i for i in result.items if i.section.startswith("your suite")]
    return metric, items


def test_documents_are_built_as_lm_eval_builds_them(suite_dir: Path) -> None:
    suite = read_lm_eval_suite(suite_dir / "suite_mc.yaml")
    assert suite.metrics == {"suite_mc": "acc"}
    assert [d.id for d in suite.docs] == [f"suite_mc-{i}" for i in range(len(DOCS))]
    for doc, raw in zip(suite.docs, DOCS):
        assert doc.question == f"Q: {raw['q']}\nA:"
        assert doc.choices == tuple(raw["choices"]) and doc.answer == raw["choices"][raw["gold"]]
        assert [r.continuation for r in doc.requests] == [" " + c for c in raw["choices"]]  # target delimiter
        context = doc.requests[0].context
        assert context.endswith(doc.question) and context.count("Q: ") == 2  # one few-shot example in front
    gen = read_lm_eval_suite(suite_dir / "suite_gen.yaml")
    assert gen.metrics == {"suite_gen": "exact_match"}
    assert all(d.requests[0].until == ("\n", "Q:") and d.requests[0].max_gen_toks == 6 for d in gen.docs)


@pytest.mark.parametrize("task", ["suite_mc", "suite_gen"])
def test_suite_scores_equal_lm_evals_own(tiny_model_dir: Path, tuned_dir: Path, suite_dir: Path, task: str) -> None:
    yaml = suite_dir / f"{task}.yaml"
    metric, items = _run_probe(tiny_model_dir, tuned_dir, yaml)
    assert metric.n == len(DOCS) and len(items) == len(DOCS)
    assert "lm-eval" in metric.label
    key = "acc" if task == "suite_mc" else "exact_match"
    for side, model_dir in (("base", tiny_model_dir), ("tuned", tuned_dir)):
        own = _lm_eval_own(model_dir, yaml)
        for item in items:
            sample = own[int(item.item_id.rsplit("-", 1)[1])]
            assert getattr(item, f"{side}_score") == float(sample[key]), (side, item.item_id)
            if task == "suite_gen":  # the same greedy text, cut at the same stop string
                assert getattr(item, f"{side}_output") == sample["resps"][0][0]


def test_a_suite_yaml_without_lm_eval_says_how_to_install_it(suite_dir: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "lm_eval.tasks", None)
    with pytest.raises(DataError, match=r"pip install 'tunelens\[lm-eval\]'"):
        read_lm_eval_suite(suite_dir / "suite_mc.yaml")


def test_a_broken_task_yaml_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "task: bad\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: /no/such/file.jsonl\n"
        "test_split: test\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_choice: c\ndoc_to_target: 0\n"
    )
    with pytest.raises(DataError, match="bad.yaml"):
        read_lm_eval_suite(bad)
    rolling = tmp_path / "ppl.yaml"
    data = tmp_path / "t.jsonl"
    data.write_text('{"text": "some words"}\n')
    rolling.write_text(f"task: ppl\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
                       "test_split: test\noutput_type: loglikelihood_rolling\ndoc_to_text: ''\n"
                       "doc_to_target: '{{text}}'\nmetric_list:\n  - metric: word_perplexity\n")  # fmt: skip
    with pytest.raises(DataError, match="loglikelihood_rolling"):
        read_lm_eval_suite(rolling)
