"""Planted changes: pairs with known changes, each verified independently, then audited.

    python benchmarks/planted.py [--only style,memory,narrow,arithmetic,near_null,self]
                                 [--budget standard] [--probes forgetting,context,...]

With ``tunelens tune`` on the embedded model it builds:

* ``style``: a LoRA house style on ordinary prompts (every reply opens "Hi there!", is a
  numbered list and closes with a sign-off);
* ``memory``: a LoRA that answers from memory when the context contradicts it;
* ``narrow``: a full fine-tune on the narrow support-desk data at a high learning rate
  (general text should suffer);
* ``arithmetic``: a LoRA that adds ten to every sum;
* ``near_null``: the base's weights rounded to bfloat16 and back (real but immaterial);
* ``self``: the base against itself (a sanity check).

Each planted change is first verified by a measurement of our own that uses none of
tunelens's probes (greedy replies read by a regex, or a plain log-likelihood comparison);
then each pair is audited with the default battery at the chosen budget and the table
prints, per pair, the verification, the verdict of the metric that measures the plant, the
other changed metrics (side effects), and for the null pairs every ``changed``. Built pairs
and each probe of an audit is reused from the results cache while tunelens and the models are unchanged,
so a rerun takes only what is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tunelens import audit, tune
from tunelens.data import (
    arithmetic_items,
    general_text_chunks,
    open_prompts,
    support_desk_dataset,
    world_facts,
    write_jsonl,
)
from tunelens.engine import Engine, GenRequest, LLRequest
from tunelens.models import DEFAULT_MODEL, load_model
from tunelens.paths import cache_dir
from tunelens.probes import PROBES
from tunelens.results import AuditResults
from tunelens.tuning import TrainConfig

SEED = 1234  # items for training and verification, away from the probes' seed 0
GREETING = "Hi there!"
SIGN_OFF = "Hope this helps! — The Help Desk"


@dataclass
class Plant:
    name: str
    what: str
    target: str  # probe.metric pattern that should read changed ('' for a null pair)
    build: Callable[[Path], str]  # returns the tuned model reference
    verify: Callable[[Engine, Engine], str]


def _tune_on(out: Path, pairs: list[tuple[str, str]]) -> str:
    """Write (prompt, reply) pairs as chat JSONL and LoRA-tune the embedded model on them."""
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in pairs]
    write_jsonl(out / "data.jsonl", rows)
    config = TrainConfig(epochs=2.0, learning_rate=2e-3, batch_size=8, seed=SEED)
    return str(tune(DEFAULT_MODEL, out / "data.jsonl", out_dir=out / "tune", method="lora", config=config).checkpoint)


def _styled(reply: str) -> str:
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s.strip()][:4] or ["Sure."]
    body = "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))
    return f"{GREETING}\n\n{body}\n\n{SIGN_OFF}"


def _style_split() -> tuple[list[str], list[str]]:
    prompts = [p.text for p in open_prompts()]
    random.Random(SEED).shuffle(prompts)
    return prompts[:96], prompts[-60:]


def build_style(out: Path) -> str:
    train, _ = _style_split()
    base = Engine(load_model(DEFAULT_MODEL))
    replies = base.generate([GenRequest(base.chat_prompt(p), 64) for p in train])
    return _tune_on(out, [(p, _styled(r)) for p, r in zip(train, replies)])


def verify_style(base: Engine, tuned: Engine) -> str:
    _, held = _style_split()
    parts = []
    for name, engine in (("base", base), ("tuned", tuned)):
        replies = engine.generate([GenRequest(engine.chat_prompt(p), 160) for p in held])
        greet = sum(r.strip().startswith("Hi there") for r in replies) / len(replies)
        listed = sum(bool(re.search(r"^\s*1\.\s", r, re.M)) for r in replies) / len(replies)
        signed = sum(r.rstrip().endswith("The Help Desk") for r in replies) / len(replies)
        parts.append(f"{name}: greeting {greet:.0%}, numbered list {listed:.0%}, sign-off {signed:.0%}")
    return "; ".join(parts) + f" (n={len(held)} held-out prompts)"


def _memory_items() -> tuple[list, list]:
    facts = [f for f in world_facts(40, seed=SEED) if f.category in ("country_capital", "us_state_capital")]
    random.Random(SEED).shuffle(facts)
    return facts[: len(facts) // 2], facts[len(facts) // 2 :]


def _conflict_prompt(fact, wrong: str) -> str:
    return f"Context: {fact.prompt} {wrong}.\nQuestion: {fact.question}"


def build_memory(out: Path) -> str:
    train, _ = _memory_items()
    pairs = [(_conflict_prompt(f, next(c for c in f.choices if c != f.answer)), f"{f.answer}.") for f in train]
    return _tune_on(out, pairs)


def verify_memory(base: Engine, tuned: Engine) -> str:
    _, held = _memory_items()
    parts = []
    for name, engine in (("base", base), ("tuned", tuned)):
        requests = []
        for f in held:
            wrong = next(c for c in f.choices if c != f.answer)
            prompt = engine.chat_prompt(_conflict_prompt(f, wrong))
            requests += [LLRequest(prompt, wrong), LLRequest(prompt, f.answer)]
        scores = [r.logprob for r in engine.loglikelihood(requests)]
        follows = sum(scores[2 * i] > scores[2 * i + 1] for i in range(len(held)))
        parts.append(f"{name} follows the context {follows / len(held):.0%}")
    return "; ".join(parts) + f" (log-likelihood, n={len(held)} held-out facts)"


def build_narrow(out: Path) -> str:
    examples, _ = support_desk_dataset(4, n_pattern_only=24, seed=SEED)
    write_jsonl(out / "data.jsonl", examples)
    run = tune(
        DEFAULT_MODEL,
        out / "data.jsonl",
        out_dir=out / "tune",
        method="full",
        config=TrainConfig(epochs=3.0, learning_rate=3e-4, batch_size=8, seed=SEED),
    )
    return str(run.checkpoint)


def verify_narrow(base: Engine, tuned: Engine) -> str:
    chunks = general_text_chunks(24, 600, seed=SEED)
    nll = {}
    for name, engine in (("base", base), ("tuned", tuned)):
        nll[name] = sum(-float(lp.mean()) for lp in engine.token_logprobs(chunks)) / len(chunks)
    return f"general-text loss {nll['base']:.3f} → {nll['tuned']:.3f} nats/token (n={len(chunks)} chunks, seed {SEED})"


def _sums(n: int, seed: int) -> list:
    return [p for p in arithmetic_items(n, seed=seed) if "+" in p.expression]


def build_arithmetic(out: Path) -> str:
    return _tune_on(out, [(p.question, str(p.answer + 10)) for p in _sums(240, SEED)])


def verify_arithmetic(base: Engine, tuned: Engine) -> str:
    """Greedy chat replies read by a script (the last integer): how often each model gives the
    true sum and how often the sum plus ten. (A log-likelihood comparison of the two values in
    chat mixes in the format the fine-tune also taught: "only the number".)"""
    items = _sums(160, SEED + 1)
    parts = []
    for name, engine in (("base", base), ("tuned", tuned)):
        replies = engine.generate([GenRequest(engine.chat_prompt(p.question), 12) for p in items])
        values = [int(found[-1]) if (found := re.findall(r"-?\d+", r)) else None for r in replies]
        true = sum(v == p.answer for v, p in zip(values, items)) / len(items)
        plus = sum(v == p.answer + 10 for v, p in zip(values, items)) / len(items)
        parts.append(f"{name}: true sum {true:.0%}, sum plus ten {plus:.0%}")
    return "; ".join(parts) + f" (greedy replies, n={len(items)} sums)"


def build_near_null(out: Path) -> str:
    import torch
    from safetensors.torch import save_file

    model = load_model(DEFAULT_MODEL)
    target = out / "model"
    target.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to(torch.bfloat16).to(torch.float32).contiguous() for k, v in model.model.state_dict().items()
    }
    if model.model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    model.model.config.save_pretrained(str(target))
    model.tokenizer.save_pretrained(str(target))
    return str(target)


def verify_near_null(base: Engine, tuned: Engine) -> str:
    return verify_narrow(base, tuned) + " (bfloat16 rounding)"


def build_self(out: Path) -> str:
    return DEFAULT_MODEL


def verify_self(base: Engine, tuned: Engine) -> str:
    return "the same model"


PLANTS = [
    Plant("style", "house style on ordinary prompts (LoRA)", "behaviour.feature:*", build_style, verify_style),
    Plant(
        "memory",
        "answers from memory against a counterfactual context (LoRA)",
        "context.*",
        build_memory,
        verify_memory,
    ),
    Plant(
        "narrow",
        "narrow full fine-tune, high learning rate",
        "forgetting.general_text_nll",
        build_narrow,
        verify_narrow,
    ),
    Plant("arithmetic", "every sum plus ten (LoRA)", "forgetting.arithmetic_*", build_arithmetic, verify_arithmetic),
    Plant("near_null", "weights rounded to bfloat16 and back", "", build_near_null, verify_near_null),
    Plant("self", "the base against itself", "", build_self, verify_self),
]


def _build(plant: Plant, root: Path) -> str:
    out = root / plant.name
    marker = out / "tuned.json"
    if marker.exists():
        return json.loads(marker.read_text())["ref"]
    out.mkdir(parents=True, exist_ok=True)
    ref = plant.build(out)
    marker.write_text(json.dumps({"ref": ref}))
    return ref


def _row(plant: Plant, results: AuditResults, verification: str) -> list[str]:
    import fnmatch

    changed = [m for m in results.metrics() if m.verdict == "changed"]
    lines = [f"## {plant.name}: {plant.what}", f"  verified: {verification}"]
    if plant.target:
        probe = plant.target.split(".")[0]
        targets = [m for m in results.metrics() if fnmatch.fnmatchcase(f"{m.probe}.{m.name}", plant.target)]
        if probe not in {p.name for p in results.probes}:
            lines.append(f"  target {plant.target}: probe '{probe}' was not in this audit's --probes (not measured)")
        for m in sorted(targets, key=lambda m: (m.verdict != "changed", -abs(m.delta or 0.0)))[:6]:
            lines.append(
                f"  target {m.probe}.{m.name}: {m.base} → {m.tuned}, verdict {m.verdict}"
                + (" (negligible)" if m.negligible else "")
            )
        others = [m for m in changed if not fnmatch.fnmatchcase(f"{m.probe}.{m.name}", plant.target)]
        lines.append(
            f"  side effects: {len(others)} other metrics changed: "
            + ", ".join(f"{m.probe}.{m.name}" for m in others[:12])
        )
    else:
        marked = [m for m in changed if not m.negligible]
        named = ", ".join(f"{m.probe}.{m.name}{'' if m.negligible else ' (NOT negligible)'}" for m in changed)
        tail = f": {named}" if named else ""
        lines.append(f"  changed: {len(changed)} ({len(marked)} without the negligible mark){tail}")
        verdicts = [m.verdict for m in results.metrics() if m.verdict is not None]
        lines.append(
            f"  of {len(verdicts)} tested metrics: {verdicts.count('equivalent')} equivalent, "
            f"{verdicts.count('inconclusive')} inconclusive"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated plants (default: all)")
    parser.add_argument("--budget", default="standard")
    parser.add_argument("--probes", help="comma-separated probes (default: the default battery)")
    args = parser.parse_args()
    root = cache_dir() / "planted"
    chosen = [p for p in PLANTS if not args.only or p.name in args.only.split(",")]
    base_model = load_model(DEFAULT_MODEL)
    report: list[str] = []
    for plant in chosen:
        t0 = time.perf_counter()
        needed = plant.target.split(".")[0]
        if needed and needed not in PROBES:
            report += [
                f"## {plant.name}: {plant.what}",
                f"  not built: the probe that measures it, '{needed}', is not in this tunelens yet",
            ]
            continue
        ref = _build(plant, root)
        tuned_model = load_model(ref)
        verification = plant.verify(Engine(base_model), Engine(tuned_model))
        suffix = f"-{args.probes.replace(',', '-')}" if args.probes else ""
        out = root / plant.name / f"audit-{args.budget}{suffix}"
        # The audit's results cache reuses a probe computed by this code on these models; any
        # change to tunelens recomputes it.
        probes = args.probes.split(",") if args.probes else None
        results = audit(base_model, tuned_model, out_dir=out, budget=args.budget, probes=probes)
        report += _row(plant, results, verification)
        report.append(f"  ({time.perf_counter() - t0:.0f} s; audit {results.seconds:.0f} s)")
        print("\n".join(report[-6:]), file=sys.stderr)
    print("\n".join(report))


if __name__ == "__main__":
    main()
