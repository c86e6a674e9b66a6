"""Where training records come from: a JSON Lines file, or a Hugging Face dataset on disk.

People keep training data as JSON Lines, as a JSON array, as parquet (the Hub's own format:
a snapshot of a dataset repository holds files like ``data/train-00000-of-00001.parquet``),
or as the folder ``datasets.Dataset.save_to_disk`` writes: Arrow IPC stream files
``data-00000-of-00001.arrow`` listed in ``state.json``, beside ``dataset_info.json``
(a ``DatasetDict`` adds ``dataset_dict.json`` and one such folder per split).
``training_rows`` reads any of them as numbered records, so that every problem can name
its file and its line or row.

Parquet and Arrow files need pyarrow (``pip install "tunelens[hf]"``), imported only when
such a file is read; JSON needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelens.data._jsonl import DataError, _parse_line, _read_text, _split_lines

Row = tuple[int, str, "dict | DataError"]  # (number, where, the record or what is wrong with it)

DATA_SUFFIXES = {".jsonl": "JSON", ".json": "JSON", ".parquet": "parquet", ".arrow": "Arrow"}
METADATA_FILES = {"dataset_info.json", "dataset_infos.json", "state.json", "dataset_dict.json"}
# Split names as the Hub recognises them in file and folder names, train first.
SPLIT_WORDS = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev"),
    "test": ("test", "testing", "eval", "evaluation"),
}
MAX_LISTED_FILES = 12
_INSTALL = 'pip install "tunelens[hf]" (or pip install pyarrow)'


@dataclass
class Rows:
    """The records of one source, read lazily: ``rows`` yields (number, where, record or DataError).

    ``name`` names the source in messages; ``unit`` is what the numbers count: "line" (JSON
    Lines), "row" (a JSON array, parquet, Arrow) or "record" (several files of a folder)."""

    name: str
    unit: str
    rows: Iterator[Row]


def training_rows(path: str | Path) -> Rows:
    """The records of a training-data file or dataset folder.

    - a .jsonl file (or any file without one of the suffixes below): one JSON object per line;
    - a .json file: a JSON array of records, or JSON lines;
    - a .parquet file, or an .arrow file (IPC stream, as ``datasets`` writes, or IPC file);
    - a folder written by ``Dataset.save_to_disk`` (its ``state.json`` lists the data files)
      or by ``DatasetDict.save_to_disk`` (its train split, or its only split);
    - any other folder of .parquet, .arrow, .json and .jsonl files, searched below the folder
      (hidden folders such as ``.cache`` and the metadata files above are skipped). Files
      whose path names a split (``train.jsonl``, ``data/train-00000-of-00002.parquet``,
      ``train/part.json``) are grouped by it, and the train split is read; the others are
      not. Files that name no split are all read, as the Hub does. No train split beside
      other splits, or files of different formats, is an error listing the files.

    Rows of parquet, Arrow and JSON arrays are numbered from 1; fields set to null count as
    absent (a table gives every row every column).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"no such file or folder: {path}")
    if not path.is_dir():
        unit, rows = _file_rows(path, path.name)
        return Rows(path.name, unit, rows)
    files = dataset_files(path)
    if len(files) == 1:
        unit, rows = _file_rows(files[0], files[0].relative_to(path).as_posix())
        return Rows(path.name, unit, rows)
    return Rows(path.name, "record", _chained(path, files))


def dataset_files(folder: Path) -> list[Path]:
    """The data files of the dataset in ``folder`` (its train split when it has several), in order."""
    if (folder / "dataset_dict.json").is_file():
        splits = _json_object(folder / "dataset_dict.json").get("splits")
        if not isinstance(splits, list) or not splits or not all(isinstance(s, str) for s in splits):
            raise DataError(f'{folder / "dataset_dict.json"}: no "splits" list; save the dataset again')
        split = "train" if "train" in splits else splits[0] if len(splits) == 1 else None
        if split is None:
            raise DataError(
                f"{folder}: a DatasetDict with the splits {', '.join(splits)} and no train split; pass the "
                f"folder of the split to train on, e.g. {folder / splits[0]}"
            )
        if not (folder / split).is_dir():
            raise DataError(f"{folder}: dataset_dict.json lists the split {split!r} but there is no folder {split}/")
        return dataset_files(folder / split)
    if (folder / "state.json").is_file():
        entries = _json_object(folder / "state.json").get("_data_files")
        names = [e.get("filename") for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        files = [folder / name for name in names if isinstance(name, str)] or sorted(folder.glob("data-*.arrow"))
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            listed = ", ".join(missing)
            raise DataError(f"{folder}: state.json lists {listed}, not in the folder; save the dataset again")
        if files:
            return files
    return _plain_folder(folder)


def _plain_folder(folder: Path) -> list[Path]:
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in DATA_SUFFIXES
        and p.name not in METADATA_FILES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.is_file()
    )
    if not found:
        raise DataError(
            f"{folder}: no data files in this folder; expected .jsonl, .json, .parquet or .arrow files, "
            "or a folder written by datasets' save_to_disk"
        )
    splits: dict[str | None, list[Path]] = {}
    for p in found:
        splits.setdefault(split_of(p.relative_to(folder)), []).append(p)
    if "train" in splits:
        chosen = splits["train"]
    elif list(splits) == [None]:
        chosen = found
    else:
        named = ", ".join(sorted(s for s in splits if s is not None))
        raise DataError(
            f"{folder}: cannot tell which files to train on: they name the split(s) {named} and no train split "
            f"({_listing(folder, found)}); pass the file to train on, or name the training files train*"
        )
    formats = sorted({DATA_SUFFIXES[p.suffix.lower()] for p in chosen})
    if len(formats) > 1:
        raise DataError(
            f"{folder}: cannot tell which files to train on: they mix {' and '.join(formats)} files "
            f"({_listing(folder, chosen)}); pass the file to train on, or a folder of one format"
        )
    return chosen


