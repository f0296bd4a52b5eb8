"""The structure the architecture promises, read from the source (no imports run):

- the engine (src/mlps_scan) names no provider asset type: collectors describe their own assets (questionnaire
  entries, internet-facing endpoints, discovery ports), so a new collector never edits the engine;
- the engine imports no plugin module by name;
- imports (module level and inside functions alike) form no cycle, in the engine or in the plugin trees: the
  engine stays layered, and a collector's modules do not import each other back;
- a check module imports no other check module, only shared `_` helper modules.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

ENGINE = ROOT / "src" / "mlps_scan"
TREES = {"mlps_scan": ENGINE, "mlps_scan.collectors": ROOT / "collectors", "mlps_scan.checks": ROOT / "checks"}

# what a provider's asset type looks like as a literal: `aws.s3.bucket`, `k8s.*`, `host`, `network.`...
PROVIDER_TYPE = re.compile(r"(aws|k8s|host|network|static|database)(\.[A-Za-z0-9_*]*)*")
# literals that look like one but are not an asset type (keep this short: each entry needs a reason)
ALLOWED: set[tuple[str, str]] = set()


def modules() -> dict[str, Path]:
    """Every Python module of the engine and the plugin trees, by its installed name."""
    out = {}
    for package, root in TREES.items():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if package == "mlps_scan" and parts and parts[0] in ("collectors", "checks"):
                continue
            out[".".join([package, *parts])] = path
    return out


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules `name` imports anywhere in its code (relative imports resolved)."""
    package = name if is_package(path) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known}
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def string_literals(tree: ast.AST):
    """String constants of the code, docstrings left out (they describe, they do not decide)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def provider_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.name}:{node.lineno}: {node.value!r}" for node in string_literals(tree)
            if PROVIDER_TYPE.fullmatch(node.value) and (path.name, node.value) not in ALLOWED]


def test_the_engine_names_no_provider_asset_type():
    found = [hit for path in sorted(ENGINE.glob("*.py")) for hit in provider_literals(path)]
    assert not found, "asset types named in the engine (a collector's hook should own them):\n" + "\n".join(found)


def test_the_guard_sees_an_asset_type(tmp_path):
    """The search above can fail: a rule keyed on a provider type is found, a word in a docstring is not."""
    probe = tmp_path / "probe.py"
    probe.write_text('"""Reads aws.s3.bucket, as docs say."""\nKINDS = ("aws.rds.", "k8s.service")\n'
                     'def f(a):\n    return a.type == "host" or a.type.startswith("network.")\n')
    assert [h.split(": ", 1)[1] for h in provider_literals(probe)] == ["'aws.rds.'", "'k8s.service'", "'host'",
                                                                       "'network.'"]


def test_the_engine_imports_no_plugin_module():
    graph = import_graph()
    reach_ins = sorted(f"{m} -> {d}" for m, deps in graph.items() if not m.startswith(("mlps_scan.collectors",
                                                                                       "mlps_scan.checks"))
                       for d in deps if d.startswith(("mlps_scan.collectors", "mlps_scan.checks")))
    assert not reach_ins, reach_ins


def test_imports_form_no_cycle():
    graph = import_graph()
    assert "mlps_scan.collectors.aws.fetch" in graph and "mlps_scan.pipeline" in graph  # the walk saw the trees
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("name", sorted(m for m in modules() if m.startswith("mlps_scan.checks.")
                                        and not m.rpartition(".")[2].startswith("_")))
def test_a_check_module_imports_no_other_check_module(name):
    others = {d for d in import_graph()[name] if d.startswith("mlps_scan.checks.")
              and not d.rpartition(".")[2].startswith("_")}
    assert not others, f"{name} imports {sorted(others)}: move what they share into a `_` module"


def _collector_of(module: str) -> str:
    """collectors/<name>.py, collectors/<name>/... and collectors/<name>_architecture.py belong to <name>."""
    return module.split(".")[2].removesuffix("_architecture")


def test_a_collector_imports_no_other_collector():
    """Collectors meet through the engine's hooks (e.g. `Collector.file_formats` for static files), never by
    importing each other."""
    graph = import_graph()
    reach_ins = sorted(f"{m} -> {d}" for m, deps in graph.items() if m.startswith("mlps_scan.collectors.")
                       for d in deps if d.startswith("mlps_scan.collectors.") and _collector_of(d) != _collector_of(m))
    assert not reach_ins, reach_ins


def test_shipped_data_names_no_path_of_the_machine_that_wrote_it():
    """Data files ship in the wheel: where their content comes from is said in words, not as a local path."""
    local = re.compile(r"(/work/|/home/|/Users/|/root/|/tmp/|[A-Z]:\\\\)")
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in sorted((ENGINE / "data").rglob("*")) + sorted((ENGINE / "templates").rglob("*")) if p.is_file()
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if local.search(line)]
    assert not hits, hits
