"""Paired verdicts on another tool's per-sample logs: ``tunelens paired BASE TUNED``.

    from tunelens.pairing import paired
    results = paired("lm_eval_out/base-model", "lm_eval_out/tuned-model", out_dir="paired")

lm-evaluation-harness compares two models with an unpaired z-test, and inspect_ai has no
comparison of two models; the same evaluation run on both, paired item by item, is far more
sensitive (200 multiple-choice items, 17 lost and 3 gained: exact McNemar p = 0.003 where the
unpaired z-test gives p = 0.12). ``paired`` reads both tools' per-sample logs, pairs them by
task and item, and gives every metric tunelens' verdict (changed, equivalent, inconclusive)
under one multiple-comparison correction, in ``results.json`` and ``report.html``.
"""

from tunelens.pairing._build import unpaired_z_p
from tunelens.pairing._run import detect, paired

__all__ = ["detect", "paired", "unpaired_z_p"]

