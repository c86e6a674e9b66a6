"""How LoadOptions resolve on this machine (device, dtype, device map, quantization, base
sharing) with CUDA faked present or absent, the errors that say what to install or pass,
where LoadedModel.device points, and the command-line flags. No model is loaded."""

from __future__ import annotations

import argparse

import pytest
import torch

from tunelens.cli._common import add_load_options, load_options
from tunelens.errors import TunelensError
from tunelens.models import LoadedModel, LoadOptions, _loader, resolve_load


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch):
    """Make torch report a GPU (nothing is ever placed on it here)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def _installed_except(monkeypatch: pytest.MonkeyPatch, missing: set[str], present: set[str] = frozenset()) -> None:
    real = _loader._installed
    monkeypatch.setattr(
        _loader, "_installed", lambda name: False if name in missing else (True if name in present else real(name))
    )


def test_defaults_on_cpu_load_as_before(no_cuda) -> None:
    r = resolve_load(LoadOptions())
    assert (r.device, r.dtype, r.device_map, r.quantization, r.share_base) == ("cpu", torch.float32, None, None, False)


def test_defaults_on_cuda_are_bfloat16_and_a_shared_base(cuda) -> None:
    r = resolve_load(LoadOptions())
    assert (r.device, r.dtype, r.device_map, r.quantization, r.share_base) == ("cuda", torch.bfloat16, None, None, True)
    # An explicit CPU device on a GPU machine: float32 and no sharing, as on a CPU.
    r = resolve_load(LoadOptions(device="cpu"))
    assert (r.device, r.dtype, r.share_base) == ("cpu", torch.float32, False)
    assert resolve_load(LoadOptions(device="cuda:1")).device == "cuda:1"


def test_share_base_and_dtype_given_win(cuda) -> None:
    assert resolve_load(LoadOptions(share_base=False)).share_base is False
    assert resolve_load(LoadOptions(device="cpu", share_base=True)).share_base is True
    assert resolve_load(LoadOptions(dtype="float16")).dtype == torch.float16


@pytest.mark.parametrize("dtype", ["bogus", "cuda", "Tensor"])
def test_an_unknown_dtype_is_refused(no_cuda, dtype: str) -> None:
    with pytest.raises(TunelensError, match="unknown dtype.*float32, bfloat16 or float16"):
        resolve_load(LoadOptions(dtype=dtype))


def test_device_map_auto(cuda) -> None:
    r = resolve_load(LoadOptions(device_map="auto"))
    assert (r.device_map, r.device, r.dtype, r.share_base) == ("auto", "cuda", torch.bfloat16, True)


def test_device_map_errors(cuda, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TunelensError, match="unknown device map 'balanced': use --device-map auto"):
        resolve_load(LoadOptions(device_map="balanced"))
    with pytest.raises(TunelensError, match="--device cuda:0 and --device-map auto both place the model"):
        resolve_load(LoadOptions(device_map="auto", device="cuda:0"))
    _installed_except(monkeypatch, {"accelerate"})
    with pytest.raises(TunelensError, match="needs the accelerate package: pip install accelerate"):
        resolve_load(LoadOptions(device_map="auto"))


def test_an_unknown_quantization_is_refused(cuda) -> None:
    with pytest.raises(TunelensError, match="unknown quantization '3bit': use --load-in 8bit or --load-in 4bit"):
        resolve_load(LoadOptions(quantize="3bit"))


def test_quantization_needs_a_gpu(no_cuda) -> None:
    with pytest.raises(TunelensError, match="--load-in 4bit needs a CUDA GPU.*drop --load-in"):
        resolve_load(LoadOptions(quantize="4bit"))


def test_quantization_on_an_explicit_cpu_device_needs_a_gpu(cuda) -> None:
    with pytest.raises(TunelensError, match="needs a CUDA GPU.*would go to cpu"):
        resolve_load(LoadOptions(quantize="8bit", device="cpu"))


def test_quantization_needs_bitsandbytes(cuda, monkeypatch: pytest.MonkeyPatch) -> None:
    _installed_except(monkeypatch, {"bitsandbytes"})
    with pytest.raises(TunelensError, match="--load-in 8bit needs the bitsandbytes package: pip install bitsandbytes"):
        resolve_load(LoadOptions(quantize="8bit"))


def test_quantization_configs(cuda, monkeypatch: pytest.MonkeyPatch) -> None:
    _installed_except(monkeypatch, set(), {"bitsandbytes"})
    four = resolve_load(LoadOptions(quantize="4bit"))
    q = four.quantization
    assert q.load_in_4bit and not q.load_in_8bit
    assert q.bnb_4bit_quant_type == "nf4" and q.bnb_4bit_compute_dtype == torch.bfloat16
    # Quantized weights are placed while loading, on the resolved device, in the compute dtype.
    assert four.device_map == {"": "cuda"} and four.dtype == torch.bfloat16
    eight = resolve_load(LoadOptions(quantize="8bit", device="cuda:1"))
    assert eight.quantization.load_in_8bit and not eight.quantization.load_in_4bit
    assert eight.device_map == {"": "cuda:1"}
    # With a device map, the map places the quantized layers.
    assert resolve_load(LoadOptions(quantize="4bit", device_map="auto")).device_map == "auto"


def test_load_model_checks_options_before_reading_anything(no_cuda, tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")  # a model directory with nothing loadable in it
    with pytest.raises(TunelensError, match="needs a CUDA GPU"):
        _loader.load_model(str(tmp_path), LoadOptions(quantize="4bit"))


class _Split(torch.nn.Module):
    """A model whose first parameter and input embeddings sit on different devices."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Linear(2, 2)  # cpu, and first
        self.embed = torch.nn.Embedding(3, 2, device="meta")

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.embed


def test_loaded_model_device_is_where_input_ids_go() -> None:
    split = LoadedModel(ref="x", kind="directory", model=_Split(), tokenizer=None)
    assert next(split.model.parameters()).device.type == "cpu"
    assert split.device.type == "meta"
    plain = LoadedModel(ref="x", kind="directory", model=torch.nn.Linear(2, 2), tokenizer=None)  # no embeddings
    assert plain.device.type == "cpu"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_load_options(parser)
    return parser.parse_args(argv)


def test_cli_flags_default_to_todays_loading() -> None:
    options = load_options(_parse([]))
    assert options == LoadOptions()
    assert (options.device_map, options.quantize, options.share_base) == (None, None, None)


def test_cli_flags() -> None:
    options = load_options(_parse(["--device-map", "auto", "--load-in", "4bit", "--no-share-base"]))
    assert (options.device_map, options.quantize, options.share_base) == ("auto", "4bit", False)
    assert load_options(_parse(["--share-base", "--load-in", "8bit"])).share_base is True
    for bad in (["--load-in", "3bit"], ["--device-map", "balanced"]):
        with pytest.raises(SystemExit):
            _parse(bad)


def test_cli_help_names_what_each_flag_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--device-map {auto}" in text and "pip install accelerate" in text
    assert "--load-in {8bit,4bit}" in text and "pip install bitsandbytes" in text
    assert "--share-base, --no-share-base" in text
