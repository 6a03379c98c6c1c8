"""The shape of the code: data flows config -> plan -> engine -> results -> store ->
views; each layer imports only what sits before it (issue 11, point 6)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toynn_cli"
THIRD_PARTY_UI = {"click", "rich", "yaml", "matplotlib"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = _modules()


def _under(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


def test_the_layers_exist():
    for package in ("core", "config", "run", "store", "analysis", "view", "cli"):
        assert _under(f"toynn_cli.{package}"), package


@pytest.mark.parametrize("module", _under("toynn_cli.core"))
def test_core_is_numbers_only(module):
    """core/ imports numpy, numba, the standard library and core/ only."""
    for name in _imports(MODULES[module]):
        top = name.split(".")[0]
        assert top not in THIRD_PARTY_UI, f"{module} imports {name}"
        if top == "toynn_cli":
            assert name.startswith("toynn_cli.core"), f"{module} imports {name}"


@pytest.mark.parametrize(
    "module", [m for m in MODULES if not m.startswith(("toynn_cli.cli", "toynn_cli.__main__"))]
)
def test_nothing_imports_the_command_line(module):
    assert not any(n.startswith("toynn_cli.cli") for n in _imports(MODULES[module])), module


@pytest.mark.parametrize("module", _under("toynn_cli.view"))
def test_views_do_not_train(module):
    """A view renders results: it never reaches an executor, an engine registry or a
    training function."""
    imported = _imports(MODULES[module])
    assert not any(n.startswith(("toynn_cli.run", "toynn_cli.core.engines")) for n in imported)
    source = MODULES[module].read_text()
    assert "train_batch" not in source and "weight_path" not in source, module


@pytest.mark.parametrize(
    "module", _under("toynn_cli.store") + _under("toynn_cli.config") + _under("toynn_cli.run")
)
def test_store_config_and_run_print_nothing(module):
    """Only the command line and the views talk to a terminal."""
    imported = _imports(MODULES[module])
    assert not any(n.split(".")[0] in {"click", "rich"} for n in imported), module
    calls = [
        node
        for node in ast.walk(ast.parse(MODULES[module].read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"
    ]
    assert not calls, module
