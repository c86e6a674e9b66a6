"""The README's budget table is the registry's: one row per declared headline metric."""

from __future__ import annotations

from pathlib import Path

from tunelens.probes import budget_table


def test_readme_tables_the_item_count_of_every_headline_metric_at_each_budget() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert budget_table() in readme, "README's budget table is stale: paste tunelens.probes.budget_table()"
