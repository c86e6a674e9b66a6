"""Options several subcommands share."""

from __future__ import annotations

import argparse
import sys

from tunelens.models import LoadOptions
from tunelens.models._loader import DEVICE_MAPS, QUANTIZE


def add_load_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("loading models")
    group.add_argument("--device", help="cpu, cuda, cuda:1, … (default: cuda when available)")
    group.add_argument("--dtype", help="float32, bfloat16 or float16 (default: bfloat16 on GPU, float32 on CPU)")
    group.add_argument("--allow-pickle", action="store_true", help="allow loading pickle (.bin) checkpoints; unsafe")
    group.add_argument("--trust-remote-code", action="store_true", help="run model code from the checkpoint; unsafe")
    group.add_argument(
        "--device-map",
        choices=DEVICE_MAPS,
        help="auto: spread a model too large for one GPU over every GPU (then CPU) with accelerate; "
        "replaces --device (needs: pip install accelerate)",
    )
    group.add_argument(
        "--load-in",
        choices=QUANTIZE,
        dest="load_in",
        help="load the weights quantized by bitsandbytes: 8bit (LLM.int8) or 4bit (NF4, bfloat16 compute); "
        "CUDA only (needs: pip install bitsandbytes)",
    )
    group.add_argument(
        "--share-base",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="when the tuned model is a LoRA adapter of the base, load the base once and run the adapter on it, "
        "switched off for the base (one copy of the base weights; default: on when loading onto a GPU)",
    )


def load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(
        device=args.device,
        dtype=args.dtype,
        allow_pickle=args.allow_pickle,
        trust_remote_code=args.trust_remote_code,
        device_map=getattr(args, "device_map", None),
        quantize=getattr(args, "load_in", None),
        share_base=getattr(args, "share_base", None),
    )


def say(message: str) -> None:
    print(message, flush=True)


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
