"""The import floors of ``siting`` (docs/ARCHITECTURE.md), checked on the source with ``ast``.

A module may import only from its own floor or a lower one; nothing imports ``pipeline``
except the commands (``cli``, ``app``) and the package facade (``siting/__init__.py``); the
graph of top-level imports between modules has no cycle.  Every import counts, also the
ones inside functions (lazy imports are still dependencies).  A new package or top-level
module must be given a floor in :data:`FLOORS` (the test fails until it is).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "siting"

#: floor of each package / top-level module of ``siting`` (lowest first); extend it for a new one
FLOORS: dict[str, int] = {
    # 0: foundations, no stage
    "errors": 0, "i18n": 0, "io": 0, "numformat": 0, "limits": 0, "scenario": 0, "scenario_checks": 0, "manifest": 0,
    "atomic": 0,  # atomic writes (re-exported by io)
    # 1..6: the stages, in pipeline order
    "data": 1,
    "network": 2,
    "access": 3,
    "suitability": 4, "distributed": 4,  # distributed runs network and suitability work on Dask
    "distributed_client": 4,  # finding/starting the cluster, running tasks on it (#19)
    "distributed_partitions": 4,  # worker-built windows of the graph (data -> network on the worker)
    "allocation": 5,
    "report": 6,
    # 7: composition of the stages into commands
    "pipeline": 7, "national": 7, "monitoring": 7, "calibration": 7,
    "stage_memory": 7,  # memory estimates of every stage (#19), from the results of the stages before
    # 8: entry points and the public facade
    "cli": 8, "app": 8, "__init__": 8, "__main__": 8,
}
#: who may import ``siting.pipeline``
PIPELINE_USERS = {"cli", "app", "__init__", "__main__"}
VENDORED = {"static", "templates"}  # assets, not code


def _modules() -> dict[str, Path]:
    """``{"siting.access.stage": path, ...}`` of every Python file of the package."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if VENDORED & set(rel.parts):
            continue
        parts = ["siting", *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str, *, top_level_only: bool = False) -> set[str]:
    """Absolute ``siting.*`` names imported by module ``name`` (``from x import y`` gives
    ``x.y`` when that is a module, else ``x``)."""
    return parse_imports(MODULES[name].read_text(encoding="utf-8"), name, is_package=_is_package(name),
                         top_level_only=top_level_only)


def parse_imports(source: str, name: str, *, is_package: bool = False, top_level_only: bool = False) -> set[str]:
    """The ``siting.*`` imports of the module ``name`` whose text is ``source``."""
    tree = ast.parse(source)
    package = name if is_package else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "siting"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "siting":
                continue
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.add(sub if sub in MODULES else mod)
    return found - {name}


def component(name: str) -> str:
    """``siting.access.stage`` -> ``access``; ``siting`` -> ``__init__``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_and_module_has_a_floor():
    missing = sorted({component(m) for m in MODULES} - set(FLOORS))
    assert not missing, f"give these a floor in tests/test_layering.py FLOORS: {missing}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_stay_on_or_below_the_module_floor(name):
    floor = FLOORS[component(name)]
    upward = sorted(m for m in _imports(name) if FLOORS.get(component(m), 99) > floor)
    assert not upward, f"{name} (floor {floor}) imports from a later floor: {upward}"


def test_nothing_but_the_commands_imports_pipeline():
    users = sorted(m for m in MODULES if "siting.pipeline" in _imports(m) and component(m) not in PIPELINE_USERS)
    assert not users, f"these modules import siting.pipeline: {users}"


def test_the_data_layer_does_not_import_the_report_layer():
    bad = sorted(m for m in MODULES if component(m) in {"data", "scenario", "i18n"}
                 and any(component(i) == "report" for i in _imports(m)))
    assert not bad


def test_no_import_cycles_between_modules():
    graph = {m: {i for i in _imports(m, top_level_only=True) if i in MODULES} for m in MODULES}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, f"import cycles: {cycles[:3]}"


def upward_imports(source: str, name: str) -> list[str]:
    floor = FLOORS[component(name)]
    return sorted(m for m in parse_imports(source, name) if FLOORS.get(component(m), 99) > floor)


def test_the_checker_sees_a_violation():
    """The checker itself, on invented module texts (a test that cannot fail is a defect)."""
    assert upward_imports("from ..report.labels import t\n", "siting.data.fixture") == ["siting.report.labels"]
    assert upward_imports("def f():\n    from ..allocation import MaximalCovering\n", "siting.access.fixture") \
        == ["siting.allocation"]
    assert upward_imports("import siting.pipeline\n", "siting.report.fixture") == ["siting.pipeline"]
    assert upward_imports("from ..errors import UserError\nfrom . import bands\n", "siting.access.fixture") == []
    assert parse_imports("from .stage import x\n", "siting.access", is_package=True) == {"siting.access.stage"}
