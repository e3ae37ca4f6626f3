"""The design's import direction and transaction rule, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("exchange", "quality", "billing")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", CORE)
def test_core_packages_never_import_flask(package: str) -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _modules(package)
        if _imports(p) & {"flask", "flask_sqlalchemy", "flask_smorest", "werkzeug", "extensions"}
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ("quality", "billing"))
def test_quality_and_billing_call_nothing_above_them(package: str) -> None:
    above = {"exchange", "api", "web", "cli", "app"}
    offenders = [str(p.relative_to(ROOT)) for p in _modules(package) if _imports(p) & above]
    assert offenders == []


@pytest.mark.parametrize("package", CORE)
def test_services_flush_but_never_commit(package: str) -> None:
    offenders = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "commit":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_checker_sees_a_flask_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from flask import g\nimport os\n")
    assert "flask" in _imports(sample)
