"""The dependency direction ``journey -> bookings -> providers -> journey.core``: each
layer imports only itself and the layers to its right, at module level or inside a
function alike (a cycle is fixed by layering, not by a local import)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("journey", "bookings", "providers")

#: What each layer may import of the project (by module prefix).
ALLOWED = {
    "journey.core": ("journey.core",),
    "providers": ("providers", "journey.core"),
    "bookings": ("bookings", "providers", "journey.core"),
}


def layer_of(module: str) -> str | None:
    for layer in ALLOWED:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every import of the project's code in ``path``."""
    package = _module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from journey import mail`` imports journey.mail
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names
                      if module in PROJECT]
    return [(line, m) for line, m in found if m.split(".")[0] in PROJECT]


def violations(path: Path) -> list[str]:
    layer = layer_of(_module_name(path))
    if layer is None:
        return []
    allowed = ALLOWED[layer]
    return [f"{path.relative_to(ROOT)}:{line} imports {module}"
            for line, module in imports_of(path)
            if module not in PROJECT and not any(
                module == a or module.startswith(a + ".") for a in allowed)]


def _sources():
    for package in ("journey/core", "providers", "bookings"):
        yield from sorted((ROOT / package).rglob("*.py"))


def test_every_import_follows_the_direction():
    checked = list(_sources())
    assert len(checked) > 40
    assert [v for path in checked for v in violations(path)] == []


@pytest.mark.parametrize(("layer_file", "source", "bad"), [
    ("providers/x.py", "from bookings.models import Booking\n", True),
    ("providers/x.py", "def f():\n    import journey.builder.models\n", True),
    ("journey/core/x.py", "from providers.models import Offer\n", True),
    ("journey/core/x.py", "from journey import mail\n", True),
    ("bookings/x.py", "from journey.builder import plan\n", True),
    ("bookings/x.py", "from providers.models import Offer\nfrom journey.core import types\n",
     False),
    ("journey/core/accounts/x.py", "from . import models\nfrom ..errors import Forbidden\n",
     False),
])
def test_the_check_catches_an_import_against_the_direction(tmp_path, monkeypatch,
                                                           layer_file, source, bad):
    fake_root = tmp_path
    path = fake_root / layer_file
    path.parent.mkdir(parents=True)
    path.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert bool(violations(path)) is bad, violations(path)


#: The request edge, the CLI commands and the one named helper: the only commits.
COMMITTERS = {"journey/app.py", "journey/cli.py", "journey/core/persistence.py"}


def _commits(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit" and ast.unparse(node.func.value) == "db.session"]


def test_only_the_edge_and_commit_unit_commit():
    found = [f"{path.relative_to(ROOT)}:{line}"
             for package in PROJECT for path in sorted((ROOT / package).rglob("*.py"))
             if str(path.relative_to(ROOT)) not in COMMITTERS
             for line in _commits(path)]
    assert found == [], "services flush; a unit of work that must stand goes through " \
                        "journey.core.persistence.commit_unit"
