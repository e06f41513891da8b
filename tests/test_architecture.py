"""The pure core stays pure: no I/O, no environment, no clock (STYLE.md §5.2)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "sla_tracker" / "core"
ALLOWED_MODULES = {
    "__future__",
    "bisect",
    "calendar",  # the stdlib module: month lengths
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "itertools",
    "math",
    "re",
    "threading",
    "typing",
    "unicodedata",
    "zoneinfo",
}
FORBIDDEN_METHODS = {"now", "today", "utcnow", "monotonic", "perf_counter", "getenv"}
FORBIDDEN_FUNCTIONS = {"open", "input", "print"}


def _core_files() -> list[Path]:
    return sorted(CORE.glob("*.py"))


@pytest.mark.parametrize("path", _core_files(), ids=lambda path: path.name)
def test_core_imports_only_pure_modules(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            allowed = name.split(".")[0] in ALLOWED_MODULES or name.startswith("sla_tracker.core")
            assert allowed, f"{path.name}:{node.lineno} imports {name}, which core must not use"


@pytest.mark.parametrize("path", _core_files(), ids=lambda path: path.name)
def test_core_never_reads_the_clock_or_files(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            assert func.attr not in FORBIDDEN_METHODS, (
                f"{path.name}:{node.lineno} calls .{func.attr}(): take it as an argument"
            )
        elif isinstance(func, ast.Name):
            assert func.id not in FORBIDDEN_FUNCTIONS, (
                f"{path.name}:{node.lineno} calls {func.id}()"
            )
