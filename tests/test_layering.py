"""The layers import downwards only: flows → pipelines → warehouse → core (minsheng) and models.
Checked on the source (every import statement, also those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["minsheng", "models"])
def test_core_and_models_import_no_shell(package: str) -> None:
    bad = {
        f"{p.relative_to(ROOT)}: {name}"
        for p in _modules(package) for name in _imports(p)
        if name.split(".")[0] in {"flows", "pipelines", "warehouse"}
    }
    assert not bad, sorted(bad)


def test_pipelines_do_no_duckdb() -> None:
    bad = {f"{p.relative_to(ROOT)}: {name}" for p in _modules("pipelines") for name in _imports(p)
           if name.split(".")[0] == "duckdb"}
    assert not bad, sorted(bad)


def test_production_code_does_not_import_the_demo() -> None:
    """Only the demo flow and the CLI's `demo`/`generate` commands reach the generator."""
    allowed = {ROOT / "flows" / "demo.py", ROOT / "flows" / "cli.py"}
    bad = {
        f"{p.relative_to(ROOT)}: {name}"
        for package in ("minsheng", "models", "pipelines", "warehouse", "flows")
        for p in _modules(package) if p not in allowed and "demo" not in p.relative_to(ROOT).parts[1:2]
        for name in _imports(p) if name.startswith("minsheng.demo")
    }
    assert not bad, sorted(bad)


def test_the_checker_sees_function_level_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from warehouse.resource import Warehouse\n    import duckdb\n")
    assert _imports(source) == {"warehouse.resource", "duckdb"}
