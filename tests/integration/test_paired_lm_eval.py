"""``paired`` on real lm-evaluation-harness logs, written by lm-eval itself: two tiny local models
(different seeds) on local tasks defined by lm-eval task YAMLs (multiple choice with acc and
acc_norm; generation with exact_match and corpus BLEU), run with ``simple_evaluate`` and saved
with lm-eval's own ``EvaluationTracker``. Nothing is downloaded."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from scipy import stats as sps

from tests.conftest import build_tiny_model
from tunelens.errors import TunelensError
from tunelens.results import load_results

pytest.importorskip("lm_eval")

pytestmark = pytest.mark.integration

LIMIT = 20

MC_YAML = """task: tiny_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
fewshot_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""

GEN_YAML = """task: tiny_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "The sum is {{{{choices[0]}}}}, so {{{{question}}}} is {{{{choices[0]}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 4
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
  - metric: bleu
    higher_is_better: true
metadata:
  version: 1.0
"""


def _evaluate(model: Path, out: Path, manager, tasks: list[str], num_fewshot: int | None = None) -> Path:
    """Run lm-eval on ``model`` and write its logs as its CLI does; returns the folder it wrote."""
    import lm_eval
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(out))
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model},dtype=float32",
        tasks=tasks,
        num_fewshot=num_fewshot,
        device="cpu",
        limit=LIMIT,
        log_samples=True,
        task_manager=manager,
        evaluation_tracker=tracker,
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, smollm_tokenizer) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lm_eval")
    rng = random.Random(0)
    data = root / "sums.jsonl"
    with data.open("w") as fh:
        for _ in range(30):
            a, b = rng.randint(1, 9), rng.randint(1, 9)
            choices = [str(a + b), str(a + b + 1), str(a + b - 1)]
            fh.write(json.dumps({"question": f"What is {a} plus {b}?", "choices": choices, "answer": 0}) + "\n")
    tasks = root / "tasks"
    tasks.mkdir()
    (tasks / "tiny_mc.yaml").write_text(MC_YAML.format(data=data))
    (tasks / "tiny_gen.yaml").write_text(GEN_YAML.format(data=data))
    models = {s: build_tiny_model(root / f"model{s}", smollm_tokenizer, seed=s) for s in (0, 1)}
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(tasks), include_defaults=False)  # only our tasks: no index of lm-eval's
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        mp.setenv("HF_DATASETS_CACHE", str(root / "hf_datasets"))
        # lm-eval's bootstrap of BLEU's stderr forks a process pool; forked from this process,
        # which holds torch's (and an earlier test's Ray) threads, a worker can hang on a lock.
        mp.setenv("DISABLE_MULTIPROC", "1")
        return {
            "base": _evaluate(models[0], root / "base", manager, ["tiny_mc", "tiny_gen"]),
            "tuned": _evaluate(models[1], root / "tuned", manager, ["tiny_mc", "tiny_gen"]),
            "fewshot": _evaluate(models[1], root / "fewshot", manager, ["tiny_mc"], num_fewshot=2),
            "root": root,
        }


