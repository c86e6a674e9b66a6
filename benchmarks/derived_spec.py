"""The demo's findings with the derived task spec against the generator's own spec.

    python benchmarks/derived_spec.py [DEMO_DIR]      # default: tunelens-demo (run `tunelens demo` first)

The demo audits with the spec derived from its data (task.json) and keeps the generator's
(task_generated.json) as a check. This reruns the probes that read a spec
(``facts_vs_patterns``, ``priming``) on the demo's base and tuned pair once with each spec,
and prints, per metric both audits share, the values and verdicts side by side, and how many
verdicts agree. Both audits run in this process on the same loaded models.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tunelens import audit
from tunelens.data import TaskSpec
from tunelens.models import DEFAULT_MODEL, load_model

PROBES = ("facts_vs_patterns", "priming")


def main() -> None:
    demo = Path(sys.argv[1] if len(sys.argv) > 1 else "tunelens-demo")
    specs = {name: TaskSpec.from_dict(json.loads((demo / f"{name}.json").read_text()))
             for name in ("task", "task_generated")}  # fmt: skip
    base, tuned = load_model(DEFAULT_MODEL), load_model(str(demo / "tune" / "adapter"))
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs.items():
            results = audit(base, tuned, out_dir=Path(tmp) / name, task=spec, probes=PROBES, budget="standard")
            found[name] = {(m.probe, m.name): m for m in results.metrics()}
    shared = sorted(set(found["task"]) & set(found["task_generated"]))
    agree = 0
    print(f"{'metric':58} {'derived spec':>26} {'generated spec':>26}")
    for key in shared:
        d, g = found["task"][key], found["task_generated"][key]
        agree += d.verdict == g.verdict
        cell = [f"{m.base:.3g} → {m.tuned:.3g} {m.verdict or 'descr.'} (n={m.n})" for m in (d, g)]
        print(f"{'.'.join(key):58} {cell[0]:>26} {cell[1]:>26}")
    print(f"\n{agree} of {len(shared)} shared metrics reach the same verdict with either spec "
          f"(derived spec: {len(found['task'])} metrics, generated: {len(found['task_generated'])}).")  # fmt: skip


if __name__ == "__main__":
    main()
