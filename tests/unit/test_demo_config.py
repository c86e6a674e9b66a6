"""The full demo runs every registered probe at a declared budget; the quick demo keeps its
two probes and the audit's quick presets."""

from __future__ import annotations

from tunelens.demo import DEMO_BUDGETS, QUICK_PROBES, demo_config, demo_probe_budgets, demo_probe_configs
from tunelens.probes import BUDGETS, PROBES


def test_full_demo_has_a_budget_and_a_config_of_the_right_type_for_every_probe() -> None:
    configs = demo_probe_configs()
    assert set(configs) == set(PROBES) == set(demo_probe_budgets())
    for name, config in configs.items():
        assert isinstance(config, PROBES[name].config_type), name
    cfg = demo_config()
    assert cfg.probes is None and cfg.configs is None and cfg.budgets == demo_probe_budgets()
    assert set(DEMO_BUDGETS) <= set(PROBES) and set(DEMO_BUDGETS.values()) <= set(BUDGETS)


def test_the_story_probes_run_at_the_standard_budget() -> None:
    budgets = demo_probe_budgets()
    assert budgets["forgetting"] == budgets["facts_vs_patterns"] == "standard"


def test_quick_demo_keeps_its_probes_and_quick_presets() -> None:
    cfg = demo_config(quick=True)
    assert cfg.probes == QUICK_PROBES and cfg.configs is None and cfg.budgets is None and cfg.quick


def test_story_prints_the_locality_summary_and_counts_changed_metrics() -> None:
    from tunelens.demo import story
    from tunelens.results import AuditResults, ModelInfo, ProbeResult

    info = ModelInfo(
        ref="a", kind="directory", n_params=1, n_layers=1, n_heads=1, dtype="float32", tokenizer_fingerprint="f"
    )
    summary = "70% of the weight change sits in the upper half (layers 15-29)."
    results = AuditResults(
        tunelens_version="0",
        created="now",
        seed=0,
        base=info,
        tuned=info,
        probes=[
            ProbeResult(name="locality", title="Locality", description="d", notes=[summary, "details"]),
            ProbeResult(name="diversity", title="Diversity", description="d"),
        ],
    )
    lines = story(results)
    assert lines[lines.index("Where the change sits:") + 1] == f"  {summary}"
    assert "  Diversity: 0 of 0 metrics changed" in lines
    assert not any("Locality:" in line for line in lines)
