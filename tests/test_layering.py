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


# --------------------------------------------------------------------------- the README's layers, suffixes, SDKs


def readme_layers() -> dict[str, int]:
    """The engine's layers as the README's architecture table lists them (row order = bottom to top)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| layer | modules |"):]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    out: dict[str, int] = {}
    for rank, row in enumerate(rows):
        for name in re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", row.split("|")[2])):
            out.setdefault(f"mlps_scan.{name}", rank)
    return out


def upward_imports(graph: dict[str, set[str]], layers: dict[str, int]) -> list[str]:
    return sorted(f"{m} (layer {layers[m]}) -> {d} (layer {layers[d]})" for m, deps in graph.items() if m in layers
                  for d in deps if d in layers and layers[d] > layers[m])


def test_the_engine_imports_only_downwards_in_the_readme_s_layers():
    layers = readme_layers()
    engine = {m for m in modules() if m.startswith("mlps_scan.") and not m.startswith(("mlps_scan.collectors",
                                                                                         "mlps_scan.checks"))}
    engine -= {"mlps_scan", "mlps_scan.__main__"}
    assert engine - set(layers) == set(), f"engine modules missing from the README's layer table: {engine - set(layers)}"
    assert set(layers) - engine == set(), f"the README's layer table names modules that do not exist: {set(layers) - engine}"
    assert upward_imports(import_graph(), layers) == []


def test_the_layer_guard_sees_an_upward_import():
    layers = {"mlps_scan.models": 0, "mlps_scan.runner": 3, "mlps_scan.cli": 5}
    graph = {"mlps_scan.models": {"mlps_scan.runner"}, "mlps_scan.runner": {"mlps_scan.models"}, "mlps_scan.cli": set()}
    assert upward_imports(graph, layers) == ["mlps_scan.models (layer 0) -> mlps_scan.runner (layer 3)"]


def provider_suffixes() -> set[str]:
    """The last parts of the provider asset types the collectors promise (docs/asset-types.md): `.bucket`,
    `.load_balancer`..., so `type.endswith(".bucket")` in the engine is found like `== "aws.s3.bucket"`."""
    types = re.findall(r"`((?:aws|k8s|network|static)\.[a-z0-9_.]+)`", (ROOT / "docs" / "asset-types.md").read_text())
    return {"." + t.rsplit(".", 1)[1] for t in types}


def suffix_literals(path: Path, suffixes: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.name}:{node.lineno}: {node.value!r}" for node in string_literals(tree) if node.value in suffixes]


def test_the_engine_names_no_provider_type_suffix():
    suffixes = provider_suffixes()
    assert {".bucket", ".load_balancer", ".instance"} <= suffixes
    found = [hit for path in sorted(ENGINE.glob("*.py")) for hit in suffix_literals(path, suffixes)]
    assert not found, "provider asset-type suffixes named in the engine:\n" + "\n".join(found)


def test_the_suffix_guard_sees_one(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('def f(a):\n    return a.type.endswith(".bucket")\n')
    assert suffix_literals(probe, provider_suffixes()) == ["probe.py:2: '.bucket'"]


TEMPLATE_LITERAL = re.compile(r"""['"]([^'"\n]+)['"]""")


def template_provider_literals(path: Path, suffixes: set[str]) -> list[str]:
    """Quoted strings in a Jinja template's code that name a provider asset type or a suffix of one."""
    hits = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for block in re.findall(r"{[{%](.*?)[%}]}", line):
            for lit in TEMPLATE_LITERAL.findall(block):
                if PROVIDER_TYPE.fullmatch(lit) or lit in suffixes:
                    hits.append(f"{path.name}:{n}: {lit!r}")
    return hits


def test_the_report_template_names_no_provider_asset_type(tmp_path):
    suffixes = provider_suffixes()
    found = [h for p in sorted((ENGINE / "templates").glob("*")) for h in template_provider_literals(p, suffixes)]
    assert not found, found
    probe = tmp_path / "probe.j2"
    probe.write_text('{% if f.resource_type == "aws.s3.bucket" %}x{% endif %}{{ a.type.endswith(".bucket") }}\n')
    assert template_provider_literals(probe, suffixes) == ["probe.j2:1: 'aws.s3.bucket'", "probe.j2:1: '.bucket'"]


PEER_SDKS = ("boto3", "botocore", "kubernetes", "paramiko", "nmap")


def sdk_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        found += [f"{path.name}:{node.lineno}: {n}" for n in names if n.split(".")[0] in PEER_SDKS]
    return found


def test_the_engine_imports_no_peer_sdk(tmp_path):
    found = [hit for path in sorted(ENGINE.rglob("*.py")) for hit in sdk_imports(path)]
    assert not found, "the engine talks to no peer; collectors do:\n" + "\n".join(found)
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import boto3\n    from kubernetes import client\n    from . import nmap\n")
    assert sdk_imports(probe) == ["probe.py:2: boto3", "probe.py:3: kubernetes"]
