"""Paired verdicts on another tool's per-sample logs: ``tunelens paired BASE TUNED``.

    from tunelens.paired import paired
    results = paired("lm_eval_out/base-model", "lm_eval_out/tuned-model", out_dir="paired")

lm-evaluation-harness compares two models with an unpaired z-test, and inspect_ai has no
comparison of two models; the same evaluation run on both, paired item by item, is far more
sensitive (200 multiple-choice items, 17 lost and 3 gained: exact McNemar p = 0.003 where the
unpaired z-test gives p = 0.12). ``paired`` reads both tools' per-sample logs, pairs them by
task and item, and gives every metric tunelens' verdict (changed, equivalent, inconclusive)
under one multiple-comparison correction, in ``results.json`` and ``report.html``.

``tunelens.paired`` is both this package and the function (``tunelens.paired(base, tuned)``):
once the package is imported, Python binds the name ``paired`` of ``tunelens`` to it, so the
package itself can be called, and calls :func:`paired`.
"""

import sys
import types
from typing import Any

from tunelens.paired._build import unpaired_z_p
from tunelens.paired._run import detect, paired

__all__ = ["detect", "paired", "unpaired_z_p"]


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`paired`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return paired(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
