"""Probes: one module per measurement, registered by name.

Importing this package registers every probe; ``PROBES`` maps names to specs.
"""

# Importing a probe module registers it; this order is the report's order.
from tunelens.probes import (
    facts_vs_patterns,  # noqa: F401
    forgetting,  # noqa: F401, I001
)
from tunelens.probes._registry import PROBES, ProbeContext, ProbeSpec, get_probe, probe

__all__ = ["PROBES", "ProbeContext", "ProbeSpec", "get_probe", "probe"]
