"""Results as pandas DataFrames, for analysis outside the report.

``metrics_frame`` gives one row per metric of every probe, ``items_frame`` one row per item
record (the evidence behind the numbers), with each key of an item's ``extra`` as a column.
pandas is imported inside the functions, so importing the results package stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tunelens.results._schema import AuditResults, ItemRecord, Metric, Verdict

if TYPE_CHECKING:
    import pandas as pd

VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)
"""The categories of the ``verdict`` column, in the report's order."""

_TEXT = ("probe", "name", "label", "unit", "group", "family", "test", "room", "reason")
_FLOAT = (
    "base",
    "tuned",
    "delta",
    "ci_low",
    "ci_high",
    "ci90_low",
    "ci90_high",
    "p_value",
    "p_adjusted",
    "margin",
    "n_needed",
    "diff_sd",
    "min_p",
    "mde",
    "equivalence_reach",
)
METRIC_COLUMNS: tuple[str, ...] = (
    "probe",
    "name",
    "label",
    "unit",
    "group",
    "headline",
    "family",
    "base",
    "tuned",
    "delta",
    "ci_low",
    "ci_high",
    "ci90_low",
    "ci90_high",
    "n",
    "test",
    "p_value",
    "p_adjusted",
    "verdict",
    "negligible",
    "margin",
    "room",
    "reason",
    "n_needed",
    "higher_is_better",
    "diff_sd",
    "min_p",
    "mde",
    "equivalence_reach",
)
"""The columns of :func:`metrics_frame`: every scalar field of a Metric (not the per-item value
lists nor ``n_at_budget``); ``probe`` is the name of the probe the metric sits in."""

ITEM_COLUMNS: tuple[str, ...] = (
    "probe",
    "item_id",
    "section",
    "input",
    "expected",
    "base_output",
    "tuned_output",
    "base_score",
    "tuned_score",
)
"""The fixed columns of :func:`items_frame`; each key of ``extra`` follows as its own column."""

ItemSource = AuditResults | Mapping[str, Sequence[ItemRecord]]
"""What :func:`items_frame` reads: results, or items by probe name as :func:`load_items` returns them."""


def _as_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Give text columns the dtype pandas gives strings (object before pandas 3, ``str`` from 3 on),
    also when a column is empty or all None, which pandas would otherwise read as float or object."""
    import pandas as pd

    text = pd.Series([""]).dtype
    for column in columns:
        if frame[column].dtype != text:
            frame[column] = frame[column].astype(text)
    return frame


def _verdict(metric: Metric) -> str | None:
    verdict = metric.verdict
    return verdict.value if isinstance(verdict, Verdict) else verdict  # a default is not validated to its value


def metrics_frame(results: AuditResults) -> pd.DataFrame:
    """One row per metric of every probe, in report order, with the columns ``METRIC_COLUMNS``.

    dtypes: float64 for values, intervals, p-values, margins and ``n_needed`` (None is NaN),
    int64 for ``n``, bool for ``headline`` and ``negligible``, pandas' nullable ``boolean``
    for ``higher_is_better`` (None is <NA>), a Categorical of the three verdicts for
    ``verdict`` (None, a descriptive metric's, is NaN), text for the rest.
    """
    import pandas as pd

    rows: dict[str, list[Any]] = {column: [] for column in METRIC_COLUMNS}
    for probe in results.probes:
        for metric in probe.metrics:
            values = metric.model_dump(exclude={"base_values", "tuned_values", "n_at_budget"})
            values["probe"] = probe.name
            values["verdict"] = _verdict(metric)
            for column in METRIC_COLUMNS:
                rows[column].append(values[column])
    frame = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    for column in _FLOAT:
        frame[column] = frame[column].astype("float64")
    frame["n"] = frame["n"].astype("int64")
    frame["headline"] = frame["headline"].astype(bool)
    frame["negligible"] = frame["negligible"].astype(bool)
    frame["higher_is_better"] = frame["higher_is_better"].astype("boolean")
    frame["verdict"] = pd.Categorical(rows["verdict"], categories=list(VERDICTS))
    return _as_text(frame, _TEXT)


def _probe_items(source: ItemSource) -> list[tuple[str, Sequence[ItemRecord]]]:
    if isinstance(source, AuditResults):
        return [(probe.name, probe.items) for probe in source.probes]
    return list(source.items())


def items_frame(source: ItemSource) -> pd.DataFrame:
    """One row per item record of every probe, with the columns ``ITEM_COLUMNS`` and then each key
    of the items' ``extra`` (in the order first seen), as ``extra.KEY`` when KEY is already a column.

    ``source`` is an AuditResults or the items by probe name that :func:`load_items` reads from
    items.jsonl (both give the same frame). Scores are float64 (None is NaN); an item without a
    key of ``extra`` has NaN there; an extra column keeps the dtype pandas infers for its values.
    """
    import pandas as pd

    extra_columns: dict[str, str] = {}  # key of extra -> its column
    records: list[dict[str, Any]] = []
    for probe, items in _probe_items(source):
        for item in items:
            row: dict[str, Any] = {"probe": probe}
            row.update(item.model_dump(exclude={"extra"}))
            for key, value in item.extra.items():
                if key not in extra_columns:
                    taken = key in ITEM_COLUMNS or key in extra_columns.values()
                    extra_columns[key] = f"extra.{key}" if taken else key
                row[extra_columns[key]] = value
            records.append(row)
    columns = [*ITEM_COLUMNS, *extra_columns.values()]
    frame = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    for column in ("base_score", "tuned_score"):
        frame[column] = frame[column].astype("float64")
    return _as_text(frame, [c for c in ITEM_COLUMNS if c not in ("base_score", "tuned_score")])
