"""The real job queue: `fieldsales worker` (procrastinate) in a subprocess, killed with SIGKILL
while the receiver holds a delivery open, then another started: nothing is lost, every event
arrives at least once, every signature verifies."""
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldsales.webhooks.models import WebhookDelivery
from tests.factories import webhooks as wf
from tests.jobs.workers import wait_until
from tests.webhooks.receiver import receiver

FIELDSALES = str(Path(sys.executable).parent / "fieldsales")

pytestmark = pytest.mark.slow


def start_worker(name, log):
    # its log goes to a file: a pipe nobody reads fills up (64 KiB: a backlog of other tests'
    # jobs logs that much) and stalls the worker mid-write
    return subprocess.Popen([FIELDSALES, "worker", "--name", name], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=log)


def tail(log):
    log.seek(0)
    return log.read()[-4000:].decode(errors="replace")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def statuses(app, org):
    from fieldsales.extensions import db

    with app.app_context():
        return {str(d.id): (d.status, d.attempts) for d in db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.org_id == org.id))}


def test_killing_the_worker_mid_delivery_loses_nothing(app, org, tmp_path):
    from fieldsales.extensions import db
    from fieldsales.webhooks import emit

    with receiver(200) as rx:
        rx.hold_first = threading.Event()
        with app.app_context():
            wf.webhook(org, rx.url, events=["lead.recycled"])
            for i in range(6):
                emit(org.id, "lead.recycled", {"n": i})
            db.session.commit()
        ids = set(statuses(app, org))
        assert len(ids) == 6

        first_log = (tmp_path / "killed.log").open("w+b")
        first = start_worker("killed", first_log)
        try:
            assert rx.holding.wait(90), tail(first_log)
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            stop(first)
        rx.hold_first.set()
        [(held_headers, held_body)] = rx.requests
        held = held_headers["X-Fieldsales-Delivery"]
        # the sender died before the outcome was written: still pending, not counted as tried
        assert statuses(app, org)[held] == ("pending", 0)

        second_log = (tmp_path / "second.log").open("w+b")
        second = start_worker("second", second_log)
        try:
            assert wait_until(lambda: {s for s, _ in statuses(app, org).values()}
                              == {"delivered"}), (statuses(app, org), tail(second_log))
        finally:
            code = stop(second)
        assert code == 0  # SIGTERM stops it cleanly (make run relies on it)

    received = Counter(h["X-Fieldsales-Delivery"] for h, _ in rx.requests)
    assert set(received) == ids  # every event at least once
    assert received[held] >= 2  # the one cut off was sent again
    for headers, body in rx.requests:
        assert headers["X-Fieldsales-Signature"] == "sha256=" + hmac.new(
            wf.SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert json.loads(body)["id"] == headers["X-Fieldsales-Delivery"]
    # the same bytes each time: receivers may drop the duplicate by its id
    assert {body for h, body in rx.requests if h["X-Fieldsales-Delivery"] == held} == {held_body}
