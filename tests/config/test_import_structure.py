"""Imports run one way, `panels -> agents, rag -> llm -> tenants -> config`, and no
module imports another that (directly or through others) imports it back.

Only module-level imports count: an import inside a function runs when it is called (a
service enqueueing its own task imports the task there, on purpose).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "tenants", "llm", "agents", "rag", "panels")
# An app may import its own layer and the layers below it.
LAYER = {"config": 0, "tenants": 1, "llm": 2, "agents": 3, "rag": 3, "panels": 4}
# The composition root: modules that wire every app together (URLs, health checks, the
# operations commands). Nothing imports them but Django itself.
COMPOSITION_ROOT = ("config.urls_public", "config.urls_tenant", "config.health", "config.demo",
                    "config.management.")


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def module_level_imports(path: Path, modules: dict[str, Path], name: str) -> set[str]:
    """Project modules imported at module level (function and class bodies skipped)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(nodes):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(resolve(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.add(resolve(base))
                found.update(resolve(f"{base}.{alias.name}") for alias in node.names)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) if not isinstance(node, (ast.Import, ast.ImportFrom)) else [])

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    visit(ast.parse(path.read_text()).body)
    found.discard(None)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: module_level_imports(path, modules, name) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_module_imports_itself_back():
    assert cycles(import_graph()) == []


def test_imports_run_one_way_between_apps():
    backwards = []
    for name, targets in import_graph().items():
        if name.startswith(COMPOSITION_ROOT):
            continue
        app = name.split(".")[0]
        for target in targets:
            target_app = target.split(".")[0]
            if LAYER[target_app] > LAYER[app] or (LAYER[target_app] == LAYER[app] and target_app != app):
                backwards.append(f"{name} -> {target}")
    assert sorted(backwards) == []


def test_the_checker_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_names_that_tenants_validate_are_the_registries():
    from dataclasses import fields

    from llm.providers import CHAT_PROVIDERS
    from panels.types import REGISTRY
    from tenants.configuration import LLM_PROVIDER_NAMES, PANEL_TYPE_NAMES, Features

    assert list(REGISTRY) == list(PANEL_TYPE_NAMES)
    assert set(PANEL_TYPE_NAMES) <= {field.name for field in fields(Features)}
    assert list(CHAT_PROVIDERS) == list(LLM_PROVIDER_NAMES)
