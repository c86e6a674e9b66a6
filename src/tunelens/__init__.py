"""tunelens: what did your fine-tune really change?

The Python API is the product; the ``tunelens`` command is a thin shell over it::

    import tunelens
    results = tunelens.audit("embedded:smollm2-135m-instruct", "runs/lora/adapter", out_dir="audit")
    path = tunelens.audit_checkpoints("embedded:smollm2-135m-instruct", run_dir="runs/lora", out_dir="traj")
    run = tunelens.tune("embedded:smollm2-135m-instruct", "data.jsonl", out_dir="runs/lora")
    plan = tunelens.triage("data.jsonl", out_dir="triage")  # before training: patterns vs point facts
    verdicts = tunelens.paired("base_samples/", "tuned_samples/", out_dir="paired")  # lm-eval or inspect logs
    frame = tunelens.load_results("audit/results.json").to_frame()  # metrics as a pandas DataFrame
    table = tunelens.compare("embedded:smollm2-135m-instruct", "data.jsonl", task=task)  # lora, full, svf, retrieval

Heavy dependencies (torch, transformers, peft) load on first use, so ``import tunelens`` is fast.
"""

from __future__ import annotations

from typing import Any

from tunelens._version import __version__
from tunelens.errors import TunelensError

__all__ = [
    "TunelensError",
    "__version__",
    "audit",
    "audit_checkpoints",
    "compare",
    "lm_eval",
    "load_model",
    "load_results",
    "paired",
    "run_demo",
    "triage",
    "tune",
]

_LAZY = {
    "audit": ("tunelens._audit", "audit"),
    "audit_checkpoints": ("tunelens._checkpoints", "audit_checkpoints"),
    "compare": ("tunelens.comparing", "compare"),
    "tune": ("tunelens.tuning", "tune"),
    "load_model": ("tunelens.models", "load_model"),
    "run_demo": ("tunelens.demo", "run_demo"),
    "triage": ("tunelens.triaging", "triage"),
    "load_results": ("tunelens.results", "load_results"),
    "paired": ("tunelens.pairing", "paired"),
    "lm_eval": ("tunelens.evaluating", "lm_eval"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'tunelens' has no attribute {name!r}")
