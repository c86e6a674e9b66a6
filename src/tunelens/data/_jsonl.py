"""Reading and writing user data files with errors people can act on.

Users hand tunelens their training data and their own regression suites.  Suites are JSONL
files.  Training data is a JSONL file or a Hugging Face dataset on disk (``_hf_disk``), its
records in any of the forms people keep them in (chat messages, prompt/completion, ShareGPT,
Alpaca, plain text), which ``to_chat`` normalises to chat messages.  Every problem is reported
as a ``DataError`` that names the file, the line (or row) number, what is wrong and how to fix
it, because a bare traceback from deep inside a training run is no help to anyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.outdir import atomic_write_text

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
FORMS: tuple[str, ...] = ("chat", "prompt_completion", "text", "sharegpt", "alpaca")
_FORMATS = (
    'chat {"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": ...}, ...]}; '
    'prompt/completion {"prompt": ..., "completion": ...} (each a string or a list of messages); '
    'ShareGPT {"conversations": [{"from": "system"|"human"|"gpt"|"tool", "value": ...}, ...]}; '
    'Alpaca {"instruction": ..., "input": ..., "output": ...}; '
    'plain text {"text": ...}'
)

# Role names found in the wild, mapped to the four roles training knows.  ShareGPT's
# "function_call" is the turn in which the model calls a tool: the model's own output, so an
# assistant turn whose text is the call, as for an OpenAI assistant message with "tool_calls".
_ROLE_NAMES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "function_call": "assistant",
    "tool": "tool",
    "function": "tool",
    "observation": "tool",
    "ipython": "tool",
}
_ROLE_HINT = "use one of system, user, assistant, tool (ShareGPT: system, human, gpt, function_call, observation)"
_TEXT_PARTS = ("text", "input_text", "output_text")


class DataError(TunelensError, ValueError):
    """Raised for malformed user data.

    The message names the file, the line number, what is wrong and how to fix it.
    """


class _UnknownForm(DataError):
    """A record in none of the accepted forms; ``short`` is the message without the list of forms."""

    def __init__(self, where: str, keys: str) -> None:
        self.keys = keys
        self.short = f"{where}: unrecognised record (keys: {keys})"
        super().__init__(f"{self.short}; use one of these forms: {_FORMATS}")


@dataclass(frozen=True)
class SuiteItem:
    """One regression-suite question: multiple choice when ``choices`` is set, else free answer."""

    id: str
    question: str
    answer: str
    choices: tuple[str, ...] | None
    answer_index: int | None


def _read_text(path: Path) -> str:
    """The file's text as UTF-8, or a DataError saying it is not."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from exc


def _split_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line of ``text``."""
    # Split on "\n" only: JSON strings may hold raw U+2028 and similar characters
    # that str.splitlines() would wrongly treat as line ends.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line


def _lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for each non-blank line, raising DataError when the file cannot be read."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"no such file: {path}")
    if not path.is_file():
        raise DataError(f"not a file: {path} (expected a .jsonl file with one JSON object per line)")
    yield from _split_lines(_read_text(path))


def _parse_line(line: str, where: str) -> dict:
    """One line as a JSON object, or a DataError saying what is wrong with it."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line must hold one complete JSON object"
        ) from exc
    if not isinstance(value, dict):
        raise DataError(
            f"{where}: expected a JSON object {{...}}, got {type(value).__name__}; each line must hold one object"
        )
    return value


def _iter_jsonl(path: str | Path) -> Iterator[tuple[str, dict]]:
    """Yield ("<file> line N", object) for each non-blank line, raising DataError on bad lines."""
    for number, line in _lines(path):
        where = f"{Path(path).name} line {number}"
        yield where, _parse_line(line, where)


def read_jsonl(path: str | Path) -> list[dict]:
    """Read a JSONL file in which every non-blank line is a JSON object."""
    return [record for _, record in _iter_jsonl(path)]


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    """Write ``records`` one per line, atomically: a temp file in the same folder, then rename.

    Readers never see a half-written file; on any error the original file
    (if there was one) is left untouched and the temp file is removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"cannot write {path}: folder {path.parent} does not exist")
    lines = []
    for index, record in enumerate(records):
        try:
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        except (TypeError, ValueError) as exc:
            raise DataError(f"record {index} cannot be written as JSON: {exc}") from exc
    atomic_write_text(path, "".join(lines))


def _present(record: dict) -> dict:
    """The record without fields set to null (tables give every row every column, null where absent)."""
    return {key: value for key, value in record.items() if value is not None}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _content(content: object, role: str, label: str, where: str) -> str:
    """A message's content as text: a string, or a list of text parts joined as they come."""
    if isinstance(content, str):
        return content
    if content is None and role == "assistant":  # a reply that only calls tools
        return ""
    if isinstance(content, dict) and role == "tool":  # a tool result given as a JSON object
        return json.dumps(_without_nulls(content), ensure_ascii=False)
    if not isinstance(content, list):
        raise DataError(
            f"{where}: {label} content must be a string or a list of text parts, got {type(content).__name__}"
        )
    texts = []
    for index, part in enumerate(content):
        if isinstance(part, str):
            texts.append(part)
            continue
        kind = None
        if isinstance(part, dict):
            kind = part.get("type") or ("text" if "text" in part else None)
        if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(kind, str) and kind not in _TEXT_PARTS:
            raise DataError(
                f"{where}: {label} content[{index}] is a {kind!r} part; only text parts are supported "
                '({"type": "text", "text": ...}): leave images and other media out of the training data'
            )
        else:
            raise DataError(f'{where}: {label} content[{index}] must be a text part {{"type": "text", "text": ...}}')
    return "".join(texts)


