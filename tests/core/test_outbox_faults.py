"""The outbox under faults: a worker killed with SIGKILL in the middle of a message loses
nothing and delivers nothing twice; a worker that stalls past its claim cannot commit after
another worker took the message over; the Celery drain task delivers what is due."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from minsheng.cases import services
from minsheng.core import outbox
from minsheng.core.models import Notification, OutboxMessage, Unit
from tests.factories import make_user

WORKER = """
import os, sys, time, pathlib
os.environ["DJANGO_SETTINGS_MODULE"] = "minsheng.config.settings_test"
import django
django.setup()
from minsheng.core.outbox import handles, outbox_process

flag = pathlib.Path(sys.argv[1])

@handles("case.")
def stall(message):
    flag.write_text(str(message.pk))  # the notification is written, the commit not yet done
    time.sleep(300)

outbox_process(limit=1)
"""


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _one_dispatch_message() -> OutboxMessage:
    dispatcher = make_user("disp-fault", "dispatcher")
    case = services.case_submit(text="计划路菜市场门口垃圾三天没人清运", channel="web")
    services.case_dispatch(case=case, acting_user=dispatcher, unit=Unit.objects.get(kind="street", code="JSL"))
    message = OutboxMessage.objects.get(topic="case.dispatch", payload__case_id=case.pk)
    OutboxMessage.objects.exclude(pk=message.pk).update(processed_at=timezone.now())
    return message


def notifications_for(message: OutboxMessage) -> int:
    return Notification.objects.filter(source_key__startswith=f"{message.pk}:").count()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_message_loses_nothing_and_doubles_nothing(committed_district, tmp_path):
    message = _one_dispatch_message()
    flag = tmp_path / "handling"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "DATABASE_URL": database_url(), "MINSHENG_DATA_DIR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, str(script), str(flag)], env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert worker.poll() is None, "worker exited early"
            assert time.monotonic() < deadline, "worker never reached the handler"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()

    message.refresh_from_db()
    assert message.processed_at is None and message.claimed_until is not None  # held by the dead worker
    assert notifications_for(message) == 0  # its half-done work was rolled back with it
    assert outbox.outbox_process() == 0  # the claim has not expired yet

    later = timezone.now() + dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    assert outbox.outbox_process(now=later) == 1
    assert outbox.outbox_process(now=later + dt.timedelta(minutes=5)) == 0
    message.refresh_from_db()
    assert message.processed_at is not None and notifications_for(message) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="two concurrent writers need PostgreSQL")
def test_a_stalled_worker_cannot_commit_after_its_claim_was_taken_over(committed_district):
    message = _one_dispatch_message()
    reached, errors = threading.Event(), []

    @outbox.handles("case.")
    def stall_in_worker_a(msg):
        if threading.current_thread().name == "worker-a":
            reached.set()
            time.sleep(3)  # longer than it takes worker B to take over

    def worker_a():
        try:
            outbox.outbox_process(limit=1)
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    try:
        thread = threading.Thread(target=worker_a, name="worker-a")
        thread.start()
        assert reached.wait(30)
        # Worker B, after A's claim "expired": it takes the message over. Its notification
        # waits on A's uncommitted one (same unique key) until A gives up.
        delivered_by_b = outbox.outbox_process(now=timezone.now() + dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1))
        thread.join(30)
    finally:
        outbox._handlers.remove(("case.", stall_in_worker_a))
    assert errors == [] and delivered_by_b == 1
    message.refresh_from_db()
    assert message.processed_at is not None and notifications_for(message) == 1


def test_the_drain_task_delivers_everything_due(users, cases):
    from minsheng.core.tasks import outbox_drain

    for _ in range(3):
        cases.make("dispatched")
    due = OutboxMessage.objects.filter(processed_at__isnull=True).count()
    assert due > 3
    assert outbox_drain.apply(kwargs={"limit": 2}).get() == due
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()


def test_a_nudge_with_the_broker_down_does_not_fail_the_change(users, cases, settings, caplog):
    from minsheng.core import services as core_services

    settings.MINSHENG_OUTBOX_NUDGE = True
    core_services._last_nudge = 0.0
    from celery import current_app

    original = current_app.send_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    current_app.send_task = broker_down
    try:
        core_services.outbox_nudge()
    finally:
        current_app.send_task = original
    assert "could not nudge" in caplog.text


def test_with_redis_down_residents_still_submit_and_side_effects_follow(db, client, settings, monkeypatch, caplog):
    """Redis stopped: the cache (rate limits) fails open, the worker nudge fails fast, the
    appeal is filed and its outbox messages wait in the table until a worker runs."""
    from celery import current_app

    from minsheng.cases.models import Case
    from minsheng.core import services as core_services
    from minsheng.intake.forms import submission_token_new

    settings.CACHES = {"default": {"BACKEND": "minsheng.core.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.RATELIMIT_FAIL_OPEN = True
    settings.MINSHENG_OUTBOX_NUDGE = True
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.0
    core_services._last_nudge = 0.0

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    response = client.post("/appeal/new/", {"text": "计划路菜市场门口垃圾三天没人清运，气味很大", "address": "计划路菜市场",
                                            "reporter_phone": "13812345678", "token": submission_token_new()})
    assert response.status_code == 302 and "/done/" in response["Location"]
    case = Case.objects.get()
    pending = OutboxMessage.objects.filter(processed_at__isnull=True, payload__case_id=case.pk)
    assert pending.exists()
    assert "Redis cache unavailable" in caplog.text or "could not nudge" in caplog.text
    # Redis is back: the worker's sweep delivers everything that waited.
    assert outbox.outbox_process() >= pending.count()
    assert not OutboxMessage.objects.filter(processed_at__isnull=True, payload__case_id=case.pk).exists()
