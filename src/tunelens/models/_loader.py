"""Load a model reference into a (model, tokenizer) pair on the right device.

GGUF files (the embedded models among them) are dequantized by transformers, which is
slow (mostly the tokenizer), so the first load writes the float weights as safetensors
plus config and tokenizer to the cache; later loads read that directory in seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.models._embedded import EMBEDDED
from tunelens.models._refs import ModelRef, parse_ref
from tunelens.paths import cache_dir

ADAPTER_META = "tunelens.json"
"""File written into every tunelens checkpoint, naming its base model reference and method."""


DEVICE_MAPS = ("auto",)
"""Values of ``LoadOptions.device_map``: accelerate's placement over every visible GPU (then CPU)."""
QUANTIZE = ("8bit", "4bit")
"""Values of ``LoadOptions.quantize``: bitsandbytes LLM.int8() or 4-bit NF4 weights (CUDA only)."""


@dataclass(frozen=True)
class LoadOptions:
    """How to load: device, precision, placement, quantization, whether a LoRA pair shares its
    base, and the two security switches (both off by default). The defaults load as before:
    one device, full weights."""

    device: str | None = None  # None: cuda when available, else cpu
    dtype: str | None = None  # None: bfloat16 on cuda, float32 on cpu
    allow_pickle: bool = False
    trust_remote_code: bool = False
    device_map: str | None = None  # "auto": accelerate spreads the layers over the GPUs (a model too big for one)
    quantize: str | None = None  # "8bit" or "4bit" (NF4, bfloat16 compute): bitsandbytes, CUDA only
    share_base: bool | None = None  # load_pair: an adapter runs on its base's weights; None: on CUDA only


@dataclass(frozen=True)
class ResolvedLoad:
    """What :class:`LoadOptions` come to on this machine (:func:`resolve_load`)."""

    device: str  # where the weights go; with a device map, where it would put them first
    dtype: Any  # torch dtype of the weights (the compute dtype when quantized)
    device_map: Any  # passed to from_pretrained (None: load whole, then .to(device))
    quantization: Any  # a transformers BitsAndBytesConfig, or None
    share_base: bool  # load_pair shares an adapter's base when it can


@dataclass
class LoadedModel:
    """A causal LM with its tokenizer, ready for the engine.

    ``rewrite_messages``, when set, rewrites every chat before it is rendered as a prompt
    (the retrieval channel puts facts there); plain-text scoring does not pass through it.
    """

    ref: str
    kind: str
    model: Any
    tokenizer: Any
    extra: dict[str, Any] = field(default_factory=dict)
    rewrite_messages: Callable[[list[dict[str, str]]], list[dict[str, str]]] | None = None

    @property
    def device(self) -> Any:
        """Where input ids go: the device of the input embeddings (with a device map the layers
        sit on several devices), else of the first parameter."""
        try:
            embeddings = self.model.get_input_embeddings()
            return embeddings.weight.device
        except (AttributeError, NotImplementedError, TypeError):
            return next(self.model.parameters()).device


def _torch_dtype(options: LoadOptions, device: str) -> Any:
    import torch

    if options.dtype:
        dtype = getattr(torch, options.dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise TunelensError(f"unknown dtype '{options.dtype}': use float32, bfloat16 or float16")
        return dtype
    return torch.bfloat16 if device.startswith("cuda") else torch.float32


def resolve_device(options: LoadOptions) -> str:
    import torch

    if options.device:
        return options.device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _quantization(options: LoadOptions, device: str) -> Any:
    """The BitsAndBytesConfig of ``options.quantize``, or TunelensError saying what is missing."""
    import torch

    if options.quantize is None:
        return None
    if options.quantize not in QUANTIZE:
        raise TunelensError(f"unknown quantization '{options.quantize}': use --load-in 8bit or --load-in 4bit")
    if not device.startswith("cuda") or not torch.cuda.is_available():
        raise TunelensError(
            f"--load-in {options.quantize} needs a CUDA GPU (bitsandbytes quantizes on the GPU); "
            f"this load would go to {device}: drop --load-in"
        )
    if not _installed("bitsandbytes"):
        raise TunelensError(f"--load-in {options.quantize} needs the bitsandbytes package: pip install bitsandbytes")
    from transformers import BitsAndBytesConfig

    if options.quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)