def _tool_calls(message: dict) -> str:
    """An assistant message's tool calls ("tool_calls", or the older "function_call") as JSON, or ''."""
    calls = [message[key] for key in ("tool_calls", "function_call") if message.get(key)]
    if not calls:
        return ""
    return json.dumps(_without_nulls(calls[0] if len(calls) == 1 else calls), ensure_ascii=False)


def _messages(raw: object, where: str, key: str = "messages") -> list[dict]:
    """Validate a list of messages and return clean {"role", "content"} dicts.

    Messages are {"role", "content"} (OpenAI, Hugging Face) or {"from", "value"} (ShareGPT).
    Content is a string or a list of text parts; an assistant message that calls tools keeps
    its calls, as JSON, in its text.
    """
    if not isinstance(raw, list) or not raw:
        raise DataError(f'{where}: "{key}" must be a non-empty list of {{"role": ..., "content": ...}} objects')
    messages = []
    for index, message in enumerate(raw):
        label = f"{key}[{index}]"
        if isinstance(message, dict) and "from" in message and "role" not in message:
            role_key, text_key = "from", "value"
        else:
            role_key, text_key = "role", "content"
        calls_only = isinstance(message, dict) and bool(message.get("tool_calls") or message.get("function_call"))
        if not isinstance(message, dict) or role_key not in message or (text_key not in message and not calls_only):
            raise DataError(f'{where}: {label} must be an object with "{role_key}" and "{text_key}"')
        name = message[role_key]
        role = _ROLE_NAMES.get(name.lower()) if isinstance(name, str) else None
        if role is None:
            raise DataError(f"{where}: {label} has role {name!r}; {_ROLE_HINT}")
        text = _content(message.get(text_key), role, label, where)
        calls = _tool_calls(message) if role == "assistant" else ""
        if calls:
            text = f"{text}\n{calls}" if text.strip() else calls
        messages.append({"role": role, "content": text})
    return messages


def _with_system(record: dict, messages: list[dict], where: str) -> list[dict]:
    """``messages`` after a top-level "system" string, unless they open with a system message."""
    system = record.get("system")
    if system is None:
        return messages
    if not isinstance(system, str):
        raise DataError(f'{where}: "system" must be a string, got {type(system).__name__}')
    if not system.strip() or any(m["role"] == "system" for m in messages):
        return messages
    return [{"role": "system", "content": system}, *messages]


def _conversation(record: dict, where: str) -> list[dict]:
    key = "messages" if "messages" in record else "conversations"
    return _with_system(record, _messages(record[key], where, key), where)


def _prompt_completion(record: dict, where: str) -> list[dict]:
    parts: dict[str, list[dict]] = {}
    for key, role in (("prompt", "user"), ("completion", "assistant")):
        value = record.get(key)
        if isinstance(value, str):
            parts[key] = [{"role": role, "content": value}]
        elif isinstance(value, list) and value:
            parts[key] = _messages(value, where, key)
        else:
            problem = "is missing" if key not in record else "is not a string or a non-empty list of messages"
            raise DataError(
                f'{where}: a prompt/completion record needs "prompt" and "completion", each a string '
                f'or a list of messages; "{key}" {problem}'
            )
    if not any(m["role"] == "assistant" and m["content"].strip() for m in parts["completion"]):
        raise DataError(
            f'{where}: "completion" has no assistant message with text; the completion is what training learns'
        )
    return _with_system(record, parts["prompt"] + parts["completion"], where)


