"""The package's layers, as docs/architecture.md draws them: every import (inside functions too)
goes only where that table allows, bpy stays in the Blender layer, torch in the trainer and the
VLM backends, and no import cycle exists."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from helpers import REPO

PACKAGE = REPO / "transphy3d"
ARCHITECTURE = REPO / "docs" / "architecture.md"
ONLY_IN = {"bpy": ("blender",), "mathutils": ("blender",), "bmesh": ("blender",), "torch": ("dkt", "assets/vlm")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module ``name`` imports, at any depth of its code, as written (absolute names)."""
    path = modules()[name]
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = name.split(".") if is_package else name.split(".")[:-1]
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:  # `from package import module` depends on the module alone
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base)
    return frozenset(out)


def internal_imports(name: str) -> set[str]:
    """The package modules ``name`` imports (each import resolved to the deepest known module)."""
    out = set()
    for imported in imports_of(name):
        parts = imported.split(".")
        while parts and ".".join(parts) not in modules():
            parts.pop()
        if parts and ".".join(parts) != name:
            out.add(".".join(parts))
    return out


def part(name: str) -> str:
    """The part of the package a module belongs to: its top-level module or folder."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "transphy3d"


@cache
def allowed() -> dict[str, set[str]]:
    """The table of docs/architecture.md: part -> the parts it may import."""
    table = ARCHITECTURE.read_text(encoding="utf-8").split("## What each part may import", 1)[1]
    rules = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`").rstrip("/")
        rules[name] = {m.rstrip("/") for m in re.findall(r"`([^`]+)`", cells[2])}
    return rules


def test_every_part_of_the_package_is_in_the_architecture_table() -> None:
    parts = {part(name) for name in modules()}
    assert parts == set(allowed()), f"undocumented: {parts - set(allowed())}, stale: {set(allowed()) - parts}"


def test_imports_follow_the_architecture_table() -> None:
    wrong = []
    for name in modules():
        for imported in internal_imports(name):
            if part(imported) != part(name) and part(imported) not in allowed()[part(name)]:
                wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_heavy_libraries_stay_in_their_layer(library: str) -> None:
    homes = tuple(f"transphy3d.{home.replace('/', '.')}" for home in ONLY_IN[library])
    users = [
        name
        for name in modules()
        if any(i == library or i.startswith(library + ".") for i in imports_of(name))
        and not any(name == home or name.startswith(home + ".") for home in homes)
    ]
    assert not users, f"{library} imported outside {ONLY_IN[library]}: {users}"


def test_no_import_cycles() -> None:
    graph = {name: internal_imports(name) for name in modules()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                cycles.append(" -> ".join([*path[path.index(other) :], other]))
            elif other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_the_checks_catch_what_they_look_for() -> None:
    """The table parser and the cycle finder see real rows and real edges (not vacuous)."""
    assert allowed()["scene"] >= {"geometry", "documents"} and "output" not in allowed()["scene"]
    assert "transphy3d.scene.spec" in internal_imports("transphy3d.scene.sampling")
    assert "bpy" in imports_of("transphy3d.blender.session")
