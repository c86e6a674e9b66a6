"""Typed, versioned results: the contract between probes and reports."""

from tunelens.results._declared import DEFAULT_MARGINS, PERCENT_UNITS, MetricDecl, find_declaration
from tunelens.results._io import load_results, load_versioned, save_results
from tunelens.results._schema import (
    SCHEMA_VERSION,
    AuditResults,
    FactFate,
    ForecastCheck,
    ItemRecord,
    Metric,
    ModelInfo,
    Plot,
    ProbeResult,
    Series,
    Table,
    TrainingInfo,
    Verdict,
)

__all__ = [
    "DEFAULT_MARGINS",
    "PERCENT_UNITS",
    "MetricDecl",
    "find_declaration",
    "SCHEMA_VERSION",
    "AuditResults",
    "FactFate",
    "ForecastCheck",
    "ItemRecord",
    "Metric",
    "ModelInfo",
    "Plot",
    "ProbeResult",
    "Series",
    "Table",
    "TrainingInfo",
    "Verdict",
    "load_results",
    "load_versioned",
    "save_results",
]