def _alpaca(record: dict, where: str) -> list[dict]:
    for key in ("instruction", "input", "output"):
        if key in record and not isinstance(record[key], str):
            raise DataError(f'{where}: Alpaca field "{key}" must be a string, got {type(record[key]).__name__}')
    if "output" not in record:
        raise DataError(f'{where}: an Alpaca record needs "instruction", "output" and optionally "input"; no "output"')
    prompt = "\n\n".join(text for text in (record.get("instruction", ""), record.get("input", "")) if text.strip())
    if not prompt:
        raise DataError(f'{where}: an Alpaca record needs a non-empty "instruction" (or "input")')
    history = record.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair) for pair in history
    ):
        raise DataError(f'{where}: Alpaca "history" must be a list of [instruction, response] string pairs')
    messages = [{"role": role, "content": text} for pair in history for role, text in zip(("user", "assistant"), pair)]
    messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"]}]
    return _with_system(record, messages, where)


def _text(record: dict, where: str) -> list[dict]:
    if not isinstance(record["text"], str):
        raise DataError(f'{where}: "text" must be a string')
    return [{"role": "assistant", "content": record["text"]}]


_BUILDERS = {
    "chat": _conversation,
    "sharegpt": _conversation,
    "prompt_completion": _prompt_completion,
    "alpaca": _alpaca,
    "text": _text,
}


def _form(record: dict) -> str | None:
    """The form of a record (nulls dropped), or None when it is in none of them."""
    for key in ("messages", "conversations"):
        if key in record:
            entries = record[key]
            first = entries[0] if isinstance(entries, list) and entries else None
            if isinstance(first, dict) and "from" in first and "role" not in first:
                return "sharegpt"
            return "chat" if key == "messages" or isinstance(first, dict) and "role" in first else "sharegpt"
    if "prompt" in record or "completion" in record:
        return "prompt_completion"
    if "instruction" in record or "output" in record:
        return "alpaca"
    return "text" if "text" in record else None


def to_chat(record: dict, where: str) -> list[dict]:
    """Normalise one training record to a list of {"role", "content"} chat messages.

    Accepts, in this order of precedence:

    - chat: {"messages": [...]}, each message {"role", "content"} with role system, user,
      assistant or tool (also "developer" as system and "function" as tool); content a string
      or a list of text parts ({"type": "text", "text": ...}, joined as they come). An assistant
      message with "tool_calls" keeps the calls, as JSON, as (the end of) its text.
    - ShareGPT: {"conversations": [{"from", "value"}, ...]}: human -> user, gpt/chatgpt ->
      assistant, system, tool/observation -> tool, function_call (the model calling a tool) ->
      assistant. Either list may use either style of message.
    - prompt/completion: {"prompt", "completion"}, each a string (a user turn, an assistant
      turn) or a list of messages (TRL's conversational form).
    - Alpaca: {"instruction", "input" (optional), "output"} -> a user turn (the instruction,
      then the input after a blank line) and an assistant turn; "history" pairs come before.
    - plain text: {"text"}, a single assistant message with no user turn.

    A top-level "system" string (ShareGPT, Alpaca) becomes the first message. Fields set to
    null count as absent. The result holds an assistant message with text, since training
    learns from the last of them; empty assistant messages after it are left out.
    """
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    record = _present(record)
    form = _form(record)
    if form is None:
        raise _UnknownForm(where, ", ".join(sorted(record)) or "none")
    messages = _BUILDERS[form](record, where)
    replies = [i for i, m in enumerate(messages) if m["role"] == "assistant" and m["content"].strip()]
    if not replies:
        raise DataError(
            f"{where}: no assistant message with text; training needs at least one non-empty assistant reply"
        )
    last = replies[-1]
    return messages[: last + 1] + [m for m in messages[last + 1 :] if m["role"] != "assistant"]


def record_form(record: dict) -> str:
    """Which form ``record`` uses, one of ``FORMS``: "chat", "prompt_completion", "text",
    "sharegpt" or "alpaca" (see ``to_chat``). A record in none of them counts as "text";
    ``to_chat`` raises for it."""
    return (_form(_present(record)) if isinstance(record, dict) else None) or "text"


@dataclass(frozen=True)
class TrainingRecord:
    """One training example as chat messages, where it came from and its form.

    ``line`` is the line number in a JSON Lines file, else the row number counted from 1;
    for a folder of several files, the record's position (from 1) in them all."""

    line: int
    messages: list[dict]
    form: str


MAX_LISTED_PROBLEMS = 5


