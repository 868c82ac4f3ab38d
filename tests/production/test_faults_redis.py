"""Redis stops while residents submit, in production mode with real processes: `minsheng
serve` (gunicorn), `minsheng worker` and `minsheng beat` on a Redis server of this test's own
(another port, so nobody else's Redis is touched). Every submission is still accepted; the
side effects — intelligent dispatch, notifications — are delivered once Redis is back, each
exactly once, checked by counting."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection  # noqa: F401  (the skipif condition reads it)
from django.db.models import Count

from minsheng.cases.models import Case, CaseEvent
from minsheng.core.models import Notification, OutboxMessage
from tests.core.test_outbox_faults import database_url
from tests.production.serving import wait_until_healthy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="several processes writing at once need PostgreSQL"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

ROOT = Path(__file__).resolve().parents[2]
#: How long Redis stays down (the issue allows up to a minute; short keeps the suite fast).
OUTAGE_SECONDS = 8
PLACES = ["计划路菜市场", "碧沙岗公园北门", "伊河路26号院", "秦岭路中段"]
PROBLEMS = ["门口垃圾三天没人清运，气味很大", "路灯坏了好几天，晚上很黑", "楼道里有很重的燃气味，怀疑漏气了", "电梯困人了，快来救援"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int, workdir: Path) -> subprocess.Popen:
    process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                                "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def submit(base: str, n: int) -> int:
    body = json.dumps({"text": f"{PLACES[n % 4]}{PROBLEMS[n % 4]}（第{n}件）", "address": PLACES[n % 4], "phone": "13812345678"},
                      ensure_ascii=False).encode()
    request = urllib.request.Request(f"{base}/api/v1/public/appeals", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 599


def test_with_redis_stopped_submissions_are_accepted_and_side_effects_follow_exactly_once(committed_district, tmp_path):
    redis_port, web_port = free_port(), free_port()
    redis = start_redis(redis_port, tmp_path)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "minsheng.config.settings_test", "DATABASE_URL": database_url(),
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "MINSHENG_DATA_DIR": str(tmp_path),
           # production mode: web processes nudge workers, and routing runs in the worker
           "MINSHENG_OUTBOX_NUDGE": "true", "MINSHENG_ROUTE_IN_REQUEST": "false", "MINSHENG_OUTBOX_SWEEP_SECONDS": "2",
           "MINSHENG_SUBMIT_RATE": "100000/m", "MINSHENG_AUTO_DISPATCH_THRESHOLD": "0.0", "LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-m", "minsheng.cli"]
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("serve", "worker", "beat")}
    common = {"env": env, "cwd": ROOT, "stdout": subprocess.DEVNULL}
    server = subprocess.Popen([*cli, "serve", "--bind", f"127.0.0.1:{web_port}", "--workers", "1", "--threads", "4",
                               "--access-log", ""], stderr=logs["serve"], **common)
    worker = subprocess.Popen([*cli, "worker", "--concurrency", "1", "--loglevel", "WARNING"], stderr=logs["worker"], **common)
    beat = subprocess.Popen([*cli, "beat", "--loglevel", "WARNING"], stderr=logs["beat"], **common)
    base = f"http://127.0.0.1:{web_port}"
    statuses: dict[str, list[int]] = {"before": [], "during": [], "after": []}
    phase = ["before"]
    try:
        wait_until_healthy(base)
        stop_submitting = threading.Event()
        counter = iter(range(10**6))

        def resident():
            while not stop_submitting.is_set():
                n = next(counter)
                status = submit(base, n)
                statuses[phase[0]].append(status)
                time.sleep(0.2)  # a steady trickle: the point is the outage, not the volume

        residents = [threading.Thread(target=resident) for _ in range(2)]
        for thread in residents:
            thread.start()
        time.sleep(3)
        phase[0] = "during"
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True, timeout=10)
        redis.wait(10)
        try:
            time.sleep(OUTAGE_SECONDS)
        finally:
            redis = start_redis(redis_port, tmp_path)  # always back, whatever happened meanwhile
        phase[0] = "after"
        time.sleep(3)
        stop_submitting.set()
        for thread in residents:
            thread.join(60)

        # Side effects delivered after: the worker reconnects, beat's sweep finds what waited.
        deadline = time.monotonic() + 180
        while OutboxMessage.objects.filter(processed_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        for process in (server, beat, worker):
            stop(process)
        stop(redis)

    accepted = sum(1 for phase_statuses in statuses.values() for s in phase_statuses if s == 201)
    assert statuses["during"], "no submission was made while Redis was down"
    assert all(s == 201 for s in statuses["during"]), statuses["during"]
    assert all(s == 201 for ss in statuses.values() for s in ss), statuses
    # Nothing lost.
    assert Case.objects.count() == accepted
    assert CaseEvent.objects.filter(action="submit").count() == accepted
    assert OutboxMessage.objects.filter(topic="intake.route").count() == accepted
    pending = list(OutboxMessage.objects.filter(processed_at__isnull=True).values("topic", "attempts", "last_error")[:5])
    tails = {name: (tmp_path / f"{name}.log").read_text(errors="replace")[-1500:] for name in logs}
    assert not pending, (OutboxMessage.objects.filter(processed_at__isnull=True).count(), pending, tails)
    assert CaseEvent.objects.filter(action="suggest").count() == accepted
    # Nothing doubled.
    for action in ("submit", "suggest", "dispatch"):
        assert not CaseEvent.objects.filter(action=action).values("case").annotate(n=Count("id")).filter(n__gt=1).exists(), action
    dispatch_messages = OutboxMessage.objects.filter(topic="case.dispatch")
    assert Notification.objects.filter(text__startswith="新派单").count() == dispatch_messages.count()
    assert not Notification.objects.values("source_key").annotate(n=Count("id")).filter(n__gt=1).exists()