def resolve_load(options: LoadOptions) -> ResolvedLoad:
    """Device, dtype, device map, quantization and base sharing for ``options`` on this machine,
    checked before anything is read: an unknown value or a missing package is a TunelensError
    that says what to pass or install."""
    if options.device_map is not None:
        if options.device_map not in DEVICE_MAPS:
            raise TunelensError(f"unknown device map '{options.device_map}': use --device-map auto")
        if options.device:
            raise TunelensError(
                f"--device {options.device} and --device-map {options.device_map} both place the model; pass one"
            )
        if not _installed("accelerate"):
            raise TunelensError("--device-map auto needs the accelerate package: pip install accelerate")
    device = resolve_device(options)
    dtype = _torch_dtype(options, device)
    quantization = _quantization(options, device)
    device_map: Any = options.device_map
    if quantization is not None and device_map is None:
        device_map = {"": device}  # bitsandbytes weights are placed while loading; they cannot be moved after
    share = options.share_base if options.share_base is not None else device.startswith("cuda")
    return ResolvedLoad(device, dtype, device_map, quantization, bool(share))


GGUF_CACHE_FORMAT = 2
"""Bumped when what the cache holds changes (2: config without the GGUF quantization entry)."""


def _gguf_cache_key(path: Path) -> str:
    stat = path.stat()
    raw = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{GGUF_CACHE_FORMAT}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _write_gguf_cache(gguf: Path, target: Path) -> None:
    """Dequantize a GGUF file once and store it as safetensors + config + tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    _write_weights(model, tmp / "model.safetensors")
    # The weights are dequantized now: a config that still names GGUF quantization would load
    # as a "quantized" model that save_pretrained refuses.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    (tmp / "source.json").write_text(json.dumps({"gguf": str(gguf)}))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _write_weights(model: Any, path: Path) -> None:
    """Write a model's state dict as safetensors, once per storage (tied embeddings share
    memory, which safetensors rejects). ``save_pretrained`` refuses a model loaded straight
    from a GGUF file, which is what the cache is written from."""
    from safetensors.torch import save_file

    seen: set[int] = set()
    tensors = {}
    for name, tensor in model.state_dict().items():
        ptr = tensor.data_ptr()
        if ptr in seen:
            continue
        seen.add(ptr)
        tensors[name] = tensor.detach().contiguous()
    save_file(tensors, str(path), metadata={"format": "pt"})


def gguf_cache_path(gguf: Path) -> Path:
    """The cache directory of a GGUF file, filled on first use."""
    target = cache_dir() / "models" / f"{gguf.stem}-{_gguf_cache_key(gguf)}"
    if not (target / "model.safetensors").is_file():
        _write_gguf_cache(gguf, target)
    return target


def _local_dir(ref: ModelRef) -> str:
    """The directory or hub id transformers should read for a non-adapter reference."""
    if ref.kind == "embedded":
        return str(gguf_cache_path(EMBEDDED[ref.target]()))
    if ref.kind == "gguf":
        return str(gguf_cache_path(Path(ref.target)))
    return ref.target


def _gguf_tokenizer_dir(gguf: Path) -> str:
    """The tokenizer alone, cached: reading it from GGUF is the slow part of a GGUF load."""
    full = cache_dir() / "models" / f"{gguf.stem}-{_gguf_cache_key(gguf)}"
    if (full / "model.safetensors").is_file():
        return str(full)
    target = cache_dir() / "tokenizers" / f"{gguf.stem}-{_gguf_cache_key(gguf)}"
    if not (target / "tokenizer_config.json").is_file():
        from transformers import AutoTokenizer

        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(tmp))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return str(target)


def load_tokenizer(text: str, options: LoadOptions = LoadOptions()) -> Any:
    """Load only the tokenizer of a model reference (adapters: their base's)."""
    from transformers import AutoTokenizer

    ref = parse_ref(text)
    if ref.kind in ("adapter", "svf"):
        return load_tokenizer(_adapter_base(Path(ref.target)), options)
    if ref.kind in ("proxy", "retrieval"):  # the text is the large base's (proxy) or the model's
        return load_tokenizer(ref.parts[0], options)
    if ref.kind in ("embedded", "gguf"):
        gguf = EMBEDDED[ref.target]() if ref.kind == "embedded" else Path(ref.target)
        source = _gguf_tokenizer_dir(gguf)
    else:
        source = ref.target
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=options.trust_remote_code)
    except OSError as exc:
        raise TunelensError(f"could not load the tokenizer of '{text}': {exc}".splitlines()[0]) from None
    return _prepare_tokenizer(tokenizer)


def _prepare_tokenizer(tokenizer: Any) -> Any:
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _adapter_base(adapter_dir: Path) -> str:
    meta = adapter_dir / ADAPTER_META
    if meta.is_file():
        return str(json.loads(meta.read_text())["base_ref"])
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise TunelensError(f"{adapter_dir}/adapter_config.json names no base model; add base_model_name_or_path")
    return str(base)