def _malformed(name: str, unit: str, problems: list[DataError], n_seen: int) -> DataError:
    """One DataError for every problem found: the whole source in another form says so once;
    otherwise the first few problems in full, and the accepted forms once when needed."""
    unknown = [p for p in problems if isinstance(p, _UnknownForm)]
    if n_seen > 1 and len(unknown) == n_seen and len({p.keys for p in unknown}) == 1:
        return DataError(
            f"{name}: none of its {n_seen} {unit}s is a training record in a form tunelens reads "
            f"(keys: {unknown[0].keys}); use one of these forms: {_FORMATS}"
        )
    if len(problems) == 1:
        return problems[0]
    listed = "; ".join(p.short if isinstance(p, _UnknownForm) else str(p) for p in problems[:MAX_LISTED_PROBLEMS])
    more = len(problems) - MAX_LISTED_PROBLEMS
    rest = f"; and {more} more malformed {unit}{'s' if more > 1 else ''}" if more > 0 else ""
    forms = f"; accepted forms: {_FORMATS}" if unknown else ""
    return DataError(f"{name}: {len(problems)} malformed {unit}s: {listed}{rest}{forms}; fix them and run again")


def read_training_records(path: str | Path) -> list[TrainingRecord]:
    """Read training data, keeping each record's line (or row) number and form.

    ``path`` is a JSON Lines file, a .json file (an array of records, or JSON lines), a
    .parquet or .arrow file, or a folder holding a Hugging Face dataset: one written by
    ``datasets``' ``save_to_disk``, or parquet/JSON/JSONL files such as a snapshot of a Hub
    dataset repository. A folder with several splits gives its train split. See
    ``tunelens.data._hf_disk.training_rows``; parquet and Arrow need pyarrow
    (``pip install "tunelens[hf]"``).

    Every malformed record is found before anything is raised, so one DataError lists them
    all (the first few in full) and the user can fix the data in one go.
    """
    from tunelens.data._hf_disk import training_rows

    source = training_rows(path)
    records: list[TrainingRecord] = []
    problems: list[DataError] = []
    n_seen = 0
    for number, where, raw in source.rows:
        n_seen += 1
        if isinstance(raw, DataError):
            problems.append(raw)
            continue
        try:
            records.append(TrainingRecord(number, to_chat(raw, where), record_form(raw)))
        except DataError as exc:
            problems.append(exc)
    if problems:
        raise _malformed(source.name, source.unit, problems, n_seen)
    if not records:
        raise DataError(
            f"{source.name}: no training records; add one JSON object per line in one of these forms: {_FORMATS}"
        )
    return records


def read_training_data(path: str | Path) -> list[list[dict]]:
    """Read training data (see ``read_training_records``) and normalise every record to chat messages."""
    return [record.messages for record in read_training_records(path)]


def _suite_item(record: dict, where: str, default_id: str) -> SuiteItem:
    """Validate one regression-suite line and build its SuiteItem."""
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DataError(f'{where}: needs a non-empty string "question"')
    if "answer" not in record:
        raise DataError(
            f'{where}: needs an "answer" (a string, or with "choices" the index or text of the right choice)'
        )
    raw_id = record.get("id", default_id)
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id) == "":
        raise DataError(f'{where}: "id" must be a non-empty string or an integer')
    answer = record["answer"]
    if "choices" not in record:
        if isinstance(answer, bool) or not isinstance(answer, (str, int, float)):
            raise DataError(f'{where}: "answer" must be a string when there are no "choices"')
        if not str(answer).strip():
            raise DataError(f'{where}: "answer" must not be empty')
        return SuiteItem(str(raw_id), question, str(answer), None, None)
    choices = record["choices"]
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
        raise DataError(f'{where}: "choices" must be a list of at least two non-empty strings')
    if len(set(choices)) != len(choices):
        raise DataError(f'{where}: "choices" contains the same text twice; make them distinct')
    if isinstance(answer, int) and not isinstance(answer, bool):
        if not 0 <= answer < len(choices):
            raise DataError(
                f'{where}: "answer" index {answer} is out of range for {len(choices)} choices (indices start at 0)'
            )
        index = answer
    elif isinstance(answer, str) and answer in choices:
        index = choices.index(answer)
    else:
        raise DataError(
            f'{where}: "answer" must be a 0-based index into "choices" or the exact text of one choice, got {answer!r}'
        )
    return SuiteItem(str(raw_id), question, choices[index], tuple(choices), index)


def read_suite(path: str | Path) -> list[SuiteItem]:
    """Read a user regression suite of multiple-choice and/or free-answer questions.

    Items without an "id" get "line<N>" after their line number; ids must be
    unique so results can be compared across runs.
    """
    items: list[SuiteItem] = []
    seen: dict[str, str] = {}
    for where, record in _iter_jsonl(path):
        item = _suite_item(record, where, default_id=f"line{where.rsplit(' ', 1)[-1]}")
        if item.id in seen:
            raise DataError(
                f"{where}: id {item.id!r} is already used at {seen[item.id]}; give every question its own id"
            )
        seen[item.id] = where
        items.append(item)
    if not items:
        raise DataError(
            f"{Path(path).name}: the suite has no questions; add one JSON object per "
            'line like {"question": "...", "answer": "..."}'
        )
    return items
