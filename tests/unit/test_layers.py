"""The package's layering: a module imports only from its own layer or the layers below it.

Every ``.py`` file under ``src/tunelens`` is parsed with :mod:`ast` (nothing is imported),
and every import of a ``tunelens`` module is collected: ``import tunelens.x``, ``from
tunelens.x import y``, relative imports (resolved to absolute names) and imports inside
functions or ``if TYPE_CHECKING:`` blocks alike. ``from tunelens import name`` is resolved
through the package's re-exports and its lazy attributes (``_LAZY`` in ``tunelens/__init__.py``),
so ``from tunelens import audit`` counts as an import of ``tunelens._audit``.

The unit of layering is a *component*: a subpackage (``tunelens.data``) or a top-level module
(``tunelens.summary``); imports within one component are free.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "tunelens"

LAYERS: dict[str, int] = {
    # 0: small helpers that import nothing of tunelens (outdir imports errors)
    "errors": 0,
    "outdir": 0,
    "_version": 0,
    "paths": 0,
    # 1: data sets, statistics, the results schema and the HTML report
    "data": 1,
    "stats": 1,
    "results": 1,
    "report": 1,
    # 2: model references and loading
    "models": 2,
    # 3: generation and weight inspection
    "engine": 3,
    "weights": 3,
    # 4: the probes
    "probes": 4,
    # 5: fine-tuning and pre-training triage
    "tuning": 5,
    "triaging": 5,
    # 6: the audit and its plain-text summary (summary.py needs only results, but it is the
    #    audit's own wording of its results, used by the audit and the demo, so it sits here)
    "_audit": 6,
    "summary": 6,
    "gate": 6,
    "pairing": 6,  # verdicts on another tool's per-sample logs: beside the audit, without a model
    # 7: workflows built on the audit
    "comparing": 7,
    "_checkpoints": 7,  # every checkpoint of a run audited against one base
    "_ray": 7,  # checkpoint audits as Ray tasks
    "demo": 7,
    "evaluating": 7,
    # 8: the command line (__main__.py only calls cli.main)
    "cli": 8,
    "__main__": 8,
}
"""Each component's layer. ``tunelens/__init__.py`` is the public API and may import anything."""

SAME_LAYER: frozenset[tuple[str, str]] = frozenset(
    {
        ("outdir", "errors"),  # outdir raises TunelensError
        ("stats", "results"),  # statistics fill in the results' metrics and verdicts
        ("report", "results"),  # the report renders saved results
        ("_audit", "summary"),  # the audit prints its summary
        ("gate", "summary"),  # the gate's messages describe metrics in the summary's words
        ("pairing", "summary"),  # paired results carry the audit's summary sentences
        ("comparing", "demo"),  # a comparison reuses the demo's configuration and budgets
        ("_checkpoints", "_ray"),  # --ray hands the checkpoints' audits to Ray
        ("tuning", "triaging"),  # tune --method split reads the data's facts through triage
        ("__main__", "cli"),  # ``python -m tunelens``
    }
)
"""The imports allowed between components of one layer (importer, imported), in that direction only."""

KNOWN_UPWARD: dict[tuple[str, str], str] = {
    # models (layer 2) loads a singular-value fine-tuning checkpoint with tuning's reader (layer 5)
    ("models/_loader.py", "tunelens.tuning._svf"): "SVF checkpoints are read by the tuning package",
    # models' retrieval baseline (layer 2) reuses triage's text and fact helpers (layer 5)
    ("models/_retrieval.py", "tunelens.triaging._text"): "retrieval scores passages with triage's stems",
    ("models/_retrieval.py", "tunelens.triaging._examples"): "the fact sheet reads training data like triage",
    ("models/_retrieval.py", "tunelens.triaging._facts"): "the fact sheet uses triage's fact extraction",
}
"""Upward imports that exist today (all inside functions), tolerated until they are moved:
(file under src/tunelens, imported module) -> why it is there. Do not add to this list."""


@dataclass(frozen=True)
class Import:
    file: str  # path under src/tunelens, with "/" separators
    line: int
    statement: str  # the import as written
    module: str  # the absolute module (or root attribute) it reaches


def _module_name(path: Path, src: Path) -> tuple[str, bool]:
    """The dotted name of a file under ``src`` and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _components() -> set[str]:
    """The subpackages and top-level modules of tunelens."""
    found = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    found |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return found


def _root_names() -> dict[str, str]:
    """The names ``tunelens/__init__.py`` offers: its imports and its lazy attributes, with their modules."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets):
                for key, value in zip(node.value.keys, node.value.values):
                    if isinstance(key, ast.Constant) and isinstance(value, ast.Tuple):
                        module = value.elts[0]
                        if isinstance(module, ast.Constant):
                            names[key.value] = module.value
    return names


def _from_root(name: str, components: set[str], root_names: dict[str, str]) -> str:
    """What ``from tunelens import name`` reaches: a component, a re-exported name's module, or the root."""
    if name in components:
        return f"tunelens.{name}"
    return root_names.get(name, "tunelens")


