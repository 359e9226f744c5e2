"""pytest silently ignores a test in a file not named ``test_*.py``, or a function not
named ``test_*``; this fails when that happens, and when a test file collects nothing."""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _files_with_tests():
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [node.name for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        if any(name.startswith("test") for name in names):
            yield path


def test_every_file_with_tests_is_named_for_collection():
    misnamed = [str(p.relative_to(TESTS)) for p in _files_with_tests()
                if not p.name.startswith("test_")]
    assert misnamed == []


def test_every_test_file_was_collected(request):
    if request.config.args and [Path(a).resolve() for a in request.config.args] != [TESTS]:
        pytest.skip("only meaningful when the whole suite is collected")
    collected = {Path(str(item.path)).resolve() for item in request.session.items}
    missing = [str(p.relative_to(TESTS)) for p in TESTS.rglob("test_*.py")
               if p.resolve() not in collected]
    assert missing == []
    assert len(request.session.items) >= 300


def test_no_test_module_imports_another():
    """Shared helpers live in fixture modules (conftest.py, *_fixtures.py, ...): a test
    module imported by another runs its module-level code twice and couples them."""
    offenders = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for imported in filter(None, [module, *names]):
                if imported.startswith("tests.") and \
                        imported.rsplit(".", 1)[-1].startswith("test_"):
                    offenders.append(f"{path.relative_to(TESTS)} imports {imported}")
    assert offenders == []
