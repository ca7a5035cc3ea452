"""The layers, enforced: who may import whom (docs/architecture.md).

.. code-block:: text

    protocol/  the Sans-I/O core      imports nothing of the package but exceptions
    engine/    asyncio, aiohttp       imports no reactivex
    sandbox/   the emulator           imports protocol/ and exceptions only, not even
                                      for types; its actions/ are pure, and only
                                      the facade's own modules import server.py
    testing/   the pytest plugin      above the client and the sandbox; nothing
                                      imports it
    and no module-level import cycle anywhere in the package (none at all,
    type-only imports included, in the sandbox).

Each import check runs in a fresh interpreter in which ``rxlivechat`` is an
empty package, so only what the probed module itself imports gets loaded.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rxlivechat

PACKAGE = Path(rxlivechat.__file__).resolve().parent


def loaded_by(*modules: str) -> set[str]:
    """The modules importing ``modules`` loads (package-internal ones by name)."""
    imports = "".join(f"import {module}\n" for module in modules)
    probe = f"{imports}print('\\n'.join(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", _isolated(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_protocol_imports_no_io_no_rx_and_nothing_above_it() -> None:
    modules = loaded_by("rxlivechat.protocol")
    assert not {"asyncio", "aiohttp", "reactivex"} & modules
    ours = {m for m in modules if m.startswith("rxlivechat.")}
    outside = {
        m
        for m in ours
        if not m.startswith("rxlivechat.protocol") and m != "rxlivechat.exceptions"
    }
    assert outside == set()


def test_the_engine_imports_no_reactivex() -> None:
    modules = loaded_by("rxlivechat.engine")
    assert "reactivex" not in modules
    assert not {m for m in modules if m.startswith("rxlivechat.methods")}


def test_the_sandbox_imports_nothing_of_the_client() -> None:
    sandbox = [m for m in _modules() if m.startswith("rxlivechat.sandbox")]
    loaded = loaded_by(*sandbox)
    ours = {m for m in loaded if m.startswith("rxlivechat.")}
    assert {m for m in ours if not _in_the_sandbox_layer(m)} == set()
    assert "reactivex" not in loaded
    assert "pytest" not in loaded


def test_no_sandbox_module_names_the_client_even_for_types() -> None:
    outside = {
        f"{name} -> {target}"
        for name, path in _modules().items()
        if name.startswith("rxlivechat.sandbox")
        for target in _imports(name, path, types=True)
        if not _in_the_sandbox_layer(target)
    }
    assert outside == set()


def test_the_sandbox_actions_are_pure() -> None:
    # (Importing them loads the sandbox package first: read the sources instead.)
    modules = _modules()
    reached = {m for m in modules if m.startswith("rxlivechat.sandbox.actions")}
    todo = list(reached)
    while todo:
        name = todo.pop()
        for target in _imports(name, modules[name], types=True):
            if not name.startswith(target + ".") and target not in reached:
                reached.add(target)
                todo.append(target)
    io = {
        f"{name} imports {root}"
        for name in reached
        for root in _external(modules[name])
        if root in ("asyncio", "aiohttp", "socket", "ssl")
    }
    assert io == set()
    glue = ("rxlivechat.sandbox.http", "rxlivechat.sandbox.server")
    assert {m for m in reached if m.startswith(glue)} == set()
    assert "rxlivechat.sandbox.store" in reached  # the walk did walk


def test_only_the_facade_imports_the_sandbox_server() -> None:
    # The transports, the agents and the console know it by narrow protocols.
    facade = {
        "rxlivechat.sandbox",  # exports it
        "rxlivechat.sandbox.cli",  # serves it
        "rxlivechat.sandbox.sync",  # the blocking facade over it
    }
    importers = {
        name
        for name, path in _modules().items()
        if name.startswith("rxlivechat.sandbox")
        and {"rxlivechat.sandbox.server", "rxlivechat.sandbox"}
        & _imports(name, path, types=True)
    }
    assert importers <= facade


def test_the_sandbox_has_no_import_cycle_even_for_types() -> None:
    graph = {
        name: _imports(name, path, types=True)
        for name, path in _modules().items()
        if name.startswith("rxlivechat.sandbox")
    }
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_no_sandbox_module_is_over_700_lines() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if name.startswith(("rxlivechat.sandbox", "rxlivechat.testing"))
        if (n := len(path.read_text().splitlines())) > 700
    }
    assert long == {}


def test_nothing_imports_the_testing_package() -> None:
    importers = {
        name
        for name, path in _modules().items()
        if not name.startswith("rxlivechat.testing")
        if any(t.startswith("rxlivechat.testing") for t in _imports(name, path))
    }
    assert importers == set()


def test_there_is_no_import_cycle() -> None:
    graph = {name: _imports(name, path) for name, path in _modules().items()}
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "a.x": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"a.x"}, "a.x": {"a"}}) is None  # parent first


# Helpers --------------------------------------------------------------------------


def _isolated(code: str) -> str:
    """Prefix ``code`` so ``rxlivechat`` is an empty package: no SDK imports run."""
    return (
        "import sys, types, importlib.util, pathlib\n"
        "spec = importlib.util.find_spec('rxlivechat')\n"
        "root = pathlib.Path(spec.origin).parent\n"
        "pkg = types.ModuleType('rxlivechat'); pkg.__path__ = [str(root)]\n"
        "sys.modules['rxlivechat'] = pkg\n" + code
    )


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _in_the_sandbox_layer(module: str) -> bool:
    """Whether the sandbox may import ``module``: its own, protocol/, exceptions."""
    return module.startswith(("rxlivechat.sandbox", "rxlivechat.protocol")) or (
        module == "rxlivechat.exceptions"
    )


def _imports(name: str, path: Path, *, types: bool = False) -> set[str]:
    """The package modules ``name`` imports at module level (not inside
    functions; under ``TYPE_CHECKING`` too only with ``types``)."""
    known = _modules()
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    nodes = list(ast.parse(path.read_text()).body)
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            if types:
                nodes.extend(node.body)
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (
                f"{base}.{node.module}" if node.level and node.module else node.module
            )
            target = target or base
            if target not in known:
                continue
            found.add(target)
            for alias in node.names:  # `from . import events`: a module
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
    found.discard(name)
    return found


def _external(path: Path) -> set[str]:
    """The top-level names of the absolute imports anywhere in a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name.partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.partition(".")[0])
    return found


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            # A package's __init__ importing its own submodules is not a cycle
            # back: Python imports the parent package before any submodule.
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None
