"""Running schemathesis' engine in-process against the app, every check on, and
reporting what it found (tests/test_api_schema.py says what is asked, and holds the
adjustments and exclusions, each with its reason)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import schemathesis
from hypothesis.strategies._internal import regex as _hypothesis_regex
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.engine import events, from_schema
from schemathesis.transport import wsgi

CHECKED_PHASES = ("examples", "coverage", "fuzzing", "stateful")

# --- workarounds for schemathesis and Hypothesis ---------------------------------------------
#
# schemathesis 4.32's `ignored_auth` check, in the stateful phase, sends its probe through
# the WSGI transport with the socket-level settings of a network session (max_redirects,
# verify, ...), which werkzeug's test client refuses with a TypeError. An in-process call
# has no socket: drop them, as the transport itself does when it is given a session.
_send = wsgi.WSGITransport.send


def _send_in_process(self, case, *, session=None, **kwargs):
    if session is None:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
    return _send(self, case, session=session, **kwargs)


wsgi.WSGITransport.send = _send_in_process


# --- each pattern built once -----------------------------------------------------------------
#
# The document spells its code lists as patterns (journey.core.api.one_of_literally: ~1,500
# language spellings, ~600 time zones, the currencies, the countries). Hypothesis builds a
# strategy for a pattern each time schemathesis asks for one, and schemathesis passes a new
# alphabet object each time, so the cache of `from_regex` never answers: the same hundred
# patterns were parsed and built more than a thousand times a run, for each operation, phase
# and role. What a strategy generates depends only on the pattern (with its flags), whether
# it must match whole, and the characters allowed; built once per such key, it generates
# what a new one would. Without the hook (another Hypothesis), the run is only slower.
_build_regex = getattr(_hypothesis_regex, "regex_strategy", None)
_regex_strategies: dict = {}


def _regex_strategy_once(regex, fullmatch, *, alphabet, **kwargs):
    allowed = getattr(alphabet, "wrapped_strategy", alphabet)  # characters() is lazy
    characters = getattr(getattr(allowed, "intervals", None), "intervals", None)
    if characters is None:  # not a set of characters: nothing to key it by
        return _build_regex(regex, fullmatch, alphabet=alphabet, **kwargs)
    compiled = re.compile(regex)
    key = (compiled.pattern, compiled.flags, fullmatch, characters, tuple(sorted(kwargs.items())))
    if key not in _regex_strategies:
        _regex_strategies[key] = _build_regex(compiled, fullmatch, alphabet=alphabet, **kwargs)
    return _regex_strategies[key]


if _build_regex is not None:
    _hypothesis_regex.regex_strategy = _regex_strategy_once


# --- running it -----------------------------------------------------------------------------

@dataclass
class Report:
    role: str
    requests: int = 0
    seconds: float = 0.0
    by_phase: dict = field(default_factory=dict)
    by_operation: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    excused: int = 0

    def describe(self) -> str:
        lines = [f"{self.role}: {self.requests} requests in {self.seconds:.1f}s "
                 f"{self.by_phase}, {len(self.failures)} failures, {len(self.errors)} "
                 f"errors, {self.excused} state-dependent refusals excused"]
        for failure in self.failures[:30]:
            lines.append("- " + failure)
        lines.extend("! " + error for error in self.errors[:10])
        return "\n".join(lines)


def config(headers: dict, *, phases, max_examples: int, max_time: int | None,
           stateful_examples: int = 20, seed: int = 1, mode: str = "all") -> SchemathesisConfig:
    data = {
        "seed": seed,
        "max-time": max_time,
        "suppress-health-check": ["all"],
        "continue-on-failure": True,
        "workers": 1,
        "headers": headers,
        "checks": {"enabled": True},
        # Nothing written into the checkout and no run learns from an earlier one: neither
        # Hypothesis' example database (.hypothesis/, replayed by the next run) nor
        # schemathesis' cache.
        "generation": {"mode": mode, "max-examples": max_examples, "database": "none"},
        "phases": {**{name: {"enabled": name in phases} for name in CHECKED_PHASES},
                   "stateful": {"enabled": "stateful" in phases,
                                "generation": {"max-examples": stateful_examples}}},
        "output": {"sanitization": {"enabled": False}},
        "cache": {"enabled": False},
    }
    return SchemathesisConfig.from_dict({k: v for k, v in data.items() if v is not None})


def open_to(role: str):
    """Whether an operation is open to ``role`` (its ``x-roles``, none: any caller)."""
    def matches(context) -> bool:
        allowed = context.operation.definition.raw.get("x-roles")
        return allowed is None or role in allowed

    matches.__name__ = f"open_to_{role}"
    return matches


def run(app, role: str, headers: dict, *, phases=CHECKED_PHASES, max_examples: int = 10,
        max_time: int | None = None, only_open: bool = False, mode: str = "all") -> Report:
    """Every phase asked for, every check, as ``headers`` says who asks (on the
    operations open to ``role`` only, when ``only_open``: the others refuse it before
    reading anything, which the runs as other roles and the admin's cover), with data
    the document calls valid, invalid or both (``mode``)."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", app,
        config=config(headers, phases=phases, max_examples=max_examples, max_time=max_time,
                      mode=mode))
    if only_open:
        schema = schema.include(open_to(role))
    report = Report(role)
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            _record(report, event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            report.errors.extend(str(f) for f in event.failures)
    report.seconds = time.monotonic() - started
    return report


def _record(report: Report, event) -> None:
    recorder = event.recorder
    phase = str(getattr(event, "phase", "fuzzing").value if hasattr(
        getattr(event, "phase", None), "value") else "fuzzing")
    report.requests += len(recorder.interactions)
    for interaction in recorder.interactions.values():
        key = f"{phase} {interaction.request.method} {interaction.request.uri.split('?')[0]}"
        report.by_operation[key] = report.by_operation.get(key, 0) + 1
    report.by_phase[phase] = report.by_phase.get(phase, 0) + len(recorder.interactions)
    report.excused += sum(recorder.filtered_failures.values())
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure: Failure = info.failure
            interaction = recorder.interactions.get(case_id)
            answer = ""
            if interaction is not None and interaction.response is not None:
                answer = interaction.response.content[:300].decode(errors="replace")
            report.failures.append(
                f"[{phase}] {check.name}: {failure.operation}: {failure.title}: "
                f"{' | '.join(failure.message.splitlines()[:4])}\n"
                f"    {info.code_sample.strip()[:900]}"
                f"\n    -> {answer}")
