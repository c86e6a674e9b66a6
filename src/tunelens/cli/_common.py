"""Options several subcommands share."""

from __future__ import annotations

import argparse
import sys

from tunelens.models import LoadOptions


def add_load_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("loading models")
    group.add_argument("--device", help="cpu, cuda, cuda:1, … (default: cuda when available)")
    group.add_argument("--dtype", help="float32, bfloat16 or float16 (default: bfloat16 on GPU, float32 on CPU)")
    group.add_argument("--allow-pickle", action="store_true", help="allow loading pickle (.bin) checkpoints; unsafe")
    group.add_argument("--trust-remote-code", action="store_true", help="run model code from the checkpoint; unsafe")


def load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(
        device=args.device, dtype=args.dtype, allow_pickle=args.allow_pickle, trust_remote_code=args.trust_remote_code
    )


def say(message: str) -> None:
    print(message, flush=True)


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
