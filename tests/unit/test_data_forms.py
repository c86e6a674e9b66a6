"""Training data as people keep it: every record form tunelens accepts, and every way to store it
(JSON Lines, a JSON array, parquet, Arrow, a dataset folder)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tunelens.data import FORMS, DataError, read_training_records, record_form, to_chat

SYSTEM = {"role": "system", "content": "Be brief."}
USER = {"role": "user", "content": "Weather in Oslo?"}
REPLY = {"role": "assistant", "content": "Cold."}
CALL = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}


def _messages(*pairs: tuple[str, str]) -> list[dict]:
    return [{"role": role, "content": content} for role, content in pairs]


FORMS_CASES = [
    pytest.param(
        {"messages": [SYSTEM, USER, REPLY]},
        "chat",
        _messages(("system", "Be brief."), ("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="chat",
    ),
    pytest.param(
        {
            "messages": [
                USER,
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "content": "-3 C", "tool_call_id": "c1"},
                REPLY,
            ]
        },
        "chat",
        _messages(
            ("user", "Weather in Oslo?"),
            ("assistant", json.dumps([CALL])),
            ("tool", "-3 C"),
            ("assistant", "Cold."),
        ),
        id="chat-tool-calls",
    ),
    pytest.param(
        {"messages": [USER, {"role": "assistant", "content": "Let me look.", "tool_calls": [CALL]}]},
        "chat",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Let me look.\n" + json.dumps([CALL]))),
        id="chat-ends-with-a-call",
    ),
    pytest.param(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "Weather "}, {"type": "text", "text": "in Oslo?"}],
                },
                {"role": "assistant", "content": [{"type": "text", "text": "Cold."}]},
            ]
        },
        "chat",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="chat-list-content",
    ),
    pytest.param(
        {"messages": [USER, REPLY, {"role": "user", "content": "Thanks"}, {"role": "assistant", "content": ""}]},
        "chat",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Cold."), ("user", "Thanks")),
        id="chat-trailing-empty-reply",
    ),
    pytest.param(
        {"conversations": [USER, REPLY]},
        "chat",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="chat-under-conversations",
    ),
    pytest.param(
        {"prompt": "Weather in Oslo?", "completion": "Cold."},
        "prompt_completion",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="prompt-completion",
    ),
    pytest.param(
        {"prompt": [SYSTEM, USER], "completion": [REPLY]},
        "prompt_completion",
        _messages(("system", "Be brief."), ("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="prompt-completion-conversational",
    ),
    pytest.param(
        {"prompt": [USER], "completion": "Cold."},
        "prompt_completion",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="prompt-list-completion-string",
    ),
    pytest.param(
        {
            "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "Weather in Oslo?"},
                {"from": "function_call", "value": '{"name": "weather"}'},
                {"from": "observation", "value": "-3 C"},
                {"from": "gpt", "value": "Cold."},
            ]
        },
        "sharegpt",
        _messages(
            ("system", "Be brief."),
            ("user", "Weather in Oslo?"),
            ("assistant", '{"name": "weather"}'),
            ("tool", "-3 C"),
            ("assistant", "Cold."),
        ),
        id="sharegpt",
    ),
    pytest.param(
        {
            "system": "Be brief.",
            "conversations": [{"from": "user", "value": "Weather in Oslo?"}, {"from": "chatgpt", "value": "Cold."}],
        },
        "sharegpt",
        _messages(("system", "Be brief."), ("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="sharegpt-top-level-system",
    ),
    pytest.param(
        {"instruction": "Give the weather.", "input": "Oslo", "output": "Cold."},
        "alpaca",
        _messages(("user", "Give the weather.\n\nOslo"), ("assistant", "Cold.")),
        id="alpaca",
    ),
    pytest.param(
        {"instruction": "Weather in Oslo?", "input": "", "output": "Cold.", "system": "Be brief."},
        "alpaca",
        _messages(("system", "Be brief."), ("user", "Weather in Oslo?"), ("assistant", "Cold.")),
        id="alpaca-empty-input-system",
    ),
    pytest.param(
        {"instruction": "And Rome?", "output": "Mild.", "history": [["Weather in Oslo?", "Cold."]]},
        "alpaca",
        _messages(("user", "Weather in Oslo?"), ("assistant", "Cold."), ("user", "And Rome?"), ("assistant", "Mild.")),
        id="alpaca-history",
    ),
    pytest.param(
        {"instruction": "Give the weather.", "output": "Cold.", "text": "### Instruction: ..."},
        "alpaca",
        _messages(("user", "Give the weather."), ("assistant", "Cold.")),
        id="alpaca-before-its-text-column",
    ),
    pytest.param({"text": "Oslo is cold."}, "text", _messages(("assistant", "Oslo is cold.")), id="text"),
    pytest.param(
        {"messages": None, "prompt": None, "completion": None, "text": "Oslo is cold."},
        "text",
        _messages(("assistant", "Oslo is cold.")),
        id="table-row-with-null-columns",
    ),
]


@pytest.mark.parametrize(("record", "form", "expected"), FORMS_CASES)
def test_every_form_normalises_to_chat_messages(record: dict, form: str, expected: list[dict]) -> None:
    assert record_form(record) == form and form in FORMS
    assert to_chat(record, "w") == expected


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}, REPLY]},
            r"messages\[0\] content\[0\] is a 'image_url' part; only text parts are supported",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}, REPLY]}, "must be a text part"),
        ({"messages": [{"role": "bot", "content": "hi"}]}, "role 'bot'; use one of system, user, assistant, tool"),
        ({"conversations": [{"from": "human", "value": "hi"}, {"from": "robot", "value": "x"}]}, "role 'robot'"),
        ({"conversations": [{"from": "human"}]}, r'conversations\[0\] must be an object with "from" and "value"'),
        ({"messages": [USER, {"role": "assistant", "content": None}]}, "no assistant message with text"),
        ({"prompt": [USER], "completion": [{"role": "tool", "content": "x"}]}, '"completion" has no assistant'),
        ({"prompt": 3, "completion": "x"}, '"prompt" is not a string or a non-empty list of messages'),
        ({"instruction": "Say hi."}, 'an Alpaca record needs "instruction", "output"'),
        ({"instruction": "", "input": "", "output": "x"}, 'needs a non-empty "instruction"'),
        ({"instruction": "q", "output": 3}, 'Alpaca field "output" must be a string'),
        ({"instruction": "q", "output": "a", "history": ["q"]}, '"history" must be a list'),
        ({"instruction": "q", "output": "a", "system": 1}, '"system" must be a string'),
    ],
)
def test_bad_records_name_the_line(record: dict, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        to_chat(record, "data.jsonl line 3")
    assert str(info.value).startswith("data.jsonl line 3: ")


@pytest.mark.parametrize(
    "record",
    [{"question": "q", "answer": "a"}, {"chosen": "a", "rejected": "b"}, {"input": "x"}, {}, {"text": None}],
)
def test_an_unrecognised_record_lists_the_accepted_forms(record: dict) -> None:
    with pytest.raises(DataError) as info:
        to_chat(record, "data.jsonl line 7")
    message = str(info.value)
    assert message.startswith("data.jsonl line 7: unrecognised record (keys: ")
    for form in ('"messages"', '"prompt"', '"completion"', '"conversations"', '"instruction"', '"output"', '"text"'):
        assert form in message
    assert record_form(record) == "text"  # the fallback; to_chat is what refuses it


def _write_lines(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


PAIRS = [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(3)]


def test_a_json_array_and_json_lines_in_a_json_file(tmp_path: Path) -> None:
    array = tmp_path / "train.json"
    array.write_text(json.dumps(PAIRS, indent=2), encoding="utf-8")
    records = read_training_records(array)
    assert [(r.line, r.form, r.messages[-1]["content"]) for r in records] == [
        (1, "prompt_completion", "a0"),
        (2, "prompt_completion", "a1"),
        (3, "prompt_completion", "a2"),
    ]
    lines = _write_lines(tmp_path / "lines.json", PAIRS)
    assert [r.line for r in read_training_records(lines)] == [1, 2, 3]
    array.write_text(json.dumps([PAIRS[0], {"prompt": "p"}, [1]]), encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_training_records(array)
    message = str(info.value)
    assert message.startswith("train.json: 2 malformed rows: train.json row 2: a prompt/completion record")
    assert "train.json row 3: expected a JSON object" in message
    one = tmp_path / "one.json"
    one.write_text(json.dumps(PAIRS[0], indent=2), encoding="utf-8")  # one record over several lines
    assert [r.messages[-1]["content"] for r in read_training_records(one)] == ["a0"]
    one.write_text(json.dumps({"data": PAIRS}, indent=2), encoding="utf-8")
    with pytest.raises(DataError, match=r"one\.json line 1: unrecognised record \(keys: data\)"):
        read_training_records(one)
    array.write_text('[{"text": "a"},\n {"text": "b"', encoding="utf-8")
    with pytest.raises(DataError, match=r"train\.json: not valid JSON .* at line 2 .*one JSON array of records"):
        read_training_records(array)


def test_a_folder_of_json_files_gives_its_train_split(tmp_path: Path) -> None:
    hub = tmp_path / "snapshot"
    _write_lines(hub / "data" / "train-00000-of-00002.jsonl", PAIRS[:2])
    _write_lines(hub / "data" / "train-00001-of-00002.jsonl", PAIRS[2:])
    _write_lines(hub / "data" / "test-00000-of-00001.jsonl", [{"text": "not for training"}])
    (hub / "dataset_infos.json").write_text("{}")
    _write_lines(hub / ".cache" / "train.jsonl", [{"text": "a cache, not data"}])
    records = read_training_records(hub)
    assert [(r.line, r.messages[-1]["content"]) for r in records] == [(1, "a0"), (2, "a1"), (3, "a2")]
    plain = tmp_path / "plain"  # no split in any name: every file is read
    _write_lines(plain / "part1.jsonl", PAIRS[:1])
    _write_lines(plain / "part2.json", PAIRS[1:])
    assert len(read_training_records(plain)) == 3
    _write_lines(plain / "part2.json", [PAIRS[1], {"question": "?"}])
    with pytest.raises(DataError, match=r"part2\.json line 2: unrecognised record \(keys: question\)"):
        read_training_records(plain)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["test.jsonl", "validation.jsonl"], r"name the split\(s\) test, validation and no train split"),
        (["valid.jsonl", "other.jsonl"], "no train split"),
        (["train.jsonl", "train.parquet"], "they mix JSON and parquet files"),
        ([], "no data files in this folder"),
    ],
)
def test_a_folder_that_is_ambiguous_lists_its_files(tmp_path: Path, files: list[str], message: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in files:
        _write_lines(folder / name, PAIRS)
    with pytest.raises(DataError, match=message) as info:
        read_training_records(folder)
    assert all(name in str(info.value) for name in files)


def test_the_whole_file_in_another_form_is_one_error(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "prefs.jsonl", [{"chosen": "a", "rejected": "b"}] * 4)
    with pytest.raises(DataError) as info:
        read_training_records(path)
    message = str(info.value)
    assert message.startswith("prefs.jsonl: none of its 4 lines is a training record in a form tunelens reads")
    assert "(keys: chosen, rejected)" in message and '{"instruction": ...' in message
    assert message.count("unrecognised") == 0


def test_parquet_and_arrow_need_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    path = tmp_path / "train.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(
        DataError, match=r'train\.parquet: reading parquet .* needs pyarrow.*pip install "tunelens\[hf\]"'
    ):
        read_training_records(path)
    folder = tmp_path / "json-only"  # JSON needs no pyarrow
    _write_lines(folder / "train.jsonl", PAIRS)
    (folder / "notes.json").write_text(json.dumps(PAIRS[:1]))
    assert len(read_training_records(folder)) == 3 and len(read_training_records(folder / "notes.json")) == 1


def _table(records: list[dict]):
    pa = pytest.importorskip("pyarrow")
    return pa.Table.from_pylist(records)


def test_a_parquet_file_and_a_hub_folder_of_parquet(tmp_path: Path) -> None:
    table = _table(
        [
            {"messages": [USER, REPLY], "text": None},
            {"messages": None, "text": "plain"},
            {"messages": [{"role": "user", "content": "q"}, {"role": "robot", "content": "a"}], "text": None},
        ]
    )
    import pyarrow.parquet as pq

    path = tmp_path / "one.parquet"
    pq.write_table(table.slice(0, 2), path)
    records = read_training_records(path)
    assert [(r.line, r.form) for r in records] == [(1, "chat"), (2, "text")]
    assert records[0].messages == [USER, REPLY] and records[1].messages == _messages(("assistant", "plain"))
    pq.write_table(table, path)
    with pytest.raises(DataError, match=r"one\.parquet row 3: messages\[1\] has role 'robot'"):
        read_training_records(path)
    hub = tmp_path / "hub"
    (hub / "data").mkdir(parents=True)
    pq.write_table(table.slice(0, 2), hub / "data" / "train-00000-of-00001.parquet")
    pq.write_table(table.slice(2), hub / "data" / "test-00000-of-00001.parquet")
    (hub / "README.md").write_text("# card")
    assert [r.form for r in read_training_records(hub)] == ["chat", "text"]
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"broken\.parquet: cannot read this parquet file"):
        read_training_records(tmp_path / "broken.parquet")


def _save_to_disk(folder: Path, records: list[dict], split: str = "train") -> None:
    """What ``datasets.Dataset.save_to_disk`` writes: Arrow IPC stream shards listed in state.json."""
    import pyarrow as pa

    table = _table(records)
    folder.mkdir(parents=True)
    halves = [table.slice(0, 1), table.slice(1)]
    names = [f"data-0000{i}-of-00002.arrow" for i in range(2)]
    for name, part in zip(names, halves):
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(part)
    (folder / "dataset_info.json").write_text(json.dumps({"features": {}}))
    state = {"_data_files": [{"filename": n} for n in names], "_split": split, "_fingerprint": "0"}
    (folder / "state.json").write_text(json.dumps(state))
    (folder / "cache-123.arrow").write_bytes(b"not listed in state.json, not read")


def test_a_save_to_disk_folder_and_a_dataset_dict(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    rows = [
        {"instruction": "Weather in Oslo?", "input": "", "output": "Cold."},
        {"instruction": "Give the weather.", "input": "Rome", "output": "Mild."},
        {"instruction": "Weather in Cairo?", "input": "", "output": "Hot."},
    ]
    _save_to_disk(tmp_path / "ds", rows)
    records = read_training_records(tmp_path / "ds")
    assert [(r.line, r.form, r.messages[0]["content"]) for r in records] == [
        (1, "alpaca", "Weather in Oslo?"),
        (2, "alpaca", "Give the weather.\n\nRome"),
        (3, "alpaca", "Weather in Cairo?"),
    ]
    both = tmp_path / "dict"
    _save_to_disk(both / "train", rows[:2])
    _save_to_disk(both / "test", rows[2:] * 2, split="test")
    (both / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    assert [r.messages[-1]["content"] for r in read_training_records(both)] == ["Cold.", "Mild."]
    (both / "dataset_dict.json").write_text(json.dumps({"splits": ["validation", "test"]}))
    with pytest.raises(DataError, match="splits validation, test and no train split"):
        read_training_records(both)


def test_an_arrow_file_in_the_random_access_format(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    table = _table([{"text": "one"}, {"text": "two"}])
    path = tmp_path / "train.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    assert [r.messages[0]["content"] for r in read_training_records(path)] == ["one", "two"]
