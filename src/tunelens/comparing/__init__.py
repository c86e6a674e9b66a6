"""Compare ways of adapting one model to one data set: each tuned (or channelled), audited
against the base, weighed as gain against cost, and updated when facts change."""

from tunelens.comparing._html import render_comparison_html, write_comparison_html
from tunelens.comparing._methods import COMPARE_LEARNING_RATES, DEFAULT_METHODS, MethodSpec, parse_method, parse_methods
from tunelens.comparing._run import (
    COLUMNS,
    COMPARE_PROBES,
    compare,
    compare_columns,
    compare_probe_configs,
    write_demo_inputs,
)
from tunelens.comparing._schema import (
    COMPARE_SCHEMA_VERSION,
    Cell,
    Column,
    ComparisonResults,
    MethodRow,
    StaleFact,
    StaleStage,
    load_comparison,
)
from tunelens.comparing._stale import edit_fact_sheet, measure_stale

__all__ = [
    "COLUMNS",
    "compare_columns",
    "COMPARE_LEARNING_RATES",
    "COMPARE_PROBES",
    "COMPARE_SCHEMA_VERSION",
    "DEFAULT_METHODS",
    "Cell",
    "Column",
    "ComparisonResults",
    "MethodRow",
    "MethodSpec",
    "StaleFact",
    "StaleStage",
    "compare",
    "compare_probe_configs",
    "edit_fact_sheet",
    "load_comparison",
    "measure_stale",
    "parse_method",
    "parse_methods",
    "render_comparison_html",
    "write_comparison_html",
    "write_demo_inputs",
]
