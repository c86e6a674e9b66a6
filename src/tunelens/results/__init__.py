"""Typed, versioned results: the contract between probes and reports."""

from tunelens.results._cache import ResultCache, cache_key, code_fingerprint
from tunelens.results._declared import DEFAULT_MARGINS, PERCENT_UNITS, MetricDecl, find_declaration
from tunelens.results._frames import items_frame, metrics_frame
from tunelens.results._io import load_items, load_results, load_versioned, save_items, save_results
from tunelens.results._json_schema import results_json_schema
from tunelens.results._schema import (
    SCHEMA_VERSION,
    AuditResults,
    CheckpointInfo,
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
    Trajectory,
    TrajectoryMetric,
    TrajectoryPoint,
    Verdict,
)

__all__ = [
    "ResultCache",
    "cache_key",
    "code_fingerprint",
    "DEFAULT_MARGINS",
    "PERCENT_UNITS",
    "MetricDecl",
    "find_declaration",
    "SCHEMA_VERSION",
    "AuditResults",
    "CheckpointInfo",
    "Trajectory",
    "TrajectoryMetric",
    "TrajectoryPoint",
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
    "items_frame",
    "load_items",
    "load_results",
    "load_versioned",
    "metrics_frame",
    "results_json_schema",
    "save_items",
    "save_results",
]
