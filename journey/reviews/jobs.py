"""Scheduled reviews work."""

from __future__ import annotations

from datetime import datetime

from journey.reviews import mails  # noqa: F401  (registers the e-mail kind)
from journey.reviews.services import invitations


def invite_reviewers(*, now: datetime | None = None) -> int:
    """The job: invite the patients of newly completed journeys to review the members
    that served them, once per journey (safe to run twice). Returns how many were
    queued."""
    return invitations.invite_completed(now=now)
