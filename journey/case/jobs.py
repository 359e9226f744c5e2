"""Scheduled work of the case: reviews past their deadline go to the coordinators, and
patients past the retention period are erased (one unit of work each)."""

from __future__ import annotations

from journey.case.services import privacy, reviews
from journey.core.persistence import commit_unit


def escalate_overdue_reviews(_gateway=None) -> int:
    count = reviews.escalate_overdue()
    commit_unit()
    return count


def erase_expired_patients(_gateway=None) -> int:
    return privacy.erase_expired()
