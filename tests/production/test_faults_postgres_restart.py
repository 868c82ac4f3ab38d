"""PostgreSQL goes away under load, for real, on a cluster of this test's own (the shared server
is never touched): `minsheng serve` (gunicorn, persistent health-checked connections) takes
appeals from three residents through the public JSON API while first every database
connection is killed (what a failover or a connection reaper does), then the server itself is
restarted with `pg_ctl restart -m fast` (the postmaster exits and a new one starts).

Requests caught by a fault either succeed (201) or fail cleanly (5xx or a dropped connection);
once the server is back every request succeeds; and counting in the database afterwards, the
cases are exactly the accepted submissions, each with one submit event and its two outbox
messages. A resident who got an error and retries with the same Idempotency-Key gets the
appeal filed once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection  # noqa: F401  (the skipif condition reads it)

from tests.production.private_postgres import PrivateCluster, free_port, private_cluster, why_unavailable
from tests.production.serving import wait_until_healthy

pytestmark = [
    # It brings its own cluster, so it does not depend on the suite's database: it runs once,
    # in the PostgreSQL pass of .ci/run, rather than again in the SQLite pass.
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="runs once, in the PostgreSQL pass (it starts its own cluster)"),
    pytest.mark.skipif(why_unavailable() is not None, reason=why_unavailable() or ""),
]

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "minsheng"
RESIDENTS = 3
STEADY_SECONDS = 3
AFTER_DROP_SECONDS = 4
AFTER_RESTART_SECONDS = 5
#: After pg_ctl says the server accepts connections again, requests started this much later
#: must all succeed (each gunicorn thread replaces its dead connection on its next request).
GRACE_SECONDS = 1.0
#: The public API's namespace for residents' idempotency keys (api.services.appeals).
KEY_PREFIX = "api:"
PLACES = ["计划路菜市场", "碧沙岗公园北门", "伊河路26号院", "秦岭路中段"]
PROBLEMS = ["门口垃圾三天没人清运，气味很大", "路灯坏了好几天，晚上很黑", "楼道里有很重的燃气味，怀疑漏气了", "电梯困人了，快来救援"]


@dataclass
class Attempt:
    key: str
    text: str
    address: str
    started: float
    ended: float
    status: int  # 599: no HTTP answer (connection refused, reset or timed out)
    body: str


def submit(base: str, key: str, text: str, address: str) -> Attempt:
    body = json.dumps({"text": text, "address": address, "phone": "13812345678"}, ensure_ascii=False).encode()
    request = urllib.request.Request(f"{base}/api/v1/public/appeals", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        status, answer = 599, repr(exc)
    return Attempt(key=key, text=text, address=address, started=started, ended=time.monotonic(), status=status, body=answer[:300])


def manage(env: dict, *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "minsheng.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])


def ledger(cluster: PrivateCluster) -> dict:
    """What is stored, read straight from the private cluster."""
    with psycopg.connect(cluster.url(DATABASE), autocommit=True) as db:
        cases = {row[0]: row[1] for row in db.execute("SELECT id, idempotency_key FROM cases_case")}
        submit_events = dict(db.execute(
            "SELECT case_id, count(*) FROM cases_caseevent WHERE action = 'submit' GROUP BY case_id").fetchall())
        outbox = {topic: dict(db.execute(
            "SELECT (payload->>'case_id')::bigint, count(*) FROM core_outboxmessage WHERE topic = %s GROUP BY 1",
            [topic]).fetchall()) for topic in ("case.submit", "intake.route")}
    return {"cases": cases, "submit_events": submit_events, "outbox": outbox}


def assert_whole(stored: dict) -> None:
    """Every case has exactly one submit event and one message of each outbox topic, and
    nothing refers to a case that is not there."""
    case_ids = set(stored["cases"])
    assert {case for case, n in stored["submit_events"].items() if n == 1} == case_ids, stored["submit_events"]
    assert set(stored["submit_events"]) == case_ids
    for topic, per_case in stored["outbox"].items():
        assert set(per_case) == case_ids, (topic, sorted(set(per_case) ^ case_ids)[:10])
        assert all(n == 1 for n in per_case.values()), (topic, {c: n for c, n in per_case.items() if n != 1})


def test_a_real_postgresql_restart_under_load_fails_cleanly_and_loses_nothing(tmp_path):
    with private_cluster() as cluster:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "minsheng.config.settings_test", "DATABASE_URL": cluster.url(DATABASE),
               "DB_CONN_MAX_AGE": "300", "MINSHENG_DATA_DIR": str(tmp_path),
               # production mode without Redis: routing waits in the outbox for a worker
               "MINSHENG_OUTBOX_NUDGE": "false", "MINSHENG_ROUTE_IN_REQUEST": "false",
               "MINSHENG_SUBMIT_RATE": "100000/m", "LOG_LEVEL": "WARNING"}
        for variable in ("REDIS_URL", "DATABASE_REPLICA_URL"):
            env.pop(variable, None)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load-district")

        web_port = free_port()
        base = f"http://127.0.0.1:{web_port}"
        server_log = (tmp_path / "serve.log").open("w")
        server = subprocess.Popen([sys.executable, "-m", "minsheng.cli", "serve", "--bind", f"127.0.0.1:{web_port}",
                                   "--workers", "2", "--threads", "4", "--access-log", ""],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=server_log)
        attempts: list[Attempt] = []
        unreachable: list[float] = []
        try:
            wait_until_healthy(base)
            warm = submit(base, str(uuid.uuid4()), "计划路菜市场门口垃圾没人清运（开门第一件）", PLACES[0])
            assert warm.status == 201, (warm, (tmp_path / "serve.log").read_text(errors="replace")[-3000:])
            attempts.append(warm)

            stop = threading.Event()
            counter = iter(range(10**6))

            def resident():
                while not stop.is_set():
                    n = next(counter)
                    attempt = submit(base, str(uuid.uuid4()), f"{PLACES[n % 4]}{PROBLEMS[n % 4]}（第{n}件）", PLACES[n % 4])
                    attempts.append(attempt)
                    time.sleep(0.02 if attempt.status == 201 else 0.2)  # a client backs off a little after an error

            residents = [threading.Thread(target=resident) for _ in range(RESIDENTS)]
            for thread in residents:
                thread.start()
            try:
                time.sleep(STEADY_SECONDS)

                # 1. Every connection killed while the server stays up.
                drop_begin = time.monotonic()
                with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
                    killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                           "WHERE datname = %s", [DATABASE]).fetchone()[0]
                drop_done = time.monotonic()
                time.sleep(AFTER_DROP_SECONDS)

                # 2. The server restarted; a probe measures how long it refused connections.
                postmaster_before = cluster.postmaster_pid()
                probing = threading.Event()

                def probe():
                    while not probing.is_set():
                        try:
                            psycopg.connect(cluster.url(DATABASE), connect_timeout=2).close()
                        except psycopg.OperationalError:
                            unreachable.append(time.monotonic())
                        time.sleep(0.02)

                prober = threading.Thread(target=probe)
                prober.start()
                restart_begin = time.monotonic()
                try:
                    cluster.restart()
                finally:
                    restart_done = time.monotonic()
                    probing.set()
                    prober.join(10)
                postmaster_after = cluster.postmaster_pid()
                time.sleep(AFTER_RESTART_SECONDS)
            finally:
                stop.set()
                for thread in residents:
                    thread.join(60)
            stored = ledger(cluster)

            # A resident who got an error tries again with the same key.
            retries = [submit(base, a.key, a.text, a.address) for a in attempts if a.status != 201]
            stored_after_retries = ledger(cluster)
        finally:
            server.terminate()
            server.wait(30)
            server_log.close()
        server_tail = (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
        cluster_log = cluster.log.read_text(errors="replace")

    failed = [a for a in attempts if a.status != 201]
    in_drop = [a for a in failed if a.started <= drop_done and a.ended >= drop_begin]
    in_restart = [a for a in failed if a.ended >= restart_begin and a.started <= restart_done + GRACE_SECONDS]
    downtime = (max(unreachable) - min(unreachable)) if unreachable else 0.0
    recovered = max((a.ended for a in in_restart), default=restart_begin) - restart_done
    print(f"\n{len(attempts)} submissions; dropped connections: {killed}, failed {len(in_drop)}; "
          f"restart: pg_ctl took {restart_done - restart_begin:.2f} s, connections refused for {downtime:.2f} s, "
          f"failed {len(in_restart)} ({sorted({a.status for a in in_restart})}), the last one ending {recovered:+.2f} s "
          f"after pg_ctl returned; retried {len(retries)}")

    # The restart was real: the postmaster exited and a new one serves the same data.
    assert postmaster_before and postmaster_after and postmaster_before != postmaster_after
    assert "received fast shutdown request" in cluster_log and unreachable, cluster_log[-3000:]
    assert killed >= 1  # persistent connections were there to be killed
    assert any(a.started < restart_begin < a.ended or restart_begin <= a.started <= restart_done for a in attempts)

    # Failures only where a fault was, and clean: a server error or no answer, never a 4xx
    # and never a traceback.
    assert all(a in in_drop or a in in_restart for a in failed), [(a.status, a.started - restart_begin, a.body) for a in failed]
    assert all(500 <= a.status <= 599 and "Traceback" not in a.body for a in failed), [(a.status, a.body) for a in failed]
    assert len(in_drop) <= RESIDENTS, in_drop  # only the requests in flight at the kill
    after_restart = [a for a in attempts if a.started >= restart_done + GRACE_SECONDS]
    assert len(after_restart) >= 10 and all(a.status == 201 for a in after_restart), after_restart
    assert all(a.status == 201 for a in attempts if a.ended < drop_begin)
    assert all(a.status == 201 for a in attempts if drop_done <= a.started and a.ended < restart_begin), server_tail

    # Counted in the database: the cases are exactly the accepted submissions (none lost, none
    # filed for a request that failed), each whole.
    accepted = {a.key for a in attempts if a.status == 201}
    stored_keys = {key.removeprefix(KEY_PREFIX) for key in stored["cases"].values()}
    assert len(stored["cases"]) == len(accepted) == sum(1 for a in attempts if a.status == 201)
    assert stored_keys == accepted, {"lost": sorted(accepted - stored_keys), "filed for a failure": sorted(stored_keys - accepted)}
    assert_whole(stored)

    # Retrying a failed submission with its key files it once.
    assert all(r.status == 201 for r in retries), [(r.status, r.body) for r in retries]
    keys_after_retries = {key.removeprefix(KEY_PREFIX) for key in stored_after_retries["cases"].values()}
    assert keys_after_retries == {a.key for a in attempts}
    assert len(stored_after_retries["cases"]) == len(attempts)
    assert_whole(stored_after_retries)
