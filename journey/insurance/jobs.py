"""The insurers' scheduled work (journey.scheduler's ``insurers`` job): guarantee
requests past their deadline lapse; receivables past their due day escalate once."""

from __future__ import annotations

from journey.insurance.services import guarantees, receivables


def run(_gateway=None) -> int:
    return guarantees.lapse_overdue() + receivables.escalate_overdue()
