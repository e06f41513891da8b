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


# -- the layers (issue 10) -------------------------------------------------------------------

PACKAGE = CORE.parent
USE_CASES = ("sync.py", "judge.py", "money.py", "decisions.py", "alerts.py", "reports")
FRESHDESK = "sla_tracker.helpdesk.freshdesk"
# The composition roots build the Freshdesk client from the settings; nothing else knows it.
# The web's webhook receiver is Freshdesk's too: it reads its status names (issue 14).
KNOWS_FRESHDESK = ("helpdesk/freshdesk", "cli", "service", "web")


def _modules(*relative: str) -> list[Path]:
    found: list[Path] = []
    for name in relative:
        path = PACKAGE / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` are types only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or ""))
    return found


def _label(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", _modules(*USE_CASES), ids=_label)
def test_use_cases_never_import_presentation_or_the_cli(path: Path) -> None:
    for line, name in _runtime_imports(path):
        assert not name.startswith(("sla_tracker.present", "sla_tracker.cli")), (
            f"{_label(path)}:{line} imports {name}: use cases return data, present/ renders it"
        )


@pytest.mark.parametrize(
    "path",
    [p for p in _modules(".") if not _label(p).startswith("storage/")],
    ids=_label,
)
def test_nothing_outside_storage_builds_sql(path: Path) -> None:
    for line, name in _runtime_imports(path):
        assert name.split(".")[0] not in ("sqlalchemy", "sqlmodel", "alembic"), (
            f"{_label(path)}:{line} imports {name}: queries belong in sla_tracker/storage/"
        )


@pytest.mark.parametrize(
    "path",
    [p for p in _modules(".") if not _label(p).startswith(KNOWS_FRESHDESK)],
    ids=_label,
)
def test_only_the_adapter_and_the_composition_roots_know_freshdesk(path: Path) -> None:
    for line, name in _runtime_imports(path) + [
        (line, name) for line, name in _all_imports(path) if name.startswith(FRESHDESK)
    ]:
        assert not name.startswith(FRESHDESK), (
            f"{_label(path)}:{line} imports {name}: go through sla_tracker.helpdesk instead"
        )


def _all_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    ]
