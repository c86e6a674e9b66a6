"""The ``tunelens`` lm-eval model type against lm-eval's own Hugging Face backend, on the tiny
model and local tasks defined by lm-eval YAMLs (nothing is downloaded): the same per-sample
responses for multiple choice (log-likelihoods to 1e-4), rolling log-likelihood over several
windows, and greedy generation; the command line; and ``tunelens.lm_eval``'s sample logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# lm-eval reads tasks with ``datasets``, which reads these when it is imported: set them before
# anything imports it, so a local JSON task can never reach the network.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

pytest.importorskip("lm_eval")

from tests.conftest import build_tiny_model  # noqa: E402

pytestmark = pytest.mark.integration

QUESTIONS = [
    ("What is the capital of France?", ["Paris", "Lyon", "Berlin", "Rome"], 0),
    ("What colour is the sky on a clear day?", ["green", "blue", "red", "black"], 1),
    ("How many legs does a spider have?", ["six", "four", "eight", "ten"], 2),
    ("Which animal says moo?", ["a cat", "a dog", "a duck", "a cow"], 3),
    ("What is two plus two?", ["four", "five", "three"], 0),
    ("Which planet is called the red planet?", ["Venus", "Mars", "Jupiter and its many moons"], 1),
    ("What do bees make?", ["milk", "silk", "honey"], 2),
    ("What is frozen water called?", ["ice", "steam"], 0),
]

TEXTS = [
    "The quick brown fox jumps over the lazy dog. " * 9,
    "A short line.",
    "Once upon a time, in a land far away, there lived a king who had three daughters and a very old dog.",
]

MC_YAML = """task: tl_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
fewshot_split: test
num_fewshot: 2
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{answer}}}}"
metric_list:
  - metric: acc
  - metric: acc_norm
"""

GEN_YAML = """task: tl_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{choices[answer]}}}}"
generation_kwargs:
  until: ["\\n\\n", "Question:"]
  max_gen_toks: 12
  do_sample: false
metric_list:
  - metric: exact_match
"""

PPL_YAML = """task: tl_ppl
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: loglikelihood_rolling
doc_to_text: ""
doc_to_target: "{{{{text}}}}"
metric_list:
  - metric: word_perplexity
"""


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lm_eval_tasks")
    mc = folder / "mc.jsonl"
    mc.write_text("".join(json.dumps({"question": q, "choices": c, "answer": a}) + "\n" for q, c, a in QUESTIONS))
    texts = folder / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS))
    (folder / "tl_mc.yaml").write_text(MC_YAML.format(data=mc))
    (folder / "tl_gen.yaml").write_text(GEN_YAML.format(data=mc))
    (folder / "tl_ppl.yaml").write_text(PPL_YAML.format(data=texts))
    return folder


@pytest.fixture(scope="module")
def task_manager(task_dir: Path):
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(task_dir), include_defaults=False)


def _samples(lm, task: str, task_manager) -> dict[int, dict]:
    from lm_eval import simple_evaluate

    results = simple_evaluate(model=lm, tasks=[task], task_manager=task_manager, log_samples=True, bootstrap_iters=0)
    return {s["doc_id"]: s for s in results["samples"][task]}


@pytest.fixture(scope="module")
def backends(tiny_model_dir: Path):
    """lm-eval's HF backend (float32, small batches so padding is exercised) and ours, on the
    same weights; a short max_length so rolling log-likelihood needs several windows."""
    from lm_eval.models.huggingface import HFLM

    from tunelens.evaluating import TunelensLM

    hf = HFLM(pretrained=str(tiny_model_dir), dtype="float32", batch_size=3, device="cpu", max_length=32)
    ours = TunelensLM(pretrained=str(tiny_model_dir), dtype="float32", device="cpu", max_length=32)
    return hf, ours


def test_multiple_choice_loglikelihoods_match_the_hf_backend(backends, task_manager) -> None:
    hf, ours = (_samples(lm, "tl_mc", task_manager) for lm in backends)
    assert sorted(hf) == sorted(ours) == list(range(len(QUESTIONS)))
    worst = 0.0
    for doc_id, sample in hf.items():
        theirs, mine = sample["resps"], ours[doc_id]["resps"]
        assert sample["arguments"] == ours[doc_id]["arguments"]  # the same few-shot prompts and choices
        assert len(theirs) == len(mine) == len(QUESTIONS[doc_id][1])
        for (ll_hf, greedy_hf), (ll_ours, greedy_ours) in ((r[0], m[0]) for r, m in zip(theirs, mine)):
            worst = max(worst, abs(float(ll_hf) - float(ll_ours)))
            assert greedy_hf == greedy_ours
        assert sample["acc"] == ours[doc_id]["acc"]
        assert sample["acc_norm"] == ours[doc_id]["acc_norm"]
    assert worst < 1e-4


def test_rolling_loglikelihood_matches_the_hf_backend(backends, task_manager) -> None:
    hf, ours = (_samples(lm, "tl_ppl", task_manager) for lm in backends)
    ours_lm = backends[1]
    assert len(ours_lm.tok_encode(TEXTS[0])) > 2 * ours_lm.max_length  # several windows
    for doc_id, sample in hf.items():
        assert float(ours[doc_id]["resps"][0][0]) == pytest.approx(float(sample["resps"][0][0]), abs=1e-4)


def test_greedy_generation_matches_the_hf_backend(backends, task_manager) -> None:
    hf, ours = (_samples(lm, "tl_gen", task_manager) for lm in backends)
    texts = {doc_id: sample["resps"][0][0] for doc_id, sample in hf.items()}
    assert texts == {doc_id: sample["resps"][0][0] for doc_id, sample in ours.items()}
    assert any(texts.values())  # the model said something
    assert all("Question:" not in t and "\n\n" not in t for t in texts.values())


def test_empty_context_and_long_requests_match_the_hf_backend(backends) -> None:
    """An empty context is the prefix token (BOS) as in the HF backend; a pair longer than
    max_length is left-truncated the same way."""
    from lm_eval.api.instance import Instance

    long_context = "word " * 60
    requests = [
        Instance("loglikelihood", {}, ("", "Hello there"), 0),
        Instance("loglikelihood", {}, ("Hello ", "there, friend"), 1),
        Instance("loglikelihood", {}, (long_context, " and the end"), 2),
    ]
    hf, ours = (lm.loglikelihood(requests, disable_tqdm=True) for lm in backends)
    for (a, ga), (b, gb) in zip(hf, ours):
        assert b == pytest.approx(a, abs=1e-4)
        assert ga == gb


def test_unknown_model_args_are_refused(tiny_model_dir: Path) -> None:
    from tunelens.errors import TunelensError
    from tunelens.evaluating import TunelensLM

    with pytest.raises(TunelensError, match="does not take tokenizer"):
        TunelensLM(pretrained=str(tiny_model_dir), tokenizer="x")


def test_command_line_writes_lm_evals_own_logs(tiny_model_dir: Path, task_dir: Path, tmp_path: Path) -> None:
    """``python -m tunelens.evaluating`` is lm-eval's CLI with ``--model tunelens`` registered."""
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "tunelens.evaluating",
        "--model", "tunelens",
        "--model_args", f"pretrained={tiny_model_dir},dtype=float32",
        "--batch_size", "4",
        "--tasks", "tl_mc",
        "--include_path", str(task_dir),
        "--limit", "3",
        "--output_path", str(out),
        "--log_samples",
    ]  # fmt: skip
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    samples = list(out.rglob("samples_tl_mc_*.jsonl"))
    assert len(samples) == 1
    lines = samples[0].read_text().splitlines()
    assert len(lines) == 3
    assert all(len(json.loads(line)["resps"]) >= 2 for line in lines)
    assert "tunelens" in run.stdout  # lm-eval's own summary table names the model type


