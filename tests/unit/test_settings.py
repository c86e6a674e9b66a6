"""Probe settings without code: --set, --config FILE.toml, and their precedence."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tunelens.cli import audit_cmd
from tunelens.cli.main import build_parser, main
from tunelens.errors import UsageError
from tunelens.probes import apply_overrides, check_overrides, get_probe, merge_overrides, parse_set


def test_set_values_are_typed_by_the_probe_config() -> None:
    overrides = parse_set(["forgetting.n_arithmetic=200", "behaviour.max_new_tokens = 64"])
    assert overrides == {"forgetting": {"n_arithmetic": 200}, "behaviour": {"max_new_tokens": 64}}
    spec = get_probe("forgetting")
    config = apply_overrides(spec, spec.config_for("quick"), overrides["forgetting"])
    assert config.n_arithmetic == 200 and config.n_text_chunks == spec.config_for("quick").n_text_chunks


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("forgetting.n_world_facts=200", "forgetting has no setting 'n_world_facts'; its settings are: n_text_chunks"),
        ("forgetting.n_arithmetic=lots", "forgetting.n_arithmetic = 'lots' is not a valid int"),
        ("forgetting.n_arithmetic=-3", "cannot be negative"),
        ("forgetting.n_instructions=0", "it is at least 1 at every budget"),
        ("nothing.x=1", "unknown probe 'nothing'; the probes are: behaviour"),
        ("forgetting=3", "write PROBE.FIELD=VALUE"),
    ],
)
def test_bad_settings_name_what_exists(item: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(".", r"\.")):
        check_overrides(parse_set([item]))


def test_later_sources_win_field_by_field() -> None:
    file = {"forgetting": {"n_arithmetic": 10, "n_instructions": 5}}
    merged = merge_overrides(file, {"forgetting": {"n_arithmetic": 20}})
    assert merged == {"forgetting": {"n_arithmetic": 20, "n_instructions": 5}}


def _args(tmp_path: Path, *argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["audit", "base", "tuned", *argv])


def test_config_file_fills_what_the_command_line_left_out(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text(
        '[audit]\nprobes = ["behaviour", "forgetting"]\nbudget = "quick"\nseed = 7\nfail_on = "regression"\n'
        'require_verdicts = true\n[budgets]\nforgetting = "standard"\n[margins]\n"forgetting.general_text_nll" = 0.1\n'
        "[forgetting]\nn_arithmetic = 30\n"
    )
    args = _args(tmp_path, "--config", str(config), "--seed", "3")
    file = audit_cmd._resolve(args)
    assert args.seed == 3  # the command line wins
    assert args.probes == "behaviour,forgetting" and args.budget == "quick" and args.out == "tunelens-out"
    assert args.fail_on == "regression" and args.require_verdicts
    assert file.budgets == {"forgetting": "standard"} and file.overrides == {"forgetting": {"n_arithmetic": 30}}
    assert file.margins == {"forgetting.general_text_nll": 0.1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[audit]\nbudgett = 'quick'\n", "[audit] has no option budgett; the options are: probes"),
        ("[forgeting]\nn = 1\n", "unknown table [forgeting]"),
        ("[forgetting]\nn_world = 1\n", "forgetting has no setting 'n_world'"),
        ("[budgets]\nforgetting = 'huge'\n", "choose one of quick, standard, thorough"),
        ("[audit\n", "is not valid TOML"),
    ],
)
def test_bad_config_files_are_usage_errors(tmp_path: Path, text: str, message: str, capsys) -> None:
    config = tmp_path / "audit.toml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(["audit", "a", "b", "--config", str(config), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_quick_and_another_budget_contradict(capsys) -> None:
    assert main(["audit", "a", "b", "--quick", "--budget", "thorough"]) == 2
    assert "give one of --quick and --budget thorough" in capsys.readouterr().err
