"""Which checkpoints a run holds and in what order; the base memo's bookkeeping (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tunelens._checkpoints import Checkpoint, find_checkpoints, order_checkpoints, step_of
from tunelens.engine._memo import Memo, from_jsonable, to_jsonable
from tunelens.errors import TunelensError, UsageError


def _model(path: Path, marker: str = "config.json") -> Path:
    path.mkdir(parents=True)
    (path / marker).write_text("{}")
    return path


def test_hf_trainer_checkpoints_are_ordered_by_step_not_by_name(tmp_path: Path) -> None:
    for step in (1000, 500, 50):
        _model(tmp_path / f"checkpoint-{step}", "adapter_config.json")
    (tmp_path / "checkpoint-999").mkdir()  # no model inside: not a checkpoint
    (tmp_path / "logs").mkdir()
    found = find_checkpoints(tmp_path)
    assert [c.step for c in found] == [50, 500, 1000]
    assert [Path(c.ref).name for c in found] == ["checkpoint-50", "checkpoint-500", "checkpoint-1000"]


def test_a_split_runs_checkpoints_come_with_its_fact_sheet(tmp_path: Path) -> None:
    _model(tmp_path / "checkpoint-2", "tunelens.json")
    _model(tmp_path / "adapter", "tunelens.json")
    sheet = tmp_path / "facts.txt"
    sheet.write_text("Our refund window is 45 days.\n")
    info = {"checkpoint": str(tmp_path / "adapter"), "steps": 5, "method_options": {"facts_file": str(sheet)}}
    (tmp_path / "training.json").write_text(json.dumps(info))
    found = find_checkpoints(tmp_path)
    assert [c.ref for c in found] == [
        f"retrieval:{tmp_path / name}@{sheet.resolve()}" for name in ("checkpoint-2", "adapter")
    ]
    assert [c.folder for c in found] == ["step-000002", "step-000005"]


def test_trainer_state_gives_the_step(tmp_path: Path) -> None:
    ckpt = _model(tmp_path / "checkpoint-7")
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 70}))
    assert step_of(ckpt) == 70
    assert step_of(_model(tmp_path / "final")) is None


def test_a_tunelens_run_adds_its_final_checkpoint_once(tmp_path: Path) -> None:
    _model(tmp_path / "checkpoint-2", "tunelens.json")
    _model(tmp_path / "checkpoint-4", "tunelens.json")
    _model(tmp_path / "adapter", "tunelens.json")
    info = {"checkpoint": str(tmp_path / "adapter"), "steps": 5}
    (tmp_path / "training.json").write_text(json.dumps(info))
    assert [(Path(c.ref).name, c.step) for c in find_checkpoints(tmp_path)] == [
        ("checkpoint-2", 2),
        ("checkpoint-4", 4),
        ("adapter", 5),
    ]
    # A final checkpoint at a step already saved is that checkpoint: listed once.
    (tmp_path / "training.json").write_text(json.dumps({**info, "steps": 4}))
    assert [c.step for c in find_checkpoints(tmp_path)] == [2, 4]


def test_a_run_without_checkpoints_says_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(TunelensError, match="checkpoint-STEP"):
        find_checkpoints(tmp_path)
    with pytest.raises(TunelensError, match="no such directory"):
        find_checkpoints(tmp_path / "missing")


def test_listed_checkpoints_sort_by_step_when_every_step_is_known(tmp_path: Path) -> None:
    late, early = _model(tmp_path / "checkpoint-20"), _model(tmp_path / "checkpoint-10")
    chosen, note = order_checkpoints([str(late), str(early)])
    assert [c.step for c in chosen] == [10, 20] and "by step" in note
    other = _model(tmp_path / "final")
    chosen, note = order_checkpoints([str(late), str(other), str(early)])
    assert [c.ref for c in chosen] == [str(late), str(other), str(early)] and "order given" in note
    with pytest.raises(UsageError, match="twice"):
        order_checkpoints([str(late), str(late)])


def test_checkpoint_folders_are_named_by_step() -> None:
    assert Checkpoint("runs/x/checkpoint-500", 500).folder == "step-000500"
    assert Checkpoint("runs/x/final model", None).folder == "final_model"


def test_memo_values_survive_json() -> None:
    value = (["a", "b"], [True, False], [np.arange(6.0).reshape(2, 3), None], {"k": (1, 2)})
    back = from_jsonable(json.loads(json.dumps(to_jsonable(value))))
    assert back[0] == ["a", "b"] and back[1] == [True, False] and back[2][1] is None
    assert back[2][0].dtype == np.float64 and np.array_equal(back[2][0], value[2][0])
    assert back[3] == {"k": (1, 2)}
    memo = Memo({"x": 1})
    assert Memo.from_json(json.loads(json.dumps(memo.to_json()))).entries == {"x": 1}
