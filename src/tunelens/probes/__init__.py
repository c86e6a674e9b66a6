"""Probes: one module per measurement, registered by name.

Importing this package registers every probe; ``PROBES`` maps names to specs.
"""
# ruff: noqa: I001  (the import order of the probe modules is the report's order)

from tunelens.probes._registry import (
    BUDGETS,
    PROBES,
    ProbeContext,
    ProbeSpec,
    budget_table,
    default_budget,
    get_probe,
    headline_counts,
    probe,
)
from tunelens.probes import behaviour  # noqa: F401
from tunelens.probes import forgetting  # noqa: F401
from tunelens.probes import facts_vs_patterns  # noqa: F401
from tunelens.probes import context  # noqa: F401
from tunelens.probes import self_conditioning  # noqa: F401
from tunelens.probes import retrieval_heads  # noqa: F401
from tunelens.probes import cot_faithfulness  # noqa: F401
from tunelens.probes import diversity  # noqa: F401
from tunelens.probes import locality  # noqa: F401
from tunelens.probes import priming  # noqa: F401

from tunelens.probes._settings import (  # noqa: E402
    Overrides,
    apply_overrides,
    check_overrides,
    config_fields,
    merge_overrides,
    parse_set,
)

__all__ = [
    "BUDGETS",
    "Overrides",
    "apply_overrides",
    "check_overrides",
    "config_fields",
    "merge_overrides",
    "parse_set",
    "PROBES",
    "ProbeContext",
    "ProbeSpec",
    "budget_table",
    "default_budget",
    "get_probe",
    "headline_counts",
    "probe",
]
