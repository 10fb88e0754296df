"""The package's import graph holds its layering: each module imports only from its own layer and
the layers the table below lets it, and no two modules import each other, directly or around.

Read from the source (ast), every import counted (at the top, in a function, under TYPE_CHECKING):
an import in a function still makes the importer depend on the imported, and two modules that
need each other have no order to be read, tested or split in. The table is written once; a module
belongs to the layer of the longest prefix that names it, so a new module of a layer's package
(quadlet/, security/, parsers/compose/) needs no new row.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "phoenix_compliance"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# layer: the module prefixes it holds (a module is in the layer of the longest prefix naming it).
LAYERS: dict[str, tuple[str, ...]] = {
    # Podman's, systemd's and compose's value grammars: one reading of every value.
    "grammar": ("grammar",),
    # Plain vocabularies: phases, severities, the rule schema.
    "vocabulary": ("catalogue", "rules"),
    "redact": ("redact",),
    "publish": ("publish",),
    "bundled": ("bundled",),
    # Users' files read with their lines, bounded.
    "sources": ("parsers.yamlmarks",),
    # Quadlet itself: unit files, release tables, value readers, discovery, service names.
    "quadlet": ("quadlet",),
    "parsers": ("parsers",),
    "lint": ("quadlet_lint",),
    "security": ("security",),
    "transport": ("transport",),
    "facts": ("facts",),
    "checks": ("checks",),
    "report": ("report",),
    "convert": ("convert",),
    # The operator's plan: a verified result's failures as shell steps.
    "plan": ("plan",),
    "run": ("run",),
    "plugin": ("plugin",),
    "cli": ("cli",),
    "refhost": ("refhost",),
    # The package's own __init__ (only it): the public names, imported when asked for.
    "api": ("",),
}

_PLAIN = {"grammar", "vocabulary", "redact", "sources"}
# layer: the layers it may import besides its own. Bottom first.
ALLOWED: dict[str, set[str]] = {
    "grammar": set(),
    "vocabulary": set(),
    "publish": set(),
    "bundled": set(),
    "redact": {"grammar"},
    "sources": {"grammar"},
    "quadlet": {"grammar", "sources"},
    # The manifest names a unit's service as Quadlet does; substitution withholds the secrets it resolves.
    "parsers": {"grammar", "sources", "quadlet", "redact"},
    # The stack profile's labelling rules are the security rules' own judgement.
    "lint": _PLAIN | {"quadlet", "security"},
    "security": _PLAIN | {"quadlet", "parsers"},
    "transport": _PLAIN,
    # The facts lint the host's Quadlet folder once for PHX-3.02 (quadlet_lint.lint_found).
    "facts": _PLAIN | {"quadlet", "parsers", "lint", "security", "transport"},
    "checks": _PLAIN | {"parsers", "facts"},
    "report": _PLAIN | {"publish"},
    "convert": _PLAIN | {"quadlet", "parsers", "security", "publish"},
    "plan": _PLAIN | {"parsers", "report"},
    "run": _PLAIN | {"publish", "bundled", "quadlet", "parsers", "transport", "facts", "checks", "report"},
    "plugin": _PLAIN | {"parsers", "facts", "checks", "report", "run"},
    # check imports the plugin before pytest starts (so pytest does not rewrite the package).
    "cli": _PLAIN | {"publish", "bundled", "quadlet", "parsers", "lint", "report", "convert", "plan", "run", "plugin"},
    "refhost": _PLAIN | {"bundled", "parsers"},
    "api": {"vocabulary", "checks", "facts", "parsers"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> str:
    best, length = "", -1
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            full = f"{PACKAGE}.{prefix}" if prefix else PACKAGE
            within = module == full or (bool(prefix) and module.startswith(full + "."))
            if within and len(full) > length:
                best, length = layer, len(full)
    return best


def _imported(module: str, path: Path) -> Iterator[str]:
    """The package's modules this one imports; `from package import name` is the submodule
    when there is one, else the package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            names = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source for alias in node.names
            ]
        else:
            continue
        for name in names:
            # `import a.b.c` of a module: the deepest module it names.
            while name and name not in MODULES and "." in name:
                name = name.rpartition(".")[0]
            if name in MODULES and name != module:
                yield name


GRAPH = {module: sorted(set(_imported(module, path))) for module, path in MODULES.items()}


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


class TestLayering:
    def test_the_table_names_every_layer_once(self) -> None:
        assert set(ALLOWED) == set(LAYERS)
        for layer, allowed in ALLOWED.items():
            assert allowed <= set(LAYERS), f"{layer} may import unknown layers {allowed - set(LAYERS)}"
            assert layer not in allowed, layer

    def test_the_table_is_an_order(self) -> None:
        # No two layers may import each other, around any number of layers.
        assert _cycles({layer: sorted(allowed) for layer, allowed in ALLOWED.items()}) == []

    def test_every_module_has_a_layer(self) -> None:
        assert len(MODULES) > 50  # the walk found the package
        assert [module for module in MODULES if not layer_of(module)] == []

    def test_imports_go_only_where_the_table_allows(self) -> None:
        wrong = [
            f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
            for module, targets in GRAPH.items()
            for target in targets
            if layer_of(target) != layer_of(module) and layer_of(target) not in ALLOWED[layer_of(module)]
        ]
        assert wrong == []

    def test_no_import_cycle(self) -> None:
        assert _cycles(GRAPH) == []

    @pytest.mark.parametrize(
        ("graph", "expected"),
        [
            ({"a": ["b"], "b": ["a"], "c": ["a"]}, [["a", "b"]]),
            ({"a": ["b"], "b": ["c"], "c": ["a"]}, [["a", "b", "c"]]),
            ({"a": ["b"], "b": [], "c": ["a", "b"]}, []),
        ],
    )
    def test_the_cycle_finder(self, graph: dict[str, list[str]], expected: list[list[str]]) -> None:
        assert _cycles(graph) == expected

    def test_the_layer_of_a_module(self) -> None:
        assert layer_of("phoenix_compliance.quadlet.unitfile") == "quadlet"
        assert layer_of("phoenix_compliance.quadlet_lint.engine") == "lint"
        assert layer_of("phoenix_compliance.security.ports") == "security"
        assert layer_of("phoenix_compliance.parsers.compose.model") == "parsers"
        assert layer_of("phoenix_compliance") == "api"
        assert layer_of("phoenix_compliance.unlisted") == ""
