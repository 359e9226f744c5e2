"""The scheduler: APScheduler with its SQLAlchemy job store, run by exactly one process.

``flask scheduler`` runs it in a dedicated process; ``make run`` runs it inside the
development server (``RUN_SCHEDULER=1``). A lease row in the database decides who runs
the jobs: a second scheduler waits until the lease is free instead of running every
job twice. Jobs are referenced by text (``journey.scheduler:run_job``), so the job
store survives restarts, and a job missed while no scheduler ran still runs
(``misfire_grace_time=None``, coalesced).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bookings import jobs as booking_jobs
from bookings.payments import StripeGateway
from journey import accreditations_mail, mail
from journey.aftercare import jobs as aftercare_jobs
from journey.case import jobs as case_jobs
from journey.core.extensions import db
from journey.core.persistence import commit_unit, own_transaction
from journey.core.types import UTCDateTime, utcnow
from journey.figures import rollup
from journey.insurance import jobs as insurance_jobs
from journey.reviews import jobs as reviews_jobs
from journey.trip.services import progress, reminders

logger = logging.getLogger(__name__)
LEASE_SECONDS = 60

#: name -> (callable taking ``gateway``, interval in seconds)
JOBS = {
    "expire_unpaid": (booking_jobs.expire_unpaid, 60),
    "reconcile_payments": (booking_jobs.reconcile_payments, 120),
    "chase_member_deadlines": (booking_jobs.chase_member_deadlines, 600),
    "balance_reminders": (booking_jobs.balance_reminders, 3600),
    "pay_members": (booking_jobs.pay_members, 3600),
    "send_outbox": (lambda _gateway: mail.send_outbox(), 60),
    "escalate_overdue_reviews": (case_jobs.escalate_overdue_reviews, 600),
    "erase_expired_patients": (case_jobs.erase_expired_patients, 86400),
    "advance_journeys": (lambda _gateway: progress.advance_journeys(), 600),
    "trip_reminders": (lambda _gateway: _reminders(), 600),
    "aftercare_followups": (lambda _gateway: aftercare_jobs.run_followups(), 3600),
    "review_invitations": (lambda _gateway: reviews_jobs.invite_reviewers(), 3600),
    "accreditation_expiry_warnings": (accreditations_mail.run_expiry_warnings, 3600),
    "insurers": (insurance_jobs.run, 3600),
    "compact_figures": (lambda _gateway: rollup.compact(), 600),
}

_app: Flask | None = None


def _reminders() -> int:
    queued = reminders.queue_reminders()
    commit_unit()
    return queued


class SchedulerLease(db.Model):
    """Who runs the scheduled jobs, until when."""

    __tablename__ = "scheduler_lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def acquire_lease(owner: str, *, now: datetime | None = None,
                  seconds: int = LEASE_SECONDS) -> bool:
    """Take or renew the lease: one conditional UPDATE (or the first INSERT)."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    with own_transaction() as conn:
        taken = conn.execute(
            update(SchedulerLease).where(SchedulerLease.id == 1).where(
                (SchedulerLease.owner == owner) | (SchedulerLease.expires_at <= now))
            .values(owner=owner, expires_at=until)).rowcount
        if taken:
            return True
        exists = conn.execute(select(SchedulerLease.id).where(SchedulerLease.id == 1)).first()
    if exists:
        return False
    try:
        with own_transaction() as conn:
            conn.execute(insert(SchedulerLease).values(id=1, owner=owner, expires_at=until))
        return True
    except IntegrityError:  # someone else inserted it first
        return False


def release_lease(owner: str) -> None:
    with own_transaction() as conn:
        conn.execute(update(SchedulerLease).where(SchedulerLease.id == 1,
                                                  SchedulerLease.owner == owner)
                     .values(expires_at=utcnow()))


def run_job(name: str) -> int:
    """Run one job inside the scheduler's application (the text reference target)."""
    function, _interval = JOBS[name]
    app = _app
    if app is None:
        raise RuntimeError("the scheduler has not been started")
    with app.app_context():
        try:
            return function(StripeGateway.from_config())
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BackgroundScheduler:
    global _app
    _app = app
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"])},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone="UTC")
    for name, (_function, interval) in JOBS.items():
        scheduler.add_job("journey.scheduler:run_job", "interval", seconds=interval,
                          args=[name], id=name, replace_existing=True)
    return scheduler


def run_forever(app: Flask, *, stop: threading.Event | None = None,
                poll_seconds: float = 5.0) -> None:
    """Wait for the lease, run the jobs while holding it, give it back on the way out."""
    stop = stop or threading.Event()
    owner = owner_name()
    scheduler = None
    try:
        while not stop.is_set():
            with app.app_context():
                holding = acquire_lease(owner)
            if holding and scheduler is None:
                logger.info("scheduler %s: lease taken, running jobs", owner)
                scheduler = build_scheduler(app)
                scheduler.start()
            elif not holding and scheduler is not None:
                logger.warning("scheduler %s: lease lost, pausing", owner)
                scheduler.shutdown(wait=True)
                scheduler = None
            stop.wait(poll_seconds if holding else min(poll_seconds * 2, LEASE_SECONDS / 2))
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        with app.app_context():
            release_lease(owner)


def start_in_background(app: Flask) -> threading.Thread:
    """For ``make run``: the same loop in a daemon thread of the web process."""
    thread = threading.Thread(target=run_forever, args=(app,), name="scheduler", daemon=True)
    thread.start()
    return thread

