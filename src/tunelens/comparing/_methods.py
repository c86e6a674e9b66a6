"""The methods a comparison can run, and the settings each trains with.

A method is a recipe name (``lora``, ``full``, ``svf``) or ``retrieval`` (the facts of the
training data in the prompt, no weight changed), optionally followed by options that
compose with a recipe: ``+ignore-k`` (``+ignore-k=8``: drop the top K% of each step's
updates) and ``+mix`` (``+mix=0.25``: that share of general text in the data). For example
``lora,full+ignore-k,svf,retrieval``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunelens.errors import TunelensError
from tunelens.tuning import RECIPES, MethodOptions

RETRIEVAL = "retrieval"
DEFAULT_METHODS = ("lora", "full", "svf", RETRIEVAL)

COMPARE_LEARNING_RATES = {"lora": 2e-3, "full": 1e-4, "svf": 5e-2}
"""Learning rates for one epoch of batches of 8 on the demo's data (the recipes' own
defaults are gentler and suit longer runs): LoRA and full learn the house style with
these. SVF's z vectors move about one learning rate per Adam step, so 25 steps at 5e-3
left every singular value within about 6% of the base's and taught nothing."""

_OPTION_DEFAULTS = {"ignore-k": 8.0, "mix": 0.25}  # ignore-k: Sun et al. 2025 used 8%


@dataclass(frozen=True)
class MethodSpec:
    """One parsed method of a comparison."""

    text: str
    recipe: str | None  # None for retrieval
    extras: MethodOptions

    @property
    def slug(self) -> str:
        """A folder name for the method's run and audit."""
        return self.text.replace("+", "_").replace("=", "")

    @property
    def changes_weights(self) -> bool:
        return self.recipe is not None


def parse_method(text: str) -> MethodSpec:
    """Parse one method, or raise TunelensError naming what is accepted."""
    name, *options = [part.strip() for part in text.strip().split("+")]
    known = ", ".join([*RECIPES, RETRIEVAL])
    if name == RETRIEVAL:
        if options:
            raise TunelensError(f"method '{text}': retrieval trains nothing, so it takes no +options")
        return MethodSpec(text.strip(), None, MethodOptions())
    if name not in RECIPES:
        raise TunelensError(f"unknown method '{name}' in '{text}'; choose from {known}")
    values: dict[str, float] = {}
    for option in options:
        key, _, raw = option.partition("=")
        if key not in _OPTION_DEFAULTS:
            raise TunelensError(f"unknown option '+{key}' in '{text}'; use +ignore-k[=K] or +mix[=R]")
        try:
            values[key] = float(raw) if raw else _OPTION_DEFAULTS[key]
        except ValueError:
            raise TunelensError(f"'+{option}' in '{text}' needs a number after '='") from None
    extras = MethodOptions(ignore_k=values.get("ignore-k", 0.0), mix_general=values.get("mix", 0.0))
    extras.check(RECIPES[name], "")
    return MethodSpec(text.strip(), name, extras)


def parse_methods(text: str) -> list[MethodSpec]:
    """A comma-separated list of methods, each once."""
    specs = [parse_method(part) for part in text.split(",") if part.strip()]
    if not specs:
        raise TunelensError(f"no methods in '{text}'; e.g. {','.join(DEFAULT_METHODS)}")
    seen: set[str] = set()
    for spec in specs:
        if spec.slug in seen:
            raise TunelensError(f"method '{spec.text}' is listed twice")
        seen.add(spec.slug)
    return specs
