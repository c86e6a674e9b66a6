"""Probes: one module per measurement, registered by name.

Importing this package registers every probe; ``PROBES`` maps names to specs.
"""

from tunelens.probes._registry import PROBES, ProbeContext, ProbeSpec, get_probe, probe
from tunelens.probes import facts_vs_patterns, forgetting  # noqa: F401  (registers the probes)

__all__ = ["PROBES", "ProbeContext", "ProbeSpec", "get_probe", "probe"]