def split_of(relative: Path) -> str | None:
    """The split a data file's path names ("train", "validation", "test"), or None."""
    text = relative.as_posix().lower()
    for split, words in SPLIT_WORDS.items():
        if re.search(rf"(^|[-._ 0-9/])({'|'.join(words)})([-._ 0-9/]|$)", text):
            return split
    return None


def _listing(folder: Path, files: list[Path]) -> str:
    names = [f.relative_to(folder).as_posix() for f in files[:MAX_LISTED_FILES]]
    more = len(files) - MAX_LISTED_FILES
    return "files: " + ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _json_object(path: Path) -> dict:
    try:
        value = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object")
    return value


def _chained(folder: Path, files: list[Path]) -> Iterator[Row]:
    """The rows of several files, numbered across them all; ``where`` names each one's file and line or row."""
    number = 0
    for path in files:
        _, rows = _file_rows(path, path.relative_to(folder).as_posix())
        for _, where, raw in rows:
            number += 1
            yield number, where, raw


def _file_rows(path: Path, label: str) -> tuple[str, Iterator[Row]]:
    """What the file's numbers count, and its rows; ``label`` names the file in messages."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".arrow"):
        return "row", _table_rows(path, label, suffix)
    text = _read_text(path)
    start = text.lstrip()[:1]
    if suffix == ".json" and start == "[":
        return "row", _array_rows(text, label)
    if suffix == ".json" and start == "{" and "\n" in text.strip():  # one object over several lines?
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            pass  # JSON lines
        else:
            return "line", iter([(1, f"{label} line 1", record)])
    return "line", _line_rows(text, label)


def _line_rows(text: str, label: str) -> Iterator[Row]:
    for number, line in _split_lines(text):
        where = f"{label} line {number}"
        try:
            yield number, where, _parse_line(line, where)
        except DataError as exc:
            yield number, where, exc


def _array_rows(text: str, label: str) -> Iterator[Row]:
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{label}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); a .json file holds "
            "one JSON array of records [{...}, ...], or one JSON object per line"
        ) from exc
    for number, record in enumerate(records, start=1):
        where = f"{label} row {number}"
        if isinstance(record, dict):
            yield number, where, record
        else:
            yield number, where, DataError(f"{where}: expected a JSON object {{...}}, got {type(record).__name__}")


def _pyarrow(label: str) -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise DataError(
            f"{label}: reading parquet and Arrow files needs pyarrow, which is not installed: {_INSTALL}; "
            "or save the data as JSON Lines"
        ) from exc
    return pyarrow


def _table_rows(path: Path, label: str, suffix: str) -> Iterator[Row]:
    """The rows of a parquet or Arrow file, a batch at a time."""
    pa = _pyarrow(label)
    kind = "parquet" if suffix == ".parquet" else "Arrow"
    number = 0
    try:
        for batch in _batches(pa, path, suffix):
            for record in batch.to_pylist():
                number += 1
                yield number, f"{label} row {number}", record
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{label}: cannot read this {kind} file ({exc}); is it complete and really {kind}?") from exc


def _batches(pa: Any, path: Path, suffix: str) -> Iterator[Any]:
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(str(path)).iter_batches(batch_size=1024)
        return
    import pyarrow.ipc as ipc

    try:  # datasets writes the streaming format
        reader = ipc.open_stream(pa.memory_map(str(path)))
    except pa.ArrowInvalid:  # the random-access file format
        file_reader = ipc.open_file(pa.memory_map(str(path)))
        for index in range(file_reader.num_record_batches):
            yield file_reader.get_batch(index)
        return
    yield from reader
