"""Shared helpers for the benchmarks: the machine's matmul rate and a description of it."""

from __future__ import annotations

import os
import platform
import time


def matmul_flops(size: int = 1536, repeats: int = 8) -> float:
    """Measured dense float32 matmul rate of this machine, in FLOP/s (best of 3 rounds)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - start))
    return best


def machine() -> str:
    import torch

    return f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"
