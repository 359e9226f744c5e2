"""One scheduler at a time (a lease in the database), jobs referenced by text."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect

from journey.core.extensions import db
from journey.core.types import utcnow
from journey.scheduler import (
    JOBS,
    acquire_lease,
    build_scheduler,
    release_lease,
    run_forever,
    run_job,
)


def test_only_one_owner_holds_the_lease(app):
    with app.app_context():
        now = utcnow()
        assert acquire_lease("a", now=now)
        assert not acquire_lease("b", now=now)
        assert acquire_lease("a", now=now + timedelta(seconds=30))  # renewal
        # An owner that died: its lease runs out and another takes over.
        assert acquire_lease("b", now=now + timedelta(seconds=200))
        assert not acquire_lease("a", now=now + timedelta(seconds=201))
        release_lease("b")
        assert acquire_lease("a")


def test_jobs_are_stored_by_text_and_run_in_the_app(app, make):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    assert all(job.func_ref == "journey.scheduler:run_job" for job in jobs.values())
    # With nothing to do, each job runs and changes nothing (idempotent).
    assert run_job("expire_unpaid") == 0


@pytest.mark.commits  # two schedulers in threads, the lease in its own transactions
def test_a_second_scheduler_waits_instead_of_running_the_jobs(app):
    stop_first, stop_second = threading.Event(), threading.Event()
    first = threading.Thread(target=run_forever, args=(app,),
                             kwargs={"stop": stop_first, "poll_seconds": 0.2})
    first.start()
    try:
        with app.app_context():
            for _ in range(50):
                if not acquire_lease("probe"):
                    break
                release_lease("probe")
                stop_first.wait(0.1)
            assert not acquire_lease("second scheduler")  # the first one holds it
            for _ in range(50):  # and runs the jobs from the SQLAlchemy job store
                if "apscheduler_jobs" in inspect(db.engine).get_table_names():
                    break
                stop_first.wait(0.1)
            assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
    finally:
        stop_first.set()
        first.join(timeout=20)
    with app.app_context():
        assert acquire_lease("second scheduler")  # released on the way out
        release_lease("second scheduler")
    stop_second.set()
