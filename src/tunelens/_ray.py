"""Checkpoint audits as Ray tasks (the ``ray`` extra): ``tunelens audit BASE --checkpoints RUN --ray``.

Each checkpoint's audit is one task holding one GPU when the cluster has GPUs, else one CPU
(Ray then limits the task's threads; tunelens sets torch's thread count to the driver's, so a
task computes exactly what the serial run computes). The first checkpoint runs alone, so
the base model's memo of every probe is in the results cache before the others start and the
base's side is computed once, as in the serial run; the rest run side by side.

The tasks read and write the results cache (``$TUNELENS_RESULTS_CACHE``, passed to every
worker): on a local cluster, or a cluster sharing that folder, the later tasks replay the
base; on nodes that do not share it, each recomputes the base's side (the numbers are the same).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.results import AuditResults


def _audit_task(base: str, ref: str, out_dir: str, shared: dict[str, Any], checkpoint: Any, threads: int) -> str:
    """One checkpoint's audit inside a Ray worker; returns results.json's text."""
    import torch

    from tunelens._audit import audit

    if threads > 0:
        torch.set_num_threads(threads)
    results = audit(base, ref, out_dir=out_dir, checkpoint=checkpoint, report=False, **shared)
    return results.model_dump_json()


def _connect(address: str) -> Any:
    try:
        import ray
    except ImportError:
        raise TunelensError(
            "--ray needs Ray: pip install 'tunelens[ray]' (or pip install ray); without --ray the checkpoints are "
            "audited one after another"
        ) from None
    env = {k: v for k, v in os.environ.items() if k.startswith(("TUNELENS_", "HF_", "TRANSFORMERS_"))}
    if not ray.is_initialized():
        try:
            if address == "local":
                ray.init(runtime_env={"env_vars": env}, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise TunelensError(f"--ray {address}: could not connect to the Ray cluster: {exc}") from None
    return ray


def audit_on_ray(
    base: str,
    chosen: Sequence[Any],
    infos: Sequence[Any],
    folders: Sequence[str],
    out: Path,
    shared: dict[str, Any],
    address: str,
    progress: Callable[[str], None],
) -> list[AuditResults]:
    """Audit every checkpoint of ``chosen`` (each with its ``CheckpointInfo`` in ``infos``) as a
    Ray task; results in the checkpoints' order."""
    import torch

    ray = _connect(address)
    gpus = ray.cluster_resources().get("GPU", 0)
    resources = {"num_gpus": 1} if gpus >= 1 else {"num_cpus": 1}
    threads = 0 if gpus >= 1 else torch.get_num_threads()
    task = ray.remote(**resources)(_audit_task)
    clean = {k: v for k, v in shared.items() if k != "progress"}

    def submit(i: int) -> Any:
        return task.remote(base, chosen[i].ref, str(out / folders[i]), clean, infos[i], threads)

    where = f"{int(gpus)} GPUs" if gpus >= 1 else f"{int(ray.cluster_resources().get('CPU', 0))} CPUs"
    progress(f"ray: checkpoint 1 of {len(chosen)} first (it fills the base's memo), on a cluster with {where}")
    texts = [ray.get(submit(0))]
    if len(chosen) > 1:
        progress(f"ray: the other {len(chosen) - 1} checkpoints side by side")
        texts += ray.get([submit(i) for i in range(1, len(chosen))])
    return [AuditResults.model_validate_json(t) for t in texts]


__all__ = ["audit_on_ray"]
