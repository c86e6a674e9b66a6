"""The name under which a model takes and returns its key/value cache.

transformers up to 5.2x calls it ``past_key_values``; later releases call it ``cache``, keep
the old name for a while with a deprecation message, and will then drop it. Every pass that
hands a cache to a model or reads one back goes through :func:`cache_kwargs` and
:func:`cache_of`, so tunelens runs on both sides of the rename without the message.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

OLD, NEW = "past_key_values", "cache"


@functools.cache
def library_name() -> str:
    """The name this transformers release uses: its causal-LM output's field."""
    from transformers.modeling_outputs import CausalLMOutputWithPast

    return NEW if NEW in getattr(CausalLMOutputWithPast, "__dataclass_fields__", {}) else OLD


@functools.cache
def _name_for(forward_owner: type) -> str:
    try:
        params = inspect.signature(forward_owner.forward).parameters
    except (TypeError, ValueError, AttributeError):
        return library_name()
    for name in (NEW, OLD):
        if name in params:
            return name
    # A wrapper that passes **kwargs on (a PEFT model): the library's name.
    return library_name()


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """``{name: cache}`` for ``model(...)``, by the name its forward declares."""
    return {_name_for(type(model)): cache}


def cache_of(output: Any) -> Any:
    """The key/value cache an output carries (None when it carries none)."""
    fields = getattr(type(output), "__dataclass_fields__", {})
    return getattr(output, NEW if NEW in fields else OLD, None)
