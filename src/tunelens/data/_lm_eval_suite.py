"""A regression suite written as an lm-eval task: a task YAML over a local data file.

``tunelens audit --suite my_task.yaml`` loads the task with lm-eval's own ``TaskManager``
(``include_path`` = the YAML's folder, lm-eval's built-in tasks left out) and builds its
requests with lm-eval itself, so every document is asked exactly as ``lm_eval`` asks it:
the task's ``doc_to_text``, target delimiter, ``doc_to_choice``/``doc_to_target`` and the
few-shot examples the YAML sets (``num_fewshot``, sampled with lm-eval's default few-shot
seed). Multiple-choice tasks are scored by log-likelihood and generate_until tasks by
their metric (``exact_match`` with the YAML's options and filters), both through the task's
own ``process_results`` after its filters, as lm-eval's evaluator does.

lm-eval is an optional extra: it is imported only when such a suite is read, and a missing
install is a DataError that says how to get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens.data._jsonl import DataError

LM_EVAL_SUFFIXES = (".yaml", ".yml")
"""A suite file with one of these suffixes is an lm-eval task YAML; anything else is JSONL."""

FEWSHOT_SEED = 1234
"""lm-eval's default few-shot seed (``lm_eval.defaults.DEFAULT_OTHER_SEED``): the same
few-shot examples as ``lm_eval --tasks ...`` puts in front of each document."""

SUPPORTED_OUTPUT_TYPES = ("multiple_choice", "generate_until", "loglikelihood")

PREFERRED_METRICS = {"multiple_choice": "acc", "generate_until": "exact_match", "loglikelihood": "acc"}
"""The metric a suite item is right or wrong by, when the task computes it."""

DEFAULT_MAX_GEN_TOKS = 256
"""Tokens generated when a generate_until task sets no ``max_gen_toks`` (lm-eval's default)."""


def is_lm_eval_suite(path: str | Path) -> bool:
    return Path(path).suffix.lower() in LM_EVAL_SUFFIXES


@dataclass(frozen=True)
class LmEvalRequest:
    """One model call of a document, as lm-eval builds it."""

    kind: str  # "loglikelihood" or "generate_until"
    context: str
    continuation: str = ""  # loglikelihood: the text scored after the context
    until: tuple[str, ...] = ()  # generate_until: stop strings
    max_gen_toks: int = DEFAULT_MAX_GEN_TOKS


@dataclass(frozen=True)
class LmEvalDoc:
    """One document of the task: its requests and what a report shows of it."""

    id: str
    task: str
    output_type: str
    question: str  # the document's own prompt, without few-shot examples
    answer: str  # the gold answer as text
    choices: tuple[str, ...]  # multiple choice: the continuations scored (without the delimiter)
    requests: tuple[LmEvalRequest, ...]


@dataclass
class LmEvalSuite:
    """The documents of one lm-eval task YAML (or of the tasks of a group YAML), ready to score."""

    path: Path
    docs: list[LmEvalDoc]
    metrics: dict[str, str]  # task name -> the metric an item is right by
    _tasks: dict[str, Any] = field(repr=False, default_factory=dict)  # task name -> lm-eval Task
    _instances: dict[str, list[list[Any]]] = field(repr=False, default_factory=dict)  # task -> per doc

    @property
    def name(self) -> str:
        return self.path.name

    def score(self, responses: Sequence[Sequence[Any]]) -> list[float]:
        """Each document's value of its task's metric, from the model's responses to its requests
        (``(logprob, is_greedy)`` for a loglikelihood request, the text for a generation), through
        the task's filters and ``process_results``, as lm-eval's evaluator computes them. Call it
        once per model: the responses are set on lm-eval's instances and filtered anew each time."""
        if len(responses) != len(self.docs):
            raise ValueError(f"{len(responses)} response lists for {len(self.docs)} documents")
        at: dict[str, int] = {}
        for doc, answers in zip(self.docs, responses):
            index = at.get(doc.task, 0)
            at[doc.task] = index + 1
            instances = self._instances[doc.task][index]
            if len(answers) != len(instances):
                raise ValueError(f"{doc.id}: {len(answers)} responses for {len(instances)} requests")
            for inst, answer in zip(instances, answers):
                inst.resps = [tuple(answer) if isinstance(answer, list) else answer]
                inst.filtered_resps = {}
        values: dict[tuple[str, int], float] = {}
        for name, task in self._tasks.items():
            task.apply_filters()
            per_doc = self._instances[name]
            key = next(iter(per_doc[0][0].filtered_resps))  # the first filter, as lm-eval lists it first
            for index, instances in enumerate(per_doc):
                doc = instances[0].doc
                result = task.process_results(doc, [inst.filtered_resps[key] for inst in instances])
                values[name, index] = float(result[self.metrics[name]])
        at.clear()
        out: list[float] = []
        for doc in self.docs:
            index = at.get(doc.task, 0)
            at[doc.task] = index + 1
            out.append(values[doc.task, index])
        return out


def _require_lm_eval(path: Path) -> None:
    try:
        import lm_eval.tasks  # noqa: F401
    except ImportError:
        raise DataError(
            f"{path.name}: reading an lm-eval task YAML as a suite needs lm-evaluation-harness; "
            "install it with pip install 'tunelens[lm-eval]', or give the suite as JSONL"
        ) from None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    return str(value)


def _metric(task: Any, name: str, path: Path) -> str:
    output_type = task.OUTPUT_TYPE
    metrics = list(task._metric_fn_list)
    preferred = PREFERRED_METRICS[output_type]
    if preferred in metrics:
        return preferred
    if not metrics:
        raise DataError(f"{path.name}: task {name} lists no metric; add metric_list with {preferred}")
    return metrics[0]


def _request(inst: Any) -> LmEvalRequest:
    if inst.request_type == "loglikelihood":
        context, continuation = inst.args
        return LmEvalRequest("loglikelihood", context, continuation)
    context, gen_kwargs = inst.args
    gen_kwargs = dict(gen_kwargs or {})
    until = gen_kwargs.get("until") or []
    until = [until] if isinstance(until, str) else list(until)
    limit = next(
        (gen_kwargs[k] for k in ("max_gen_toks", "max_new_tokens", "max_tokens") if gen_kwargs.get(k) is not None),
        DEFAULT_MAX_GEN_TOKS,
    )
    return LmEvalRequest("generate_until", context, until=tuple(s for s in until if s), max_gen_toks=int(limit))


def read_lm_eval_suite(path: str | Path) -> LmEvalSuite:
    """Load an lm-eval task YAML (over a local data file) and build every document's requests."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such suite file: {path}")
    _require_lm_eval(path)
    from lm_eval.tasks import TaskManager

    try:
        manager = TaskManager(include_path=str(path.parent.resolve()), include_defaults=False)
        loaded = manager.load([str(path.resolve())])
    except Exception as exc:  # lm-eval raises KeyError, ValueError, YAML and dataset errors alike
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"{path.name}: lm-eval could not load this task ({type(exc).__name__}: {first}); check the YAML "
            "and that dataset_path/dataset_kwargs point at a readable local file"
        ) from None
    tasks: dict[str, Any] = loaded["tasks"]
    if not tasks:
        raise DataError(f"{path.name}: the YAML defines no lm-eval task")
    docs: list[LmEvalDoc] = []
    metrics: dict[str, str] = {}
    instances: dict[str, list[list[Any]]] = {}
    for name, task in tasks.items():
        output_type = task.OUTPUT_TYPE
        if output_type not in SUPPORTED_OUTPUT_TYPES:
            raise DataError(
                f"{path.name}: task {name} has output_type {output_type}; a suite scores "
                f"{', '.join(SUPPORTED_OUTPUT_TYPES)} tasks"
            )
        if task.get_config("num_fewshot") is None:
            task.set_config(key="num_fewshot", value=0)  # as lm-eval's simple_evaluate
        task.set_fewshot_seed(seed=FEWSHOT_SEED)
        try:
            task.build_all_requests(rank=0, world_size=1)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{path.name}: lm-eval could not build the requests of task {name}: {first}") from None
        by_doc: dict[int, list[Any]] = {}
        for inst in task.instances:
            by_doc.setdefault(inst.doc_id, []).append(inst)
        metrics[name] = _metric(task, name, path)
        instances[name] = [sorted(by_doc[d], key=lambda inst: inst.idx) for d in sorted(by_doc)]
        for doc_id, group in zip(sorted(by_doc), instances[name]):
            doc = group[0].doc
            choices: tuple[str, ...] = ()
            target = task.doc_to_target(doc)
            if output_type == "multiple_choice" or task.config.doc_to_choice is not None:
                choices = tuple(str(c) for c in task.doc_to_choice(doc))
                golds = target if isinstance(target, list) else [target]
                answer = " | ".join(
                    choices[g] if isinstance(g, int) and 0 <= g < len(choices) else str(g) for g in golds
                )
            else:
                answer = _text(target)
            docs.append(
                LmEvalDoc(
                    id=f"{name}-{doc_id}",
                    task=name,
                    output_type=output_type,
                    question=_text(task.doc_to_text(doc)),
                    answer=answer,
                    choices=choices,
                    requests=tuple(_request(inst) for inst in group),
                )
            )
    return LmEvalSuite(path=path, docs=docs, metrics=metrics, _tasks=tasks, _instances=instances)
