"""The methods a comparison can run, and the settings each trains with.

A method is a recipe name (``lora``, ``full``, ``svf``), ``retrieval`` (the facts of the
training data in the prompt, no weight changed) or ``split`` (``split:lora``, ``split:full``,
``split:svf``: the patterns trained, the facts retrieved; ``tune --method split``),
optionally followed by options that compose with a recipe: ``+ignore-k`` (``+ignore-k=8``:
drop the top K% of each step's updates) and ``+mix`` (``+mix=0.25``: that share of general
text in the data); a split also takes ``+strip`` or ``+copy`` (its mode). For example
``lora,full+ignore-k,svf,retrieval,split``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunelens.errors import TunelensError
from tunelens.tuning import RECIPES, SPLIT, SPLIT_MODES, MethodOptions, split_recipe
from tunelens.tuning._split import DEFAULT_SPLIT_MODE

RETRIEVAL = "retrieval"
DEFAULT_METHODS = ("lora", "full", "svf", RETRIEVAL, SPLIT)

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
    recipe: str | None  # None for retrieval; the weight method under a split
    extras: MethodOptions
    split_mode: str | None = None  # copy or strip for a split, else None

    @property
    def slug(self) -> str:
        """A folder name for the method's run and audit."""
        return self.text.replace("+", "_").replace("=", "").replace(":", "-")

    @property
    def changes_weights(self) -> bool:
        return self.recipe is not None

    @property
    def tune_method(self) -> str:
        """The ``tune`` method that trains it: the recipe, or ``split:RECIPE``."""
        assert self.recipe is not None
        return f"{SPLIT}:{self.recipe}" if self.split_mode else self.recipe


def parse_method(text: str) -> MethodSpec:
    """Parse one method, or raise TunelensError naming what is accepted."""
    name, *options = [part.strip() for part in text.strip().split("+")]
    known = ", ".join([*RECIPES, RETRIEVAL, SPLIT, *(f"{SPLIT}:{r}" for r in RECIPES)])
    if name == RETRIEVAL:
        if options:
            raise TunelensError(f"method '{text}': retrieval trains nothing, so it takes no +options")
        return MethodSpec(text.strip(), None, MethodOptions())
    split_mode = None
    if (under := split_recipe(name)) is not None:
        modes = [o for o in options if o in SPLIT_MODES]
        if len(modes) > 1:
            raise TunelensError(f"method '{text}': choose one split mode of {', '.join(SPLIT_MODES)}")
        split_mode = modes[0] if modes else DEFAULT_SPLIT_MODE
        options = [o for o in options if o not in SPLIT_MODES]
        name = under
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
    return MethodSpec(text.strip(), name, extras, split_mode)


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
