"""The architecture, checked from the code's own imports.

``datasets/`` imports nothing of the project; ``benchmark/`` imports
``datasets/`` and never a decoder or a developer tool; decoders import the
contract, the harness's assignment and their toolkit; no module imports
itself through a circle, whether its imports sit at module level or inside a
function. Importing every decoder file (what the registry does to list them)
loads none of the heavy libraries a factory imports. No module of the
harness or the datasets layer is over 500 lines, and every package is
installed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmark", "datasets", "decoders", "tools")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module that ``name`` (a module or a name inside one) belongs to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    """Project modules imported by ``module``, at module level or inside functions."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found.update(owner for t in targets if (owner := _owner(t)) and owner != module)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _edges(source: str, target: str) -> list[str]:
    return sorted(
        f"{a} -> {b}"
        for a, targets in GRAPH.items()
        if a.split(".")[0] == source
        for b in targets
        if b.split(".")[0] == target
    )


def test_the_graph_sees_known_imports():
    # the checks below are only as good as the graph: it must see what is certainly there
    assert "benchmark.contract" in GRAPH["benchmark.registry"]
    assert "datasets.adapter" in GRAPH["benchmark.runner"]
    assert "decoders.toolkit.scan" in GRAPH["decoders.lda_peak"]  # an import inside the factory


def test_datasets_import_nothing_of_the_project():
    assert [e for p in ("benchmark", "decoders", "tools") for e in _edges("datasets", p)] == []


def test_the_harness_never_imports_a_decoder_or_a_tool():
    assert _edges("benchmark", "decoders") + _edges("benchmark", "tools") == []


def test_decoders_import_only_the_contract_the_assignment_and_their_toolkit():
    allowed = {"benchmark.contract", "benchmark.assignment"}
    wrong = [e for e in _edges("decoders", "benchmark") if e.split(" -> ")[1] not in allowed]
    assert wrong + _edges("decoders", "tools") == []


def test_no_import_circle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert circles == [], f"modules that import each other in a circle: {circles}"


@pytest.mark.parametrize("heavy", ["pyriemann", "mne", "moabb", "matplotlib"])
def test_listing_the_decoders_imports_no_heavy_library(heavy):
    code = (
        "import sys\n"
        "from benchmark.registry import discover\n"
        "registry = discover(strict=True)\n"
        "assert len(registry.names) > 10, registry.names\n"
        f"print({heavy!r} in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False", (
        f"importing the decoder files loads {heavy}: move that import into the factory "
        "(the registry imports every decoder file to list them)"
    )


def test_no_test_module_imports_another():
    """Shared test code lives in helper modules (tests/synthetic.py, ...) and fixtures in conftest.py."""
    offenders = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            shared = [n for n in names if n.startswith(("tests.test_", "tests.conftest"))]
            offenders += [f"{path.name}: {n}" for n in shared]
    assert offenders == []


#: Longest module of ``benchmark/`` and ``datasets/``: a longer one has several jobs.
MAX_LINES = 500


def test_no_module_of_the_harness_or_the_datasets_layer_has_several_jobs():
    long = {
        name: n
        for name, path in MODULES.items()
        if name.split(".")[0] in ("benchmark", "datasets")
        and (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules by job (at most {MAX_LINES} lines): {long}"


def test_every_package_is_installed():
    """A subpackage missing from pyproject.toml works in an editable install and breaks a wheel."""
    import tomllib

    from setuptools import find_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    installed = set(find_packages(str(ROOT), include=find["include"]))
    packages = {
        name for name, path in MODULES.items() if path.name == "__init__.py" and name.split(".")[0] != "tools"
    }
    assert packages == installed
