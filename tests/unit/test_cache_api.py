"""The cache's name follows what a model's forward declares, on both sides of transformers'
rename of ``past_key_values`` to ``cache``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tunelens.models._cache_api import NEW, OLD, cache_kwargs, cache_of, library_name


class _Old:
    def forward(self, input_ids: Any, past_key_values: Any = None, use_cache: bool = False) -> None: ...


class _New:
    def forward(self, input_ids: Any, cache: Any = None, use_cache: bool = False) -> None: ...


class _Wrapper:  # passes everything on, as a PEFT model does
    def forward(self, *args: Any, **kwargs: Any) -> None: ...


@dataclass
class _OldOutput:
    logits: Any = None
    past_key_values: Any = None


@dataclass
class _NewOutput:
    logits: Any = None
    cache: Any = None


def test_the_name_a_forward_declares_wins() -> None:
    assert cache_kwargs(_Old(), "c") == {OLD: "c"}
    assert cache_kwargs(_New(), "c") == {NEW: "c"}
    assert cache_kwargs(_Wrapper(), "c") == {library_name(): "c"}


def test_the_library_name_is_its_output_field() -> None:
    from transformers.modeling_outputs import CausalLMOutputWithPast

    assert library_name() in CausalLMOutputWithPast.__dataclass_fields__


def test_an_output_gives_its_cache_under_either_name() -> None:
    assert cache_of(_OldOutput(past_key_values="a")) == "a"
    assert cache_of(_NewOutput(cache="b")) == "b"
    assert cache_of(_NewOutput()) is None


def test_a_real_model_runs_with_no_deprecation_message(tiny_loaded, monkeypatch) -> None:
    import torch
    from transformers.utils import generic

    said: list[str] = []
    # warning_once says a thing once per process: record every call instead.
    monkeypatch.setattr(generic.logger, "warning_once", lambda msg, *a, **k: said.append(str(msg)))
    model = tiny_loaded.model
    with torch.no_grad():
        out = model(input_ids=torch.tensor([[5, 6, 7]]), use_cache=True)
        step = model(input_ids=torch.tensor([[8]]), **cache_kwargs(model, cache_of(out)), use_cache=True)
    assert cache_of(step).get_seq_length() == 4
    assert not [m for m in said if "deprecated" in m]