def _samples(folder: Path, task: str) -> list[dict]:
    (path,) = folder.glob(f"samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pairs_lm_evals_own_logs(runs: dict[str, Path], tmp_path: Path) -> None:
    from tunelens.pairing import paired

    results = paired(runs["base"].parent, runs["tuned"].parent, out_dir=tmp_path / "out")
    assert results.source == "lm-eval"
    assert results.base.ref.endswith("model0") and results.tuned.ref.endswith("model1")  # results_*.json's model_name
    assert results.base.kind == "lm-eval log" and results.base.n_params is None
    assert [p.name for p in results.probes] == ["tiny_gen", "tiny_mc"]
    gen, mc = results.probes
    assert [m.name for m in mc.metrics] == ["acc", "acc_norm"]
    assert [m.headline for m in mc.metrics] == [True, False]
    assert all(m.test == "mcnemar" and m.n == LIMIT and m.unit == "accuracy" for m in mc.metrics)
    assert not [n for n in mc.notes if "recomputed" in n]  # tunelens' accuracies are lm-eval's

    # McNemar's discordant pairs, counted from lm-eval's own sample files.
    base_acc = {s["doc_id"]: s["acc"] for s in _samples(runs["base"], "tiny_mc")}
    tuned_acc = {s["doc_id"]: s["acc"] for s in _samples(runs["tuned"], "tiny_mc")}
    lost = sum(1 for d in base_acc if base_acc[d] > tuned_acc[d])
    gained = sum(1 for d in base_acc if tuned_acc[d] > base_acc[d])
    acc = mc.metrics[0]
    expected_p = sps.binomtest(min(lost, gained), lost + gained, 0.5).pvalue if lost + gained else 1.0
    assert acc.p_value == pytest.approx(expected_p)
    assert mc.tables[0].rows[0][0] == "acc" and mc.tables[0].rows[0][2:4] == [str(lost), str(gained)]
    assert acc.base == pytest.approx(sum(base_acc.values()) / LIMIT)

    # The evidence: the prompt, the right choice's text, each model's choice and score.
    item = mc.items[0]
    first = _samples(runs["base"], "tiny_mc")[0]
    assert item.item_id == "0" and item.input == first["arguments"]["gen_args_0"]["arg_0"]
    assert item.expected == first["doc"]["choices"][0]
    assert item.base_output in first["doc"]["choices"] and item.base_score == first["acc"]
    assert len(mc.items) == LIMIT

    # Generation: exact match per document, corpus BLEU through the paired bootstrap.
    assert [m.name for m in gen.metrics] == ["exact_match", "bleu"]
    em, bleu = gen.metrics
    assert em.test == "mcnemar" and em.headline
    assert bleu.test == "bootstrap_aggregate" and bleu.unit == "points" and bleu.n == LIMIT and not bleu.headline
    reported = json.loads(next(runs["base"].glob("results_*.json")).read_text())["results"]["tiny_gen"]
    assert bleu.base == pytest.approx(reported["bleu,none"], abs=1e-9)
    assert gen.items[0].base_output == _samples(runs["base"], "tiny_gen")[0]["filtered_resps"][0]
    assert load_results(tmp_path / "out" / "results.json") == results


def test_bleu_on_edited_predictions(runs: dict[str, Path], tmp_path: Path) -> None:
    """lm-eval's generation log with half the tuned predictions set to the reference: BLEU rises,
    and the note says the recomputed value is not the one lm-eval reported for that file."""
    from tunelens.pairing import paired

    tuned = tmp_path / "tuned"
    shutil.copytree(runs["tuned"], tuned)
    (path,) = tuned.glob("samples_tiny_gen_*.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows[::2]:
        row["bleu"] = [row["bleu"][0], row["bleu"][0]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for samples in tuned.glob("samples_tiny_mc_*.jsonl"):
        samples.unlink()
    base = tmp_path / "base"
    shutil.copytree(runs["base"], base)
    for samples in base.glob("samples_tiny_mc_*.jsonl"):
        samples.unlink()

    results = paired(base, tuned, out_dir=tmp_path / "out", seed=2)
    (gen,) = results.probes
    bleu = gen.metrics[1]
    assert bleu.tuned > bleu.base + 10 and bleu.ci_low > 0 and bleu.p_value < 0.01
    assert bleu.verdict == "changed"
    assert any("bleu on tuned: recomputed" in note for note in gen.notes)


def test_other_prompts_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    from tunelens.pairing import paired

    base_mc = next(runs["base"].glob("samples_tiny_mc_*.jsonl"))
    fewshot_mc = next(runs["fewshot"].glob("samples_tiny_mc_*.jsonl"))
    with pytest.raises(TunelensError) as caught:
        paired(base_mc, fewshot_mc, out_dir=tmp_path / "out")
    message = str(caught.value)
    assert f"task tiny_mc: {LIMIT} of {LIMIT} paired documents differ between the two logs (prompt_hash" in message
    assert "e.g. doc_id 0" in message and "few-shot setting (base 0-shot, tuned 2-shot)" in message

    # One document's prompt edited in a copy: one of twenty differs.
    edited = tmp_path / "edited" / fewshot_mc.name.replace("fewshot", "x")
    edited.parent.mkdir()
    rows = _samples(runs["tuned"], "tiny_mc")
    rows[3]["prompt_hash"] = "0" * 64
    edited.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(TunelensError, match=r"1 of 20 paired documents differ .*\(prompt_hash; e\.g\. doc_id 3\)"):
        paired(base_mc, edited, out_dir=tmp_path / "out")


def test_item_sets_that_differ_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    from tunelens.pairing import paired

    tuned = tmp_path / "tuned"
    shutil.copytree(runs["tuned"], tuned)
    (mc,) = tuned.glob("samples_tiny_mc_*.jsonl")
    mc.write_text("".join(line + "\n" for line in mc.read_text().splitlines()[:15]))
    for gen in tuned.glob("samples_tiny_gen_*.jsonl"):
        gen.unlink()
    with pytest.raises(TunelensError) as caught:
        paired(runs["base"], tuned, out_dir=tmp_path / "out")
    message = str(caught.value)
    assert "tasks only in the base logs: tiny_gen" in message
    assert "task tiny_mc: the base log has 20 items, the tuned log 15, and 15 pair" in message
    assert "5 only in base (doc_id 15, 16, 17, \u2026)" in message
    assert "same --limit" in message


def test_cli_end_to_end(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tunelens.cli.main import main

    out = tmp_path / "cli"
    code = main(["paired", str(runs["base"]), str(runs["tuned"]), "--out", str(out), "--margin", "tiny_mc.acc=0.2",
                 "--seed", "3", "--alpha", "0.1"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert f"report: {out / 'report.html'}" in printed
    lines = [line for line in printed.splitlines() if line.startswith("- ")]
    results = load_results(out / "results.json")
    assert lines == [f"- {line}" for line in results.summary]
    assert results.alpha == 0.1 and results.seed == 3
    acc = next(m for m in results.metrics() if m.probe == "tiny_mc" and m.name == "acc")
    assert acc.margin == 0.2
    assert "tunelens paired" in (out / "report.html").read_text()

    assert main(["paired", str(runs["base"]), str(runs["tuned"]), "--out", str(out), "--margin", "acc=0.2"]) == 2
    assert "write TASK.METRIC=X" in capsys.readouterr().err
    assert main(["paired", str(runs["base"]), str(runs["tuned"]), "--out", str(out), "--margin", "tiny_mc.f1=1"]) == 2
    known = "the logs have: tiny_gen.bleu, tiny_gen.exact_match, tiny_mc.acc, tiny_mc.acc_norm"
    assert known in capsys.readouterr().err
