"""Every ``why("code", ...)`` in the code names a known reason and gives the parameters
its message needs: a typo in a rarely taken branch would otherwise raise mid-transaction."""

import ast
import re
from pathlib import Path

from bookings.reasons import BOOKING_REASONS
from journey.builder.reasons import JOURNEY_REASONS
from journey.core.reasons import MESSAGES as SHARED

ROOT = Path(__file__).resolve().parents[3]


def _calls():
    for package in ("bookings", "journey", "providers"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "why"):
                    yield path.relative_to(ROOT), node


def test_every_reason_code_used_exists_with_its_parameters(app):
    """(``app``: the app imports every module, and some register their reasons when
    imported; alone in a worker this test would otherwise miss them.)"""
    messages = {**SHARED, **BOOKING_REASONS, **JOURNEY_REASONS}  # read once all registered
    calls = list(_calls())
    assert len(calls) > 30  # the search found the call sites
    wrong = []
    for path, call in calls:
        code = call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) \
            else None
        if not isinstance(code, str):  # a computed code: checked at run time by why()
            continue
        if code not in messages:
            wrong.append(f"{path}:{call.lineno} unknown {code!r}")
            continue
        needed = set(re.findall(r"%\((\w+)\)s", messages[code]._args[0]))
        given = {keyword.arg for keyword in call.keywords} - {"note"}
        if not needed <= given:
            wrong.append(f"{path}:{call.lineno} {code!r} lacks {sorted(needed - given)}")
    assert wrong == []
