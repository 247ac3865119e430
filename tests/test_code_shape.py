"""Shape rules of the code that a reviewer would otherwise check by hand."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "transphy3d"
MAX_BLENDER_FUNCTION_LINES = 60  # the bpy layer stays thin: stages and helpers, not long scripts


def _long_functions(folder: Path, limit: int) -> list[str]:
    """``file:line name (N lines)`` of every function under ``folder`` longer than ``limit``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(folder)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_in_the_blender_layer_is_over_60_lines() -> None:
    assert _long_functions(PACKAGE / "blender", MAX_BLENDER_FUNCTION_LINES) == []


def test_the_rule_sees_a_long_function(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n" + "    x = 1\n" * 61)
    assert _long_functions(tmp_path, MAX_BLENDER_FUNCTION_LINES) == ["m.py:1 f (62 lines)"]