def _imports(path: Path, components: set[str], root_names: dict[str, str], src: Path = SRC) -> list[Import]:
    """Every import of a tunelens module in one file under ``src``, relative ones resolved."""
    name, is_package = _module_name(path, src)
    package = name.split(".") if is_package else name.split(".")[:-1]
    rel = path.relative_to(src / "tunelens").as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tunelens":
                    found.append(Import(rel, node.lineno, f"import {alias.name}", alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.split(".")[0] != "tunelens":
                continue
            names = ", ".join(a.name for a in node.names)
            statement = f"from {'.' * node.level}{node.module or ''} import {names}"
            targets: list[str] = []
            for alias in node.names:
                if module == "tunelens":  # from tunelens import x / from .. import x
                    target = _from_root(alias.name, components, root_names)
                else:  # a submodule when one goes by that name, else a name the module defines
                    folder = src.joinpath(*module.split("."), alias.name)
                    is_module = folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file()
                    target = f"{module}.{alias.name}" if is_module else module
                if target not in targets:
                    targets.append(target)
            found.extend(Import(rel, node.lineno, statement, target) for target in targets)
    return found


def _component(module: str) -> str | None:
    """The component a dotted tunelens module belongs to (None for the root package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _all_imports() -> list[Import]:
    components, root_names = _components(), _root_names()
    paths = sorted(PACKAGE.rglob("*.py"))
    return [imp for path in paths for imp in _imports(path, components, root_names, PACKAGE.parent)]


def _owner(file: str) -> str | None:
    """The component a file under src/tunelens belongs to (None for tunelens/__init__.py)."""
    first = file.split("/")[0]
    if first == "__init__.py":
        return None
    return first.removesuffix(".py")


def test_every_component_has_a_layer() -> None:
    components = _components()
    missing = sorted(components - LAYERS.keys())
    stale = sorted(LAYERS.keys() - components)
    assert not missing, f"place these tunelens packages/modules in a layer (LAYERS in {__name__}): {missing}"
    assert not stale, f"LAYERS names packages/modules that no longer exist: {stale}"


def test_allow_lists_are_consistent() -> None:
    for importer, imported in SAME_LAYER:
        assert LAYERS[importer] == LAYERS[imported], (importer, imported)
        assert (imported, importer) not in SAME_LAYER, f"{importer} and {imported} may not import each other"
    for file, module in KNOWN_UPWARD:
        owner, target = _owner(file), _component(module)
        assert owner is not None and target is not None
        assert LAYERS[owner] < LAYERS[target], f"{file} -> {module} is not upward: drop it from KNOWN_UPWARD"


def test_imports_follow_the_layers() -> None:
    violations: list[str] = []
    for imp in _all_imports():
        owner, target = _owner(imp.file), _component(imp.module)
        if owner is None or owner == target:
            continue  # the package root may import anything; a component imports itself freely
        where = f"src/tunelens/{imp.file}:{imp.line}: `{imp.statement}`"
        if target is None:
            violations.append(f"{where} imports the tunelens root package (layer: top), from {owner} (layer "
                              f"{LAYERS.get(owner)}); import the defining module instead")  # fmt: skip
            continue
        if owner not in LAYERS or target not in LAYERS:
            continue  # reported by test_every_component_has_a_layer
        low, high = LAYERS[owner], LAYERS[target]
        if high < low or (owner, target) in SAME_LAYER or (imp.file, imp.module) in KNOWN_UPWARD:
            continue
        how = "the same layer, not an allowed pair (SAME_LAYER)" if high == low else "an upward import"
        violations.append(
            f"{where} reaches {imp.module}: {owner} is in layer {low}, {target} is in layer {high} ({how})"
        )
    assert not violations, "imports that break the layering:\n" + "\n".join(violations)


def test_known_upward_imports_still_exist() -> None:
    present = {(imp.file, imp.module) for imp in _all_imports()}
    gone = sorted(set(KNOWN_UPWARD) - present)
    assert not gone, f"these upward imports are gone: remove them from KNOWN_UPWARD: {gone}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tunelens.data import TaskSpec\n", "tunelens.data"),
        ("import tunelens.models._loader as loader\n", "tunelens.models._loader"),
        ("from ..results import AuditResults\n", "tunelens.results"),
        ("from . import _common\n", "tunelens.probes._common"),
        ("def f():\n    from tunelens import audit\n", "tunelens._audit"),
        ("from tunelens import errors\n", "tunelens.errors"),
        ("from tunelens.probes import _common, _fake\n", "tunelens.probes._common tunelens.probes._fake"),
        ("from .._version import __version__\n", "tunelens._version"),
        ("import numpy\nfrom torch import nn\n", ""),
    ],
)
def test_imports_are_resolved(tmp_path: Path, source: str, expected: str) -> None:
    """The collector on a file placed in tunelens.probes: absolute, relative, nested and root imports."""
    probe = tmp_path / "tunelens" / "probes" / "_fake.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(source, encoding="utf-8")
    (probe.parent / "_common.py").write_text("", encoding="utf-8")
    found = _imports(probe, {"probes", "errors", "_audit"}, {"audit": "tunelens._audit"}, src=tmp_path)
    assert [imp.module for imp in found] == expected.split()
    assert all(imp.file == "probes/_fake.py" and imp.line >= 1 for imp in found)
