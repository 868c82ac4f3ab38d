"""PostgreSQL drops every connection (a restart, a failover) while `minsheng serve` is
taking submissions: the requests in flight at that moment may fail cleanly, the next ones
succeed on fresh connections, and no case is half written."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from minsheng.cases.models import Case, CaseEvent
from minsheng.core.models import OutboxMessage
from tests.core.test_outbox_faults import database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Resident:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def submit(self, n: int) -> int:
        status, html = self.get("/appeal/new/")
        if status != 200:
            return status
        fields = {name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1) for name in ("csrfmiddlewaretoken", "token")}
        fields.update(text=f"计划路菜市场门口垃圾没人清运，第{n}次反映", address="计划路菜市场", reporter_phone="13812345678")
        request = urllib.request.Request(self.base + "/appeal/new/", data=urllib.parse.urlencode(fields).encode(), method="POST")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect, *[h for h in self.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)])
        try:
            with opener.open(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


def test_the_app_recovers_when_postgresql_drops_every_connection(committed_district, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DB_CONN_MAX_AGE": "300", "MINSHENG_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "minsheng.config.settings_test", "MINSHENG_SUBMIT_RATE": "100000/m",
           "MINSHENG_AUTO_DISPATCH_THRESHOLD": "1.01"}
    server = subprocess.Popen([sys.executable, "-m", "minsheng.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--threads", "4", "--access-log", ""], env=env, cwd=Path(__file__).resolve().parents[2],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        resident = Resident(base)
        for _ in range(120):
            try:
                if resident.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert resident.submit(0) == 302  # warm: the first submission loads the dispatch model
        statuses: list[int] = []
        stop = threading.Event()

        def load():
            n = 0
            local = Resident(base)
            while not stop.is_set():
                n += 1
                try:
                    statuses.append(local.submit(n))
                except OSError:
                    statuses.append(599)

        workers = [threading.Thread(target=load) for _ in range(3)]
        for w in workers:
            w.start()
        time.sleep(3)
        before = len(statuses)
        with connection.cursor() as cursor:  # what a restart does to the server's connections
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            killed = cursor.fetchone()[0]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(1 for s in statuses[before:] if s == 302) < 10:
            time.sleep(0.2)
        stop.set()
        for w in workers:
            w.join(60)
        assert killed >= 1
        after_kill = statuses[before:]
        # Only requests in flight at the kill may fail (they can finish after later ones, so
        # failures need not come first); then it stays recovered.
        failed = [s for s in statuses if s != 302]
        assert len(failed) <= len(workers), statuses
        assert len(after_kill) >= 10 and all(s == 302 for s in after_kill[-5:]), after_kill
        assert resident.get("/healthz")[0] == 200
    finally:
        server.terminate()
        server.wait(30)

    # Nothing half written: every case has its submit event and its outbox message.
    cases = Case.objects.count()
    assert cases >= sum(1 for s in statuses if s == 302)
    assert CaseEvent.objects.filter(action="submit").count() == cases
    assert OutboxMessage.objects.filter(topic="case.submit").count() == cases
