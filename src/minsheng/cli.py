"""The `minsheng` command: the project's own subcommands and every Django management
command, with hyphenated names (`minsheng load-district`) mapped to Django's underscores.

Production processes (docs/deploy.md):

- ``minsheng serve``  — the web application under gunicorn (threads per worker process);
- ``minsheng worker`` — a Celery worker (outbox delivery, periodic jobs, purge);
- ``minsheng beat``   — the Celery scheduler (exactly one per deployment);
- ``minsheng check``  — Django's deployment checks plus minsheng's own, with the production
  settings; exits non-zero on any warning.

Each `exec`s the real program, so a service manager's signals reach it directly.
"""

from __future__ import annotations

import argparse
import os
import sys

SETTINGS = "minsheng.config.settings"


def _default_workers() -> int:
    # gunicorn's rule of thumb (2 × cores + 1), capped: each process holds its own model and
    # database connections.
    return min(2 * (os.cpu_count() or 1) + 1, 9)


def serve(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="minsheng serve", description="Run the web application under gunicorn.")
    parser.add_argument("--bind", default=os.environ.get("MINSHENG_BIND", "127.0.0.1:8000"),
                        help="address:port or unix:/path (env MINSHENG_BIND; default 127.0.0.1:8000)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MINSHENG_WEB_WORKERS", 0)) or _default_workers(),
                        help="worker processes (env MINSHENG_WEB_WORKERS; default 2×cores+1, at most 9)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("MINSHENG_WEB_THREADS", 4)),
                        help="threads per worker (env MINSHENG_WEB_THREADS; default 4)")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("MINSHENG_WEB_TIMEOUT", 60)))
    parser.add_argument("--max-requests", type=int, default=int(os.environ.get("MINSHENG_WEB_MAX_REQUESTS", 20000)),
                        help="requests after which a worker process is replaced (env MINSHENG_WEB_MAX_REQUESTS; default 20000)")
    parser.add_argument("--access-log", default=os.environ.get("MINSHENG_ACCESS_LOG", "-"), help="file, '-' for stdout, '' for none")
    opts, extra = parser.parse_known_args(args)
    command = [
        sys.executable, "-m", "gunicorn", "minsheng.config.wsgi:application",
        "--bind", opts.bind,
        "--workers", str(opts.workers),
        "--threads", str(opts.threads),
        "--worker-class", "gthread",
        "--timeout", str(opts.timeout),
        "--graceful-timeout", "30",
        # Recycle workers now and then: bounds any slow leak in a process that runs for months.
        # Not too often: a new process imports the application again and answers slowly at first.
        "--max-requests", str(opts.max_requests), "--max-requests-jitter", str(opts.max_requests // 10),
        # The proxy (nginx) is on this machine or the private network: trust its X-Forwarded-*.
        "--forwarded-allow-ips", os.environ.get("MINSHENG_TRUSTED_PROXIES", "127.0.0.1,::1"),
    ]
    if opts.access_log:
        command += ["--access-logfile", opts.access_log]
    _exec(command + extra)


def worker(args: list[str]) -> None:
    _require_redis("worker")
    parser = argparse.ArgumentParser(prog="minsheng worker", description="Run a Celery worker.")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("MINSHENG_WORKER_CONCURRENCY", 0)) or (os.cpu_count() or 1))
    parser.add_argument("--loglevel", default=os.environ.get("LOG_LEVEL", "INFO"))
    opts, extra = parser.parse_known_args(args)
    _exec([sys.executable, "-m", "celery", "-A", "minsheng.config.celery", "worker", "--concurrency", str(opts.concurrency),
           "--loglevel", opts.loglevel, "--without-gossip", "--without-mingle", *extra])


def beat(args: list[str]) -> None:
    _require_redis("beat")
    parser = argparse.ArgumentParser(prog="minsheng beat", description="Run the Celery scheduler (one per deployment).")
    parser.add_argument("--loglevel", default=os.environ.get("LOG_LEVEL", "INFO"))
    opts, extra = parser.parse_known_args(args)
    schedule = os.path.join(_data_dir(), "celerybeat-schedule")
    _exec([sys.executable, "-m", "celery", "-A", "minsheng.config.celery", "beat", "--loglevel", opts.loglevel,
           "--schedule", schedule, *extra])


def check(args: list[str]) -> None:
    """Django's `check --deploy` with the production settings, failing on any warning."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    from django.core.management import execute_from_command_line

    execute_from_command_line(["minsheng", "check", "--deploy", "--fail-level", "WARNING", *args])


def _data_dir() -> str:
    path = os.path.abspath(os.environ.get("MINSHENG_DATA_DIR", os.path.join(os.getcwd(), "var")))
    os.makedirs(path, exist_ok=True)
    return path


def _require_redis(what: str) -> None:
    if not os.environ.get("REDIS_URL"):
        sys.stderr.write(f"minsheng {what} needs REDIS_URL (the Celery broker). Without Redis, `minsheng demo` runs the "
                         "background jobs inside the web process.\n")
        raise SystemExit(2)


def _exec(command: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    sys.stdout.flush()
    os.execv(command[0], command)


COMMANDS = {"serve": serve, "worker": worker, "beat": beat, "check": check}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    if len(argv) > 1 and argv[1] in COMMANDS:
        COMMANDS[argv[1]](argv[2:])
        return
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["minsheng", *argv[1:]])


if __name__ == "__main__":
    main()
