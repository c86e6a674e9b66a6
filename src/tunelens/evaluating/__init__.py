"""lm-evaluation-harness on tunelens's engine.

* ``TunelensLM``: lm-eval's ``LM`` API (loglikelihood, loglikelihood_rolling,
  generate_until) on :class:`tunelens.engine.Engine`, registered with lm-eval as the model
  type ``tunelens`` when this package's ``_model`` module is imported (``register()`` does it).
  Scores equal lm-eval's Hugging Face backend on the same requests (to float tolerance).
* ``python -m tunelens.evaluating ARGS``: lm-eval's own command line with that model type
  (lm-eval 0.4.13 has no plugin mechanism, so ``lm_eval --model tunelens`` cannot find it).
* :func:`lm_eval`: lm-eval tasks on a base and a tuned model, each side's sample logs written
  by lm-eval, then compared paired by :func:`tunelens.pairing.paired`.

lm-eval is an optional extra (``pip install 'tunelens[lm-eval]'``): nothing here imports it
until it is used, and a missing install is a TunelensError that says how to get it.
"""

from __future__ import annotations

from typing import Any

from tunelens.evaluating._harness import register, require_lm_eval
from tunelens.evaluating._run import evaluate_model, lm_eval

__all__ = ["TunelensLM", "evaluate_model", "lm_eval", "register", "require_lm_eval"]


def __getattr__(name: str) -> Any:
    if name == "TunelensLM":
        return register()
    raise AttributeError(f"module 'tunelens.evaluating' has no attribute {name!r}")
