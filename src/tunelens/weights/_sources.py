"""Where weights come from: a safetensors checkpoint read one tensor at a time, or a loaded model.

Both sources list canonical names (``tunelens.weights._names``) and hand out one tensor
on request. A checkpoint opens its file for each tensor and closes it again, so no
memory map stays resident: comparing two checkpoints holds about one tensor of each at a
time, never a whole model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.weights._names import canonical_name

ADAPTER_FILE = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


def safetensors_files(path: Path) -> list[Path]:
    """The safetensors files of a checkpoint: the file itself, or every ``*.safetensors`` in a
    directory (shards included); an adapter directory's file only when it is one."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise TunelensError(f"no such checkpoint: {path}")
    files = sorted(p for p in path.glob("*.safetensors") if p.name != ADAPTER_FILE)
    if not files and (path / ADAPTER_FILE).is_file():
        files = [path / ADAPTER_FILE]
    if not files:
        raise TunelensError(f"{path} holds no .safetensors file")
    return files


def is_adapter_dir(path: Path) -> bool:
    return path.is_dir() and (path / ADAPTER_CONFIG).is_file() and (path / ADAPTER_FILE).is_file()


class CheckpointSource:
    """The tensors of a safetensors checkpoint, by canonical name, read one at a time."""

    owned = True  # every get() reads a fresh copy

    def __init__(self, path: str | Path) -> None:
        from safetensors import safe_open

        self.path = Path(path)
        self.where: dict[str, tuple[Path, str]] = {}
        for file in safetensors_files(self.path):
            with safe_open(str(file), framework="pt") as f:
                for key in f.keys():
                    self.where.setdefault(canonical_name(key), (file, key))

    def names(self) -> list[str]:
        return list(self.where)

    def get(self, name: str) -> Any:
        """One tensor; its file is opened and closed again, so nothing else stays mapped."""
        from safetensors import safe_open

        file, key = self.where[name]
        with safe_open(str(file), framework="pt") as f:
            return f.get_tensor(key)


class ModuleSource:
    """The parameters of a loaded model, by canonical name (tied weights once), without copies.

    A model that lists its weights as getters (``named_weight_getters()``: a view of a base
    shared with a LoRA adapter, ``tunelens.models.SharedView``) is read through them, one
    tensor per ``get``: the tuned view's merged weights are formed on request, never all
    held at once."""

    owned = False  # get() hands out the model's own parameters (or a view's fresh merge, never written to)

    def __init__(self, model: Any) -> None:
        self.params: dict[str, Any] = {}
        self.getters: dict[str, Any] = {}
        lazy = getattr(model, "named_weight_getters", None)
        if callable(lazy):
            for key, getter in lazy():
                self.getters.setdefault(canonical_name(key), getter)
            return
        for key, param in model.named_parameters():
            self.params.setdefault(canonical_name(key), param)

    def names(self) -> list[str]:
        return list(self.getters or self.params)

    def get(self, name: str) -> Any:
        if self.getters:
            return self.getters[name]().detach()
        return self.params[name].detach()


def read_adapter_config(path: Path) -> dict[str, Any]:
    config = json.loads((path / ADAPTER_CONFIG).read_text())
    if config.get("use_dora"):
        raise TunelensError(f"{path} is a DoRA adapter: its change is not B·A alone; compare the merged model")
    return config
