"""GPU scale benchmark: every probe at full size on a Llama-3-8B-shaped pair, one command.

    python benchmarks/gpu_scale.py --tokenizer DIR     # on one H100/H200-class GPU
    python benchmarks/gpu_scale.py --tiny              # a CPU smoke run of the same code path

What it does:

* builds, directly on the GPU in bfloat16, a randomly initialised ``LlamaForCausalLM`` with
  Llama-3-8B's shape (hidden 4096, 32 layers, 32 query and 8 key/value heads, MLP 14336,
  rope theta 500000, vocabulary 128256; weights normal with std 0.02) and wraps it with a
  PEFT LoRA adapter of rank 16 on every projection (q, k, v, o, gate, up, down), whose B
  factors are random too, so the tuned model differs from the base. Nothing is downloaded;
  the tokenizer (SmolLM2's, with its chat template; ids < 49152 fit the embedding) is read
  from a folder (``--tokenizer``, which ``benchmarks/gpu_wheelhouse.sh`` writes) or, where
  tunelens' embedded model is installed, from it;
* one model, two views: the tuned side is the model with its adapter, the base side the same
  model called with the adapter switched off, so the base is not copied;
* logits outside the tokenizer's vocabulary and of its special tokens (end of turn among
  them) are masked, so replies are text the tokenizer can decode and run to their full
  token budgets: random weights never stop early;
* every probe runs at the ``thorough`` budget (``--budget``) with
  ``ProbeContext(assume_known=True)``: the filters that keep only items a model knows (facts
  both models answer closed-book, needles a model recalled, chains of thought that reach an
  answer, a floor on accuracy) are skipped, so every item runs. The probes that read a task
  spec get the demo's (the support-desk generator's, with the demo's settings); the
  adapter is saved to a temporary folder so ``locality`` reads its factors as it reads a
  real adapter's;
* for each probe, as it finishes: wall seconds, peak GPU memory, the positions the model
  computed (every forward pass of either view, padding counted apart), tokens per second,
  and that rate as a fraction of the ideal one: the measured bf16 matmul rate (8192³,
  best of three rounds) divided by 2 × the non-embedding parameters (embedding and
  unembedding excluded) FLOPs per token. Then the total against the target: the whole
  battery within 420 s. The figures go to ``--out`` (JSON) too.

``--tiny`` builds a 2-layer Llama (hidden 64, the tokenizer's vocabulary) in float32 on the
CPU and runs the same code: a smoke test, not a measurement of the target.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET_SECONDS = 420.0
"""The whole battery within 7 minutes on one H100/H200-class GPU."""

LLAMA3_8B: dict[str, Any] = dict(
    hidden_size=4096,
    intermediate_size=14336,
    num_hidden_layers=32,
    num_attention_heads=32,
    num_key_value_heads=8,
    vocab_size=128256,
    max_position_embeddings=8192,
    rope_theta=500000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=False,
)
"""Llama-3-8B's shape."""

TINY: dict[str, Any] = dict(
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=8192,
    rope_theta=500000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=False,
)
"""The smoke run's shape (grouped-query attention kept); its vocabulary is the tokenizer's."""

LORA_RANK = 16
LORA_ALPHA = 32
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
INIT_STD = 0.02
MASKED_LOGIT = -1e4
"""Logit of a masked token: exp underflows to 0, and unlike -inf it never makes a NaN."""
EMBEDDED_TOKENIZER = "embedded:smollm2-135m-instruct"


def say(line: str = "") -> None:
    print(line, flush=True)


# ----------------------------------------------------------------------------- the pair


