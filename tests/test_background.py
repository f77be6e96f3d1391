"""plugin.background: services and web handlers name the jobs they want, and never import them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workers.jobs  # noqa: F401 - registers every job
from plugin import background
from workers.registry import JOBS
from workers.runtime import job_spec

ROOT = Path(__file__).resolve().parents[1]
JOB_NAMES = {name: value for name, value in vars(background).items() if name.isupper()}


@pytest.mark.parametrize("constant", sorted(JOB_NAMES))
def test_every_job_name_is_a_registered_job_of_the_same_name(constant: str) -> None:
    name = JOB_NAMES[constant]
    assert name in JOBS
    assert JOBS[name].func.__name__.upper() == constant


def test_an_unknown_job_name_fails_when_asked_for_not_after_the_commit() -> None:
    with pytest.raises(LookupError, match="not a registered job"):
        job_spec("workers.jobs.codes.no_such_job")


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_no_app_module_imports_a_job_module() -> None:
    # job modules import the services they run: the other way round closes an import circle
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            module for module in _imported_modules(path) if module.startswith("workers.jobs")
        )
        for path in (ROOT / "plugin").rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}
