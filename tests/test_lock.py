"""``requirements.lock`` and ``pyproject.toml`` say the same thing.

Every install (``make run``, ``make test``, ``make bench``, ``.ci/run``) takes its versions
from the lock, so a dependency added to ``pyproject.toml`` and not locked (or locked and
not declared) would be tested by nobody: ``make lock`` brings them back together.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
HINT = "pyproject.toml and requirements.lock disagree: run `make lock`"

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def parse_lock(text: str) -> dict[str, tuple[str, set[str]]]:
    """``{name: (version, {who asked for it})}`` from a ``uv pip compile`` lock."""
    entries: dict[str, tuple[str, set[str]]] = {}
    current = None
    in_via = False
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            entries[current] = (match["version"], set())
            in_via = False
            continue
        stripped = line.strip()
        if current is None or not stripped.startswith("#"):
            continue
        comment = stripped.lstrip("#").strip()
        if comment.startswith("via"):
            rest = comment[len("via"):].strip()
            in_via = not rest
            if rest:
                entries[current][1].add(rest)
        elif in_via and comment:
            entries[current][1].add(comment)
    return entries


def declared(pyproject: dict) -> list[Requirement]:
    project = pyproject["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return [Requirement(r) for r in requirements]


def disagreements(pyproject: dict, lock_text: str) -> list[str]:
    name = pyproject["project"]["name"]
    locked = parse_lock(lock_text)
    wanted = {canonicalize_name(r.name): r for r in declared(pyproject)}
    direct = {pkg for pkg, (_, via) in locked.items()
              if any(v.startswith(f"{name} (pyproject.toml)") for v in via)}
    problems = [f"declared, not locked: {pkg}" for pkg in sorted(set(wanted) - set(locked))]
    problems += [f"locked as a direct dependency, not declared: {pkg}"
                 for pkg in sorted(direct - set(wanted))]
    for pkg, requirement in sorted(wanted.items()):
        if pkg in locked and not requirement.specifier.contains(locked[pkg][0],
                                                                prereleases=True):
            problems.append(f"{pkg}=={locked[pkg][0]} is outside {requirement}")
        if pkg in locked and pkg not in direct:
            problems.append(f"declared, locked only as another package's dependency: {pkg}")
    return problems


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


@pytest.fixture(scope="module")
def lock_text() -> str:
    return LOCK.read_text()


def test_lock_matches_pyproject(pyproject, lock_text):
    assert disagreements(pyproject, lock_text) == [], HINT


def test_lock_pins_every_package_with_hashes(lock_text):
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock_text.split("\n", 2)[2])
    unhashed = [b.split()[0] for b in blocks if b.strip() and "--hash=sha256:" not in b]
    assert unhashed == []
    assert not re.search(r"^[A-Za-z0-9][^=\n]*(>=|<|~=|\s\\$)", lock_text, re.M)


def test_lock_covers_the_dev_tools(lock_text):
    """The tests, lint and browser tools are locked too, not just the application."""
    assert "--extra dev" in lock_text.splitlines()[1]


def test_a_dependency_added_to_pyproject_only_is_caught(pyproject, lock_text):
    changed = {**pyproject, "project": {**pyproject["project"]}}
    changed["project"]["dependencies"] = [*pyproject["project"]["dependencies"],
                                          "leftpad-nowhere>=1"]
    assert disagreements(changed, lock_text) == ["declared, not locked: leftpad-nowhere"]


def test_a_dependency_removed_from_pyproject_only_is_caught(pyproject, lock_text):
    changed = {**pyproject, "project": {**pyproject["project"]}}
    changed["project"]["dependencies"] = [
        r for r in pyproject["project"]["dependencies"] if not r.startswith("APScheduler")]
    assert disagreements(changed, lock_text) == [
        "locked as a direct dependency, not declared: apscheduler"]


def test_a_range_the_locked_version_leaves_is_caught(pyproject, lock_text):
    version = parse_lock(lock_text)["flask"][0]
    changed = {**pyproject, "project": {**pyproject["project"]}}
    changed["project"]["dependencies"] = [
        f"Flask>{version}" if r.startswith("Flask>") else r
        for r in pyproject["project"]["dependencies"]]
    assert disagreements(changed, lock_text) == [f"flask=={version} is outside Flask>{version}"]