class AdapterOff:
    """The base view of a PEFT model where this tunelens has no shared-base views
    (``tunelens.models.SharedView``): every call runs with the adapter switched off.

    Every attribute is the wrapped transformers model's (its config, its layers, its
    parameters under the same names), so probes that read weights or attention see the
    same modules on both sides; only calling it differs. The switch flips each adapter
    layer's flag (what ``BaseTunerLayer.enable_adapters`` sets, without its bookkeeping):
    PEFT's ``disable_adapter()`` context first reads the status of every module, which
    costs more than a decoding step of a small model and would be timed as the base's."""

    def __init__(self, peft_model: Any) -> None:
        from peft.tuners.tuners_utils import BaseTunerLayer

        inner = peft_model.get_base_model()
        layers = [m for m in inner.modules() if isinstance(m, BaseTunerLayer)]
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_layers", layers)
        object.__setattr__(self, "_flag", all(hasattr(m, "_disable_adapters") for m in layers))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _adapters(self, enabled: bool) -> None:
        for layer in self._layers:
            if self._flag:
                layer._disable_adapters = not enabled
            else:
                layer.enable_adapters(enabled)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._adapters(False)
        try:
            return self._inner(*args, **kwargs)
        finally:
            self._adapters(True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self(*args, **kwargs)


@dataclass
class PositionCounter:
    """Counts what the decoder computes: a forward pre-hook on the shared decoder stack sees
    every pass of both views (engine calls and the probes' own passes alike). Counts stay
    on the device until read, so counting adds no synchronisation."""

    passes: int = 0
    fed: int = 0  # positions fed, padding included
    real: Any = 0  # positions with attention-mask 1 (a device tensor once counted)

    def hook(self, _module: Any, args: tuple, kwargs: dict) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        shape = ids.shape if ids is not None else kwargs["inputs_embeds"].shape[:2]
        rows, width = int(shape[0]), int(shape[1])
        mask = kwargs.get("attention_mask")
        self.passes += 1
        self.fed += rows * width
        if mask is not None and getattr(mask, "dim", lambda: 0)() == 2:
            self.real = self.real + mask[:, -width:].sum()
        else:
            self.real = self.real + rows * width

    def reset(self) -> None:
        self.passes, self.fed, self.real = 0, 0, 0

    def read(self) -> dict[str, int]:
        real = int(self.real)
        return {"positions": real, "padding": self.fed - real, "passes": self.passes}


@dataclass
class Pair:
    base: Any  # LoadedModel
    tuned: Any  # LoadedModel
    peft_model: Any  # the one model both views run
    counter: PositionCounter
    info: dict[str, Any] = field(default_factory=dict)


def load_bench_tokenizer(directory: str | None) -> Any:
    """The tokenizer from a folder, or from the embedded model where tunelens has it."""
    if directory is None:
        try:
            from tunelens.models import load_tokenizer

            return load_tokenizer(EMBEDDED_TOKENIZER)
        except Exception as exc:  # no model package on a GPU machine: say what to pass
            sys.exit(
                f"gpu_scale: no --tokenizer folder given and the embedded tokenizer is not available ({exc}); "
                "pass --tokenizer WHEELHOUSE/tokenizer (benchmarks/gpu_wheelhouse.sh writes it)"
            )
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        sys.exit(f"gpu_scale: the tokenizer in {directory} has no chat template")
    return tokenizer


def _llama(config: Any, dtype: Any) -> Any:
    from transformers import LlamaForCausalLM

    try:
        return LlamaForCausalLM._from_config(config, dtype=dtype)
    except TypeError:  # transformers before 4.56 names it torch_dtype
        return LlamaForCausalLM._from_config(config, torch_dtype=dtype)


def masked_ids(tokenizer: Any, vocab_size: int) -> list[int]:
    """Ids a random model must not emit: beyond the tokenizer's vocabulary, and its special tokens."""
    special = {int(i) for i in tokenizer.all_special_ids if i is not None and 0 <= int(i) < vocab_size}
    if tokenizer.eos_token_id is not None:
        special.add(int(tokenizer.eos_token_id))
    return sorted(special | set(range(len(tokenizer), vocab_size)))


def model_dtype(device: str) -> Any:
    """bfloat16 on a GPU; float32 on the CPU (the smoke run)."""
    import torch

    return torch.float32 if device == "cpu" else torch.bfloat16


def views(peft_model: Any) -> tuple[Any, Any, bool]:
    """(base model, tuned model, shared): tunelens' own shared-base views where it has them
    (``load_pair`` takes references; these are the views it makes of a model already built),
    else :class:`AdapterOff` and the injected model."""
    try:
        from tunelens.models._shared import AdapterSwitch, SharedView
    except ImportError:
        return AdapterOff(peft_model), peft_model.get_base_model(), False
    switch = AdapterSwitch(peft_model)
    return SharedView(peft_model, switch, adapter_on=False), SharedView(peft_model, switch, adapter_on=True), True


def build_pair(tokenizer: Any, device: str, tiny: bool, seed: int, workdir: Path) -> Pair:
    """The random base with its LoRA adapter, built on ``device``, as two LoadedModel views."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig

    from tunelens.models import LoadedModel

    dtype = model_dtype(device)
    shape = dict(TINY, vocab_size=len(tokenizer)) if tiny else dict(LLAMA3_8B)
    if shape["vocab_size"] < len(tokenizer):
        raise ValueError(f"the tokenizer has {len(tokenizer)} tokens, more than the model's {shape['vocab_size']}")
    config = LlamaConfig(
        **shape,
        initializer_range=INIT_STD,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    with torch.device(device):  # every weight is made (and initialised) on the device: no CPU copy
        model = _llama(config, dtype)
        model.eval()
        lora = LoraConfig(
            r=LORA_RANK, lora_alpha=LORA_ALPHA, lora_dropout=0.0, target_modules=list(LORA_TARGETS), bias="none"
        )
        try:
            peft_model = get_peft_model(model, lora, autocast_adapter_dtype=False)
        except TypeError:  # older peft
            peft_model = get_peft_model(model, lora)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, INIT_STD)  # PEFT starts B at zero (tuned = base); make it differ
    peft_model.eval()
    peft_model.requires_grad_(False)
    inner = peft_model.get_base_model()
    # Random weights emit any id: keep replies to decodable text that runs its full budget.
    block = torch.tensor(masked_ids(tokenizer, shape["vocab_size"]), dtype=torch.long, device=device)

    def mask_logits(_module: Any, _inputs: Any, output: Any) -> Any:
        return output.index_fill_(-1, block, MASKED_LOGIT)

    inner.get_output_embeddings().register_forward_hook(mask_logits)
    counter = PositionCounter()
    inner.model.register_forward_pre_hook(counter.hook, with_kwargs=True)
    adapter_dir = workdir / "adapter"
    peft_model.save_pretrained(str(adapter_dir))  # locality reads an adapter's factors from its folder
    params = dict(inner.named_parameters())
    lora_params = sum(p.numel() for n, p in params.items() if "lora_" in n)
    embed = inner.get_input_embeddings().weight.numel()
    unembed = inner.get_output_embeddings().weight.numel()
    total = sum(p.numel() for p in params.values()) - lora_params
    shape_name = "tiny Llama" if tiny else "Llama-3-8B shape"
    base_model, tuned_model, shared = views(peft_model)
    flag = {"shared_base": True} if shared else {}
    base = LoadedModel(ref=f"random:{shape_name}", kind="random", model=base_model, tokenizer=tokenizer, extra=flag)
    extra = {"base_ref": base.ref, **flag}
    tuned = LoadedModel(ref=str(adapter_dir), kind="adapter", model=tuned_model, tokenizer=tokenizer, extra=extra)
    info = {
        "shape": shape_name,
        "config": shape,
        "dtype": str(dtype).removeprefix("torch."),
        "device": device,
        "parameters": total,
        "non_embedding_parameters": total - embed - unembed,
        "lora_parameters": lora_params,
        "lora": {"rank": LORA_RANK, "alpha": LORA_ALPHA, "targets": list(LORA_TARGETS)},
        "masked_ids": len(block),
        "views": "tunelens.models.SharedView" if shared else "gpu_scale.AdapterOff",
    }
    return Pair(base, tuned, peft_model, counter, info)


# ------------------------------------------------------------------------- measuring


def matmul_rate(device: str, dtype: Any, size: int, repeats: int) -> float:
    """Dense matmul rate (FLOP/s) of ``size``³ products on the device: best of three rounds."""
    import torch

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync()
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        sync()
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - start))
    del a, b
    return best


def demo_task(seed: int) -> Any:
    """The demo's task spec: the support-desk generator's, with the demo's settings."""
    from tunelens.data import support_desk_dataset
    from tunelens.demo import DemoConfig

    demo = DemoConfig()
    _, spec = support_desk_dataset(
        demo.facts_per_level, n_pattern_only=demo.n_pattern_only, seed=seed, keyword_exposures=demo.keyword_exposures
    )
    return spec


def engine_counters(engines: Sequence[Any]) -> dict[str, int] | None:
    """The engines' own counters summed, where the engine keeps them (``Engine.counters``)."""
    found = [getattr(e, "counters", None) for e in engines]
    if any(c is None for c in found):
        return None
    total: dict[str, int] = {}
    for counters in found:
        for key, value in dict(counters).items():
            total[key] = total.get(key, 0) + int(value)
    return total


def reset_engines(engines: Sequence[Any]) -> None:
    for engine in engines:
        if hasattr(engine, "reset_counters"):
            engine.reset_counters()


def _settle(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib(device: str) -> float:
    import torch

    if not device.startswith("cuda"):
        return 0.0
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**30


def warm_up(pair: Pair) -> None:
    """One short pass of each view, so the first probe does not pay for kernel start-up."""
    import torch

    from tunelens.engine import Engine, GenRequest

    for loaded in (pair.base, pair.tuned):
        Engine(loaded).generate([GenRequest("Hello", 4)])
    pair.counter.reset()
    if pair.base.device.type == "cuda":
        torch.cuda.synchronize()


ROW = "{:<18} {:>8} {:>9} {:>13} {:>11} {:>9}"


def row_line(r: dict[str, Any]) -> str:
    if r.get("error"):
        return f"{r['probe']:<18} {r['seconds']:>8.1f} FAILED: {r['error']}"
    return ROW.format(
        r["probe"],
        f"{r['seconds']:.1f}",
        f"{r['peak_gib']:.2f}",
        f"{r['positions']:,}",
        f"{r['tokens_per_s']:,.0f}",
        f"{r['of_ideal']:.3f}",
    )


def run_probe(name: str, ctx: Any, budget: str, pair: Pair, device: str, ideal: float) -> dict[str, Any]:
    from tunelens.probes import get_probe

    spec = get_probe(name)
    config = spec.config_for(budget)
    engines = (ctx.base, ctx.tuned)
    _settle(device)
    reset_engines(engines)
    pair.counter.reset()
    error = None
    start = time.perf_counter()
    try:
        result = spec.run(ctx, config)
    except Exception as exc:  # keep measuring the others; the run fails at the end
        result = None
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        traceback.print_exc(file=sys.stderr)
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    counts = pair.counter.read()
    rate = counts["positions"] / seconds if seconds > 0 else 0.0
    row: dict[str, Any] = {
        "probe": name,
        "budget": budget,
        "seconds": round(seconds, 3),
        "peak_gib": round(_peak_gib(device), 3),
        **counts,
        "tokens_per_s": round(rate, 1),
        "of_ideal": float(f"{rate / ideal:.4g}") if ideal > 0 else None,
        "items": len(result.items) if result is not None else None,
        "metrics": len(result.metrics) if result is not None else None,
    }
    counters = engine_counters(engines)
    if counters is not None:
        row["engine_counters"] = counters
    if error:
        row["error"] = error
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    return row


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from tunelens.probes import BUDGETS

    parser = argparse.ArgumentParser(
        prog="gpu_scale.py", description=__doc__.split("\n\n", 1)[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--device", default=None, help="torch device (default: cuda; cpu with --tiny)")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model in float32: a smoke run, CPU by default")
    parser.add_argument("--probes", default=None, help="comma-separated probes (default: every registered probe)")
    parser.add_argument("--tokenizer", default=None, help="tokenizer folder (gpu_wheelhouse.sh writes one)")
    parser.add_argument("--budget", default="thorough", choices=BUDGETS, help="item budget (default: thorough)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="gpu_scale.json", help="JSON of the figures (default: gpu_scale.json)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from tunelens.probes import PROBES

    device = args.device or ("cpu" if args.tiny else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(
            "gpu_scale: CUDA is not available here; this benchmark measures a GPU (an H100/H200-class one). "
            "Run it there, or pass --tiny for a CPU smoke run of the same code."
        )
    names = [n.strip() for n in args.probes.split(",") if n.strip()] if args.probes else list(PROBES)
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        sys.exit(f"gpu_scale: unknown probe(s) {', '.join(unknown)}; available: {', '.join(PROBES)}")
    if args.tiny and device == "cpu":
        # A 64-wide model gains nothing from threads, and on a busy machine they wait on each other.
        torch.set_num_threads(1)
    tokenizer = load_bench_tokenizer(args.tokenizer)
    workdir = Path(tempfile.mkdtemp(prefix="gpu_scale-"))
    try:
        return _run(args, device, names, tokenizer, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, device: str, names: list[str], tokenizer: Any, workdir: Path) -> int:
    import torch

    from tunelens.engine import Engine
    from tunelens.probes import PROBES, ProbeContext

    started = time.perf_counter()
    pair = build_pair(tokenizer, device, args.tiny, args.seed, workdir)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    built = time.perf_counter() - started
    info = pair.info
    gpu = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else "CPU"
    dtype = model_dtype(device)
    size, repeats = (8192, 10) if not args.tiny else (1024, 5)
    rate = matmul_rate(device, dtype, size, repeats)
    flop_per_token = 2 * info["non_embedding_parameters"]
    ideal = rate / flop_per_token
    task = demo_task(args.seed)  # as in the demo's audit: the probes that read a spec, and locality's prompts
    t0 = time.perf_counter()

    def progress(message: str) -> None:
        print(f"    [{time.perf_counter() - t0:7.1f} s] {message}", file=sys.stderr, flush=True)

    ctx = ProbeContext(
        Engine(pair.base), Engine(pair.tuned), seed=args.seed, task=task, progress=progress, assume_known=True
    )
    warm_up(pair)
    cfg = info["config"]
    say(
        f"gpu_scale: {info['shape']} ({cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']}, "
        f"{cfg['num_attention_heads']}/{cfg['num_key_value_heads']} heads, MLP {cfg['intermediate_size']}, "
        f"vocabulary {cfg['vocab_size']}), random weights, {info['dtype']} on {gpu} ({device}); "
        f"LoRA rank {LORA_RANK} on {', '.join(t.removesuffix('_proj') for t in LORA_TARGETS)}"
    )
    say(
        f"built on the device in {built:.1f} s: {_count(info['parameters'])} parameters, "
        f"{_count(info['non_embedding_parameters'])} non-embedding, {_count(info['lora_parameters'])} LoRA"
    )
    say(
        f"matmul {size}x{size}x{size} {info['dtype']}: {rate / 1e12:.3g} TFLOP/s -> ideal {ideal:,.0f} tokens/s "
        f"(2 x {_count(info['non_embedding_parameters'])} FLOP per token)"
    )
    say(f"budget {args.budget}, every item (assume_known), task spec: the demo's ({task.name})")
    say(ROW.format("probe", "seconds", "peak GiB", "positions", "tokens/s", "of ideal"))
    rows = []
    for name in names:
        row = run_probe(name, ctx, args.budget, pair, device, ideal)
        rows.append(row)
        say(row_line(row))
    total = sum(r["seconds"] for r in rows)
    positions = sum(r["positions"] for r in rows)
    peak = max((r["peak_gib"] for r in rows), default=0.0)
    total_rate = positions / total if total > 0 else 0.0
    say(
        ROW.format(
            "total", f"{total:.1f}", f"{peak:.2f}", f"{positions:,}", f"{total_rate:,.0f}", f"{total_rate / ideal:.3f}"
        )
    )
    failed = [r["probe"] for r in rows if r.get("error")]
    met = total <= TARGET_SECONDS and not failed
    # The target is about the whole battery, at thorough, on the 8B shape: say when a run is not that.
    caveats = [f"failed: {', '.join(failed)}"] if failed else []
    if set(names) != set(PROBES):
        caveats.append(f"only {len(names)} of {len(PROBES)} probes ran")
    if args.budget != "thorough":
        caveats.append(f"budget {args.budget}")
    if args.tiny:
        caveats.append("tiny smoke run, not the target's model")
    applies = not caveats
    say(
        f"target: whole battery <= {TARGET_SECONDS:.0f} s: {'met' if met else 'missed'} ({total:.1f} s)"
        + ("" if applies else f" [not the target's run: {'; '.join(caveats)}]")
    )
    report = {
        "benchmark": "gpu_scale",
        "device": device,
        "gpu": gpu,
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "peft": _version("peft"),
        "tiny": args.tiny,
        "budget": args.budget,
        "seed": args.seed,
        "model": info,
        "build_seconds": round(built, 3),
        "matmul": {"size": size, "flop_per_s": rate},
        "flop_per_token": flop_per_token,
        "ideal_tokens_per_s": ideal,
        "probes": rows,
        "total_seconds": round(total, 3),
        "total_positions": positions,
        "target_seconds": TARGET_SECONDS,
        "target_met": met,
        "target_applies": applies,
    }
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    say(f"figures: {args.out}")
    return 1 if failed else 0


def _count(n: float) -> str:
    return f"{n / 1e9:.3f} B" if n >= 1e9 else f"{n / 1e6:.3f} M"


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
