"""Production mode: the commands that start it, the deployment check, the health probe and
the database router that sends dashboard reads to a replica."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import override_settings

from minsheng import cli
from minsheng.config.routers import ReplicaRouter, reading_from_replica


def _run_cli(monkeypatch, argv):
    captured = {}
    monkeypatch.setattr(cli, "_exec", lambda command: captured.setdefault("command", command))
    cli.main(["minsheng", *argv])
    return captured["command"]


def test_serve_runs_gunicorn_with_threads_and_the_bind_from_the_environment(monkeypatch):
    monkeypatch.setenv("MINSHENG_BIND", "0.0.0.0:9000")
    command = _run_cli(monkeypatch, ["serve", "--workers", "3", "--threads", "8"])
    assert command[1:4] == ["-m", "gunicorn", "minsheng.config.wsgi:application"]
    joined = " ".join(command)
    assert "--bind 0.0.0.0:9000" in joined and "--workers 3" in joined and "--threads 8" in joined and "--worker-class gthread" in joined


def test_serve_recycles_worker_processes_after_a_configurable_number_of_requests(monkeypatch):
    joined = " ".join(_run_cli(monkeypatch, ["serve"]))
    assert "--max-requests 20000 --max-requests-jitter 2000" in joined
    monkeypatch.setenv("MINSHENG_WEB_MAX_REQUESTS", "8000")
    assert "--max-requests 8000 --max-requests-jitter 800" in " ".join(_run_cli(monkeypatch, ["serve"]))


def test_worker_and_beat_run_celery_and_need_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(SystemExit):
        _run_cli(monkeypatch, ["worker"])
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert _run_cli(monkeypatch, ["worker"])[1:6] == ["-m", "celery", "-A", "minsheng.config.celery", "worker"]
    assert _run_cli(monkeypatch, ["beat"])[1:6] == ["-m", "celery", "-A", "minsheng.config.celery", "beat"]


def _check(env: dict, tmp_path) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "minsheng.cli", "check"], env={**keep, "MINSHENG_DATA_DIR": str(tmp_path), **env},
                          capture_output=True, text=True, timeout=120)


def test_check_fails_on_the_demo_defaults(tmp_path):
    result = _check({}, tmp_path)
    assert result.returncode != 0
    for warning in ("minsheng.W001", "minsheng.W002", "minsheng.W003", "security.W012"):
        assert warning in result.stderr


def test_check_passes_a_production_configuration(tmp_path):
    from minsheng.core.crypto import new_key_b64

    env = {
        "MINSHENG_EMBEDDED": "false", "SECRET_KEY": "x" * 30 + new_key_b64(), "MINSHENG_DATA_KEYS": "k1:" + new_key_b64(),
        "MINSHENG_INDEX_KEY": new_key_b64(), "DATABASE_URL": "postgres://minsheng@127.0.0.1:5432/minsheng",
        "REDIS_URL": "redis://127.0.0.1:6379/0", "MINSHENG_BEHIND_TLS_PROXY": "true", "ALLOWED_HOSTS": "minsheng.example.gov.cn",
    }
    result = _check(env, tmp_path)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_personal_data_keys(tmp_path):
    env = {"MINSHENG_EMBEDDED": "false", "SECRET_KEY": "y" * 60}
    result = subprocess.run([sys.executable, "-c", "import minsheng.config.settings"], env={**os.environ, **env, "MINSHENG_TESTING": "false",
                            "MINSHENG_DATA_KEYS": "", "MINSHENG_INDEX_KEY": "", "MINSHENG_DATA_DIR": str(tmp_path)},
                            capture_output=True, text=True)
    assert result.returncode != 0 and "MINSHENG_DATA_KEYS" in result.stderr


def test_the_health_probe(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


# ---------------------------------------------------------------- the replica router

REPLICA = {"replica": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}


def test_dashboard_reads_go_to_the_replica_and_everything_else_to_the_primary(settings):
    from minsheng.cases.models import Case
    from minsheng.core.models import User

    settings.DATABASES = {**settings.DATABASES, **REPLICA}
    router = ReplicaRouter()
    assert router.db_for_read(Case) == "default"
    with reading_from_replica():
        assert router.db_for_read(Case) == "replica"
        assert router.db_for_read(User) == "default"  # accounts and sessions: always the primary
        assert router.db_for_write(Case) == "default"
    assert router.allow_migrate("replica", "cases") is False


@pytest.mark.django_db(databases=["default", "replica"])
def test_the_dispatch_quality_page_reads_from_the_replica(client, users):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    client.force_login(users["dispatcher"])
    with override_settings(DATABASE_ROUTERS=["minsheng.config.routers.ReplicaRouter"]):
        with CaptureQueriesContext(connections["replica"]) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
            assert client.get("/desk/dispatch/quality/").status_code == 200
            assert client.get("/desk/queue/all/").status_code == 200
    replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "dispatch_" in replica_sql or "cases_" in replica_sql
    primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
    assert "django_session" in primary_sql and "cases_case" in primary_sql  # the queue page is not a dashboard
