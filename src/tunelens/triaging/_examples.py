"""The training examples triage reads: each one's trained reply, what came before it, and its line.

Training learns from the last assistant reply of each example (``tunelens tune`` puts the
loss there; a ``text`` record is all reply), so patterns and facts are read from that
reply; the turns before it are the context in which the base model's prior is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tunelens.data import DataError, TrainingRecord, read_training_records, record_form, to_chat


@dataclass(frozen=True)
class Example:
    """One training example: its line in the file (1-based), its form and its messages."""

    line: int
    form: str  # one of tunelens.data.FORMS: chat, prompt_completion, text, sharegpt, alpaca
    messages: tuple[dict, ...]

    @property
    def reply_index(self) -> int:
        return max(i for i, m in enumerate(self.messages) if m["role"] == "assistant")

    @property
    def reply(self) -> str:
        """The trained text: the last assistant message."""
        return str(self.messages[self.reply_index]["content"])

    @property
    def before(self) -> list[dict]:
        """The messages before the trained reply (empty for a text record)."""
        return list(self.messages[: self.reply_index])

    @property
    def question(self) -> str:
        """The last user message before the reply, or ''."""
        users = [m["content"] for m in self.before if m["role"] == "user"]
        return str(users[-1]) if users else ""

    @property
    def system(self) -> str | None:
        systems = [m["content"] for m in self.before if m["role"] == "system"]
        return str(systems[0]) if systems else None


def _from_record(record: TrainingRecord) -> Example:
    return Example(record.line, record.form, tuple(record.messages))


def load_examples(data: str | Path | Sequence[dict]) -> tuple[list[Example], str]:
    """Examples from a JSONL file or from records in memory, and a name for the source.

    Records in memory are numbered from 1 in place of line numbers. A malformed record
    raises ``DataError`` naming its line (file) or its number (memory).
    """
    if isinstance(data, (str, Path)):
        return [_from_record(r) for r in read_training_records(data)], str(data)
    examples = []
    for number, raw in enumerate(data, start=1):
        where = f"record {number}"
        if not isinstance(raw, dict):
            raise DataError(f"{where}: expected a dict like a JSONL line, got {type(raw).__name__}")
        examples.append(Example(number, record_form(raw), tuple(to_chat(raw, where))))
    if not examples:
        raise DataError("no training records given; pass a JSONL path or a non-empty list of records")
    return examples, f"{len(examples)} records in memory"
