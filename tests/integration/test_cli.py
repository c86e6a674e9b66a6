"""The command line on bad input: one clear line on stderr, exit code 2, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.cli.main import main

pytestmark = pytest.mark.integration


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "expected an error message"
    assert err[-1].startswith("tunelens: error: ")
    return err[-1]


def test_unknown_model_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["audit", "no-such-model", "embedded:smollm2-135m-instruct", "--out", str(out)]) == 3
    assert "unknown model reference 'no-such-model'" in _error_line(capsys)
    assert not out.exists()


def test_malformed_jsonl_names_the_line(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": \n')
    out = tmp_path / "run"
    assert main(["tune", str(tiny_model_dir), str(data), "--out", str(out), "--no-audit"]) == 3
    line = _error_line(capsys)
    assert "line 2" in line and "JSON" in line
    assert not out.exists()


def test_unwritable_output_directory(tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["audit", str(tiny_model_dir), str(tiny_model_dir), "--out", str(blocker / "out")]) == 3
    assert "cannot write to output directory" in _error_line(capsys)


def test_different_tokenizers_are_refused(
    tmp_path: Path, tiny_model_dir: Path, smollm_tokenizer, capsys: pytest.CaptureFixture[str]
) -> None:
    from copy import deepcopy

    from tests.conftest import build_tiny_model

    other_tokenizer = deepcopy(smollm_tokenizer)
    other_tokenizer.add_tokens(["<extra_token_for_test>"])
    other = build_tiny_model(tmp_path / "other", other_tokenizer, seed=1)
    out = tmp_path / "out"
    assert main(["audit", str(tiny_model_dir), str(other), "--out", str(out), "--probes", "forgetting"]) == 3
    assert "different tokenizers" in _error_line(capsys)
    assert not (out / "results.json").exists()


def test_audit_needing_a_task_says_how_to_give_it(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["audit", str(tiny_model_dir), str(tiny_model_dir), "--probes", "facts_vs_patterns", "--out", str(tmp_path)]
    assert main(args) == 2
    assert "--task" in _error_line(capsys)