def load_model(text: str, options: LoadOptions = LoadOptions()) -> LoadedModel:
    """Load any model reference; raises TunelensError with an actionable message on failure."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    ref = parse_ref(text)
    resolved = resolve_load(options)
    if ref.kind == "adapter":
        return _load_adapter(ref, options)
    if ref.kind == "svf":
        return _load_svf(ref, options)
    if ref.kind == "proxy":
        return _load_proxy(ref, options)
    if ref.kind == "retrieval":
        return _load_retrieval(ref, options)
    source = _local_dir(ref)
    placement: dict[str, Any] = {}
    if resolved.device_map is not None:
        placement["device_map"] = resolved.device_map
    if resolved.quantization is not None:
        placement["quantization_config"] = resolved.quantization
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=resolved.dtype,
            use_safetensors=None if options.allow_pickle else True,
            trust_remote_code=options.trust_remote_code,
            **placement,
        )
    except OSError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = " (pass --allow-pickle to read .bin checkpoints)" if "safetensors" in first.lower() else ""
        raise TunelensError(f"could not load model '{text}': {first}{hint}") from None
    if resolved.device_map is None:  # a device map has placed every layer already
        model.to(resolved.device)
    model.eval()
    model.requires_grad_(False)
    tokenizer = load_tokenizer(text, options)
    return LoadedModel(ref=text, kind=ref.kind, model=model, tokenizer=tokenizer)


def _load_adapter(ref: ModelRef, options: LoadOptions) -> LoadedModel:
    """Base model plus a PEFT adapter, merged into the weights for fast inference."""
    try:
        from peft import PeftModel
    except ImportError:
        raise TunelensError("loading an adapter needs the peft package: pip install peft") from None
    adapter_dir = Path(ref.target)
    base_ref = _adapter_base(adapter_dir)
    base = load_model(base_ref, options)
    try:
        peft_model = PeftModel.from_pretrained(base.model, str(adapter_dir))
    except (OSError, ValueError) as exc:
        raise TunelensError(f"could not load adapter {ref.text}: {exc}".splitlines()[0]) from None
    model = peft_model.merge_and_unload()
    model.eval()
    model.requires_grad_(False)
    return LoadedModel(
        ref=ref.text, kind="adapter", model=model, tokenizer=base.tokenizer, extra={"base_ref": base_ref}
    )


def _load_svf(ref: ModelRef, options: LoadOptions) -> LoadedModel:
    """Base model with a singular-value fine-tuning checkpoint folded into its weights."""
    from tunelens.tuning._svf import load_svf_vectors, merge_svf

    directory = Path(ref.target)
    if options.quantize:
        raise TunelensError(f"{ref.text}: an SVF checkpoint is folded into full weights; drop --load-in to load it")
    base_ref = _adapter_base(directory)
    base = load_model(base_ref, options)
    vectors, max_mult = load_svf_vectors(directory)
    merge_svf(base.model, vectors, max_mult)
    extra = {"base_ref": base_ref}
    return LoadedModel(ref=ref.text, kind="svf", model=base.model, tokenizer=base.tokenizer, extra=extra)


def _load_proxy(ref: ModelRef, options: LoadOptions) -> LoadedModel:
    """Proxy-tuning (Liu et al. 2024): the large base steered by a small tuned/base pair."""
    from tunelens.models._proxy import build_proxy

    large, tuned, small = (load_model(part, options) for part in ref.parts)
    model = build_proxy(large, tuned, small, ref.alpha, ref.parts)
    extra = {"large": ref.parts[0], "tuned": ref.parts[1], "small": ref.parts[2], "alpha": ref.alpha}
    return LoadedModel(ref=ref.text, kind="proxy", model=model, tokenizer=large.tokenizer, extra=extra)


def _load_retrieval(ref: ModelRef, options: LoadOptions) -> LoadedModel:
    """A model's own weights, with the facts of FACTS retrieved into every chat prompt."""
    from tunelens.models._retrieval import FactRetriever, read_facts

    model_ref, facts_file = ref.parts
    retriever = FactRetriever(read_facts(facts_file))
    inner = load_model(model_ref, options)
    extra = {**inner.extra, "model": model_ref, "facts_file": facts_file, "n_facts": len(retriever.facts)}
    return LoadedModel(
        ref=ref.text,
        kind="retrieval",
        model=inner.model,
        tokenizer=inner.tokenizer,
        extra=extra,
        rewrite_messages=retriever,
    )
