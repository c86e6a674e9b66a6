"""``--config audit.toml``: the audit's options and probe settings in a file.

    [audit]                     # any of these; the command line wins over the file
    probes = ["behaviour", "forgetting"]
    budget = "standard"
    seed = 0
    out = "audit-out"
    fail_on = "regression"
    require_verdicts = true

    [budgets]                   # a probe's own budget
    cot_faithfulness = "quick"

    [margins]                   # margins of equivalence, in each metric's unit
    "forgetting.general_text_nll" = 0.05

    [forgetting]                # a probe's settings (its config's fields), as --set takes them
    n_arithmetic = 200
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tunelens.errors import TunelensError, UsageError
from tunelens.probes import BUDGETS, PROBES, Overrides, check_overrides

AUDIT_KEYS = {
    "probes": "a list of probe names (or one comma-separated string)",
    "budget": f"one of {', '.join(BUDGETS)}",
    "seed": "an integer",
    "out": "the output directory",
    "task": "a task spec JSON",
    "data": "the training data",
    "suite": "your own regression suite",
    "triage": "a triage.json",
    "fail_on": "regression or change",
    "require_verdicts": "true or false",
}


@dataclass
class ConfigFile:
    """What a config file sets."""

    audit: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, str] = field(default_factory=dict)
    margins: dict[str, float] = field(default_factory=dict)
    overrides: Overrides = field(default_factory=dict)


def read_config_file(path: str | Path) -> ConfigFile:
    """Read and check a config file: unknown tables, keys, probes and fields are errors that
    name what exists."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TunelensError(f"no such config file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    out = ConfigFile()
    for table, values in raw.items():
        if not isinstance(values, dict):
            raise UsageError(f"{path}: '{table}' must be a table ([{table}]), not a single value")
        if table == "audit":
            unknown = sorted(set(values) - set(AUDIT_KEYS))
            if unknown:
                known = "; ".join(f"{k} ({v})" for k, v in AUDIT_KEYS.items())
                raise UsageError(f"{path}: [audit] has no option {', '.join(unknown)}; the options are: {known}")
            out.audit = dict(values)
        elif table == "budgets":
            for probe, budget in values.items():
                if probe not in PROBES:
                    raise UsageError(f"{path}: [budgets] unknown probe '{probe}'; the probes are: {', '.join(PROBES)}")
                if budget not in BUDGETS:
                    raise UsageError(f"{path}: [budgets] {probe} = {budget!r}; choose one of {', '.join(BUDGETS)}")
            out.budgets = dict(values)
        elif table == "margins":
            out.margins = {str(k): v for k, v in values.items()}
        elif table in PROBES:
            out.overrides[table] = dict(values)
        else:
            raise UsageError(
                f"{path}: unknown table [{table}]; the tables are [audit], [budgets], [margins] and one per probe: "
                f"{', '.join(PROBES)}"
            )
    check_overrides(out.overrides, where=str(path))
    return out