def test_lm_eval_writes_both_sides_and_pairs_them(
    tiny_model_dir: Path, task_dir: Path, tmp_path: Path, smollm_tokenizer
) -> None:
    """``tunelens.lm_eval``: lm-eval's own logs for each side, then ``tunelens.paired`` on the two folders."""
    import tunelens
    from tunelens.evaluating import lm_eval

    tuned = build_tiny_model(tmp_path / "tuned", smollm_tokenizer, seed=1)
    out = tmp_path / "audit"
    assert tunelens.lm_eval is lm_eval
    messages: list[str] = []
    results = lm_eval(
        str(tiny_model_dir),
        str(tuned),
        ["tl_mc", "tl_gen"],
        out_dir=out,
        include_path=task_dir / "tl_mc.yaml",  # a YAML stands for its folder
        limit=4,
        progress=messages.append,
    )
    assert sorted(p.name for p in results.probes) == ["tl_gen", "tl_mc"]
    assert (out / "results.json").is_file() and (out / "report.html").is_file()
    assert any("base model" in m for m in messages) and any("tuned model" in m for m in messages)
    logs = {}
    for side in ("base", "tuned"):
        for task in ("tl_mc", "tl_gen"):
            (path,) = (out / side).glob(f"samples_{task}_*.jsonl")
            logs[side, task] = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(list((out / side).glob("results_*.json"))) == 1
    for task in ("tl_mc", "tl_gen"):
        base_docs = [(s["doc_id"], s["arguments"]) for s in logs["base", task]]
        assert base_docs == [(s["doc_id"], s["arguments"]) for s in logs["tuned", task]]  # same items, same prompts
        assert len(base_docs) == 4
    # Different weights, different scores.
    assert [s["resps"] for s in logs["base", "tl_mc"]] != [s["resps"] for s in logs["tuned", "tl_mc"]]


def test_the_lm_eval_subcommand_hands_its_options_to_lm_eval(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``tunelens lm-eval`` (cli/lm_eval_cmd.py) parses lm-eval's options and calls ``tunelens.lm_eval``."""
    import argparse

    import tunelens.evaluating as evaluating
    from tunelens.cli import lm_eval_cmd

    parser = argparse.ArgumentParser()
    lm_eval_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["lm-eval", "A", "B", "--tasks", "x,y", "--limit", "20", "--num-fewshot", "3", "--margin", "x.acc=0.05",
         "--out", str(tmp_path), "--dtype", "float32"]
    )  # fmt: skip
    seen: dict = {}

    def fake(base, tuned, tasks, **kwargs):
        seen.update(base=base, tuned=tuned, tasks=tasks, **kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(evaluating, "lm_eval", fake)
    with pytest.raises(SystemExit):
        lm_eval_cmd.run(args)
    assert (seen["base"], seen["tuned"], seen["tasks"]) == ("A", "B", "x,y")
    assert seen["limit"] == 20 and isinstance(seen["limit"], int) and seen["num_fewshot"] == 3
    assert seen["margins"] == {"x.acc": 0.05} and seen["options"].dtype == "float32"
