"""Scheduled aftercare work."""

from __future__ import annotations


def run_followups() -> int:
    """The job: open the follow-ups that are due (tasks and questionnaires)."""
    return 0
