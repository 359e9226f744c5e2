"""Scheduled aftercare work."""

from __future__ import annotations

from datetime import datetime

from journey.aftercare.services import followups


def run_followups(*, now: datetime | None = None) -> int:
    """The job: plan the follow-ups of journeys in progress or completed, and open those
    that became due (the treating member's task, the patient's questionnaire), one unit
    of work each. Returns how many were opened."""
    return followups.run(now=now)
