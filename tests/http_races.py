"""Races through the HTTP API for the tests: each request in its own thread, app context,
session and connection (the test client runs every request in an empty context),
started together by a barrier."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor


def race(app, *calls):
    """Run each ``call(client)`` in its own thread, released together by a barrier;
    returns their responses as (status, body)."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        client = app.test_client()
        barrier.wait()
        response = call(client)
        return response.status_code, response.json

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, call) for call in calls]]


def post(url, headers, key, json=None, *, delay=0.0):
    """A request for :func:`race`, sent ``delay`` seconds after the barrier."""
    def call(client):
        if delay:
            time.sleep(delay)
        return client.post(url, json=json, headers={**headers, "Idempotency-Key": key})
    return call
