"""Probe settings without code: ``--set PROBE.FIELD=VALUE`` and the tables of ``--config FILE.toml``.

A probe's config is a frozen dataclass (``ProbeSpec.config_type``); an override names one of its
fields and gives a value that pydantic validates against the field's type (``"200"`` for an
``int`` field becomes 200; ``"lots"`` is refused). An unknown probe or field is an error that
names the fields that exist.

Precedence, lowest first: the budget of the whole audit (``--budget``; ``--quick`` is
``--budget quick``), a probe's own budget (``[budgets]`` in a config file), the probe's table
in the config file, then ``--set`` on the command line. A probe run with any override records
its budget as ``custom``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tunelens.errors import UsageError
from tunelens.probes._registry import PROBES, ProbeSpec, get_probe

Overrides = dict[str, dict[str, Any]]
"""Probe name -> field -> value."""


def parse_value(text: str) -> Any:
    """A command-line value read as TOML where it is one (``200``, ``0.5``, ``true``, ``[1, 2]``,
    ``"text"``), else the text itself."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set(items: Iterable[str]) -> Overrides:
    """``["forgetting.n_arithmetic=200"]`` -> ``{"forgetting": {"n_arithmetic": 200}}`` (validated later)."""
    out: Overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        probe, dot, field = name.strip().partition(".")
        if not sep or not dot or not probe or not field:
            raise UsageError(f"--set {item!r}: write PROBE.FIELD=VALUE, e.g. forgetting.n_arithmetic=200")
        out.setdefault(probe, {})[field.strip()] = parse_value(value.strip())
    return out


def merge_overrides(*layers: Mapping[str, Mapping[str, Any]]) -> Overrides:
    """Overrides from several sources, a later one winning field by field."""
    out: Overrides = {}
    for layer in layers:
        for probe, fields in layer.items():
            out.setdefault(probe, {}).update(fields)
    return out


def config_fields(spec: ProbeSpec) -> dict[str, Any]:
    """A probe's config fields and their types."""
    hints = typing.get_type_hints(spec.config_type)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(spec.config_type)}


def _unknown_probe(probe: str, where: str) -> UsageError:
    return UsageError(f"{where}: unknown probe '{probe}'; the probes are: {', '.join(PROBES)}")


def check_overrides(overrides: Mapping[str, Mapping[str, Any]], where: str = "--set") -> None:
    """Refuse an unknown probe or field, or a value of the wrong type, before anything runs."""
    for probe, fields in overrides.items():
        if probe not in PROBES:
            raise _unknown_probe(probe, where)
        apply_overrides(get_probe(probe), get_probe(probe).config_for("standard"), fields, where)


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def apply_overrides(spec: ProbeSpec, config: Any, fields: Mapping[str, Any], where: str = "--set") -> Any:
    """``config`` with ``fields`` replaced, each validated against its declared type."""
    known = config_fields(spec)
    changes: dict[str, Any] = {}
    for field, value in fields.items():
        if field not in known:
            raise UsageError(
                f"{where}: {spec.name} has no setting '{field}'; its settings are: {', '.join(known)}"
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value < 0:
                raise UsageError(f"{where}: {spec.name}.{field} = {value!r}: a count or size cannot be negative")
            if value == 0 and all(_positive(getattr(c, field, None)) for c in spec.budgets.values()):
                raise UsageError(
                    f"{where}: {spec.name}.{field} = 0: it is at least 1 at every budget; give 1 or more"
                )
        try:
            changes[field] = TypeAdapter(known[field]).validate_python(value)
        except ValidationError as exc:
            wanted = getattr(known[field], "__name__", str(known[field]))
            raise UsageError(
                f"{where}: {spec.name}.{field} = {value!r} is not a valid {wanted} "
                f"({exc.errors()[0]['msg']}); the default at standard is "
                f"{getattr(spec.config_for('standard'), field)!r}"
            ) from None
    return dataclasses.replace(config, **changes) if changes else config


__all__ = [
    "Overrides",
    "apply_overrides",
    "check_overrides",
    "config_fields",
    "merge_overrides",
    "parse_set",
    "parse_value",
]
