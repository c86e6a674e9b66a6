"""Tests for reading and writing user JSONL files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelens.data import (
    DataError,
    SuiteItem,
    read_jsonl,
    read_suite,
    read_training_data,
    read_training_records,
    to_chat,
    write_jsonl,
)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.jsonl", ['{"a": 1}', "", "   ", '{"b": "x\u2028y"}'])
    assert read_jsonl(path) == [{"a": 1}, {"b": "x\u2028y"}]


def test_read_jsonl_reports_line_number(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.jsonl", ['{"a": 1}', "", '{"a": 1 "b": 2}'])
    with pytest.raises(DataError, match=r"data\.jsonl line 3: not valid JSON \(Expecting ','"):
        read_jsonl(path)
    path = _write(tmp_path / "list.jsonl", ['{"a": 1}', "[1, 2]"])
    with pytest.raises(DataError, match=r"list\.jsonl line 2: expected a JSON object"):
        read_jsonl(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_jsonl(tmp_path / "absent.jsonl")
    with pytest.raises(ValueError):  # DataError is a ValueError
        read_training_data(tmp_path / "absent.jsonl")


def test_write_jsonl_round_trip_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    records = [{"text": "héllo"}, {"n": 2}]
    write_jsonl(path, records)
    assert read_jsonl(path) == records
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]

    def broken() -> object:
        yield {"ok": 1}
        raise RuntimeError("generator failed half way")

    with pytest.raises(RuntimeError):
        write_jsonl(path, broken())  # type: ignore[arg-type]
    assert read_jsonl(path) == records  # original untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left
    with pytest.raises(DataError, match="record 1"):
        write_jsonl(path, [{"a": 1}, {"b": object()}])
    assert read_jsonl(path) == records


def test_to_chat_formats() -> None:
    messages = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a", "extra": 1},
    ]
    assert to_chat({"messages": messages}, "w") == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
    ]
    assert to_chat({"prompt": "q", "completion": "c"}, "w") == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "c"},
    ]
    assert to_chat({"text": "plain"}, "w") == [{"role": "assistant", "content": "plain"}]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"messages": [{"role": "bot", "content": "hi"}]}, "role 'bot'"),
        ({"messages": [{"role": "user", "content": 3}]}, "content must be a string"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "no assistant message"),
        ({"messages": []}, "non-empty list"),
        ({"prompt": "only a prompt"}, '"completion" is missing'),
        ({"text": ""}, "no assistant message"),
        ({"question": "q"}, "unrecognised record"),
    ],
)
def test_to_chat_errors(record: dict, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        to_chat(record, "data.jsonl line 3")
    assert str(info.value).startswith("data.jsonl line 3: ")


def test_read_training_data(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "a"}),
        json.dumps({"prompt": "p", "completion": "c"}),
        json.dumps({"messages": [{"role": "bot", "content": "x"}]}),
    ]
    path = _write(tmp_path / "train.jsonl", lines)
    with pytest.raises(DataError, match=r"train\.jsonl line 3: .*role 'bot'"):
        read_training_data(path)
    path = _write(tmp_path / "train.jsonl", lines[:2])
    assert len(read_training_data(path)) == 2
    with pytest.raises(DataError, match="no training records"):
        read_training_data(_write(tmp_path / "empty.jsonl", [""]))


def test_read_suite(tmp_path: Path) -> None:
    lines = [
        json.dumps({"question": "2+2?", "choices": ["3", "4"], "answer": 1}),
        json.dumps({"id": "cap", "question": "Capital?", "choices": ["Rome", "Oslo"], "answer": "Oslo"}),
        "",
        json.dumps({"question": "Name a colour.", "answer": "red"}),
    ]
    items = read_suite(_write(tmp_path / "suite.jsonl", lines))
    assert items == [
        SuiteItem("line1", "2+2?", "4", ("3", "4"), 1),
        SuiteItem("cap", "Capital?", "Oslo", ("Rome", "Oslo"), 1),
        SuiteItem("line4", "Name a colour.", "red", None, None),
    ]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"question": "q", "choices": ["a", "b"], "answer": 2}, "out of range"),
        ({"question": "q", "choices": ["a", "b"], "answer": "c"}, "exact text of one choice"),
        ({"question": "q", "choices": ["a"], "answer": 0}, "at least two"),
        ({"question": "q", "choices": ["a", "a"], "answer": 0}, "same text twice"),
        ({"question": "q"}, 'needs an "answer"'),
        ({"answer": "a"}, '"question"'),
        ({"question": "q", "answer": ["a"]}, "must be a string"),
    ],
)
def test_read_suite_errors(tmp_path: Path, record: dict, message: str) -> None:
    good = json.dumps({"question": "fine", "answer": "yes"})
    path = _write(tmp_path / "suite.jsonl", [good, json.dumps(record)])
    with pytest.raises(DataError, match=rf"suite\.jsonl line 2: .*{message}"):
        read_suite(path)


def test_read_suite_duplicate_ids(tmp_path: Path) -> None:
    line = json.dumps({"id": "x", "question": "q", "answer": "a"})
    with pytest.raises(DataError, match="line 2: id 'x' is already used at suite.jsonl line 1"):
        read_suite(_write(tmp_path / "suite.jsonl", [line, line]))


def test_read_training_records_keeps_lines_and_lists_every_bad_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "a"}),
        "",
        json.dumps({"prompt": "p", "completion": "c"}),
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]}),
    ]
    records = read_training_records(_write(tmp_path / "train.jsonl", lines))
    assert [(r.line, r.form) for r in records] == [(1, "text"), (3, "prompt_completion"), (4, "chat")]
    assert records[1].messages[-1] == {"role": "assistant", "content": "c"}
    bad = [*lines, '{"text": ', json.dumps({"prompt": "p"}), "[1]"]
    with pytest.raises(DataError) as info:
        read_training_records(_write(tmp_path / "bad.jsonl", bad))
    message = str(info.value)
    assert message.startswith("bad.jsonl: 3 malformed lines: bad.jsonl line 5: not valid JSON")
    assert "line 6: a prompt/completion record" in message and "line 7: expected a JSON object" in message
    assert message.endswith("fix them and run again")


def test_malformed_lines_name_the_accepted_forms_once(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "a"}),
        json.dumps({"question": "q"}),
        json.dumps({"messages": [{"role": "tool", "content": "x"}]}),
        json.dumps({"chosen": "a"}),
    ]
    with pytest.raises(DataError) as info:
        read_training_records(_write(tmp_path / "mixed.jsonl", lines))
    message = str(info.value)
    assert message.startswith("mixed.jsonl: 3 malformed lines: mixed.jsonl line 2: unrecognised record (keys: q")
    assert "line 3: no assistant message with text" in message
    assert "line 4: unrecognised record (keys: chosen)" in message
    assert message.count("accepted forms: ") == 1 and message.count('{"instruction"') == 1
    assert message.endswith("fix them and run again")


def test_many_malformed_lines_list_the_first_five(tmp_path: Path) -> None:
    lines = [json.dumps({"text": "fine"})] + [json.dumps({"prompt": "p"})] * 8
    with pytest.raises(DataError) as info:
        read_training_records(_write(tmp_path / "many.jsonl", lines))
    message = str(info.value)
    assert message.startswith("many.jsonl: 8 malformed lines: many.jsonl line 2:")
    assert "line 6:" in message and "line 7:" not in message and "and 3 more malformed lines" in message
