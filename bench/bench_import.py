"""Benchmark of the bulk import (批量导入): N rows (default 100,000) imported with dispatch —
every row checked, the dispatch engine's suggestions for every row, confident ones dispatched
automatically, events and outbox messages written, exactly as `minsheng import FILE` does —
against a raw bulk insert of the same rows in the same run (the same Case rows through
Django's bulk_create in one transaction, nothing else: no check, no engine, no events).

The rows are generated from the shipped corpus (texts with a varying tail), the gazetteer
(addresses, 85 % of rows) and random phones, channels and times over the last 60 days, and
written to an .xlsx file (or .csv with --format csv) that the import reads.

Run (from the repository root):

    .venv/bin/python bench/bench_import.py                   # 100,000 rows, SQLite
    .venv/bin/python bench/bench_import.py --rows 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minsheng \\
        .venv/bin/python bench/bench_import.py --backend postgresql

Each run uses a fresh database (var/bench/import-*.sqlite3, or a database
`minsheng_bench_import` on the DATABASE_URL server). The dispatch model is loaded (or trained
once and cached in var/bench/models) before the clock starts, as in a running server.
Prints one JSON object; the target is an import under 60 s and within 4x of the raw insert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BENCH_DIR = ROOT / "var" / "bench"
PG_DB = "minsheng_bench_import"
TARGET_SECONDS = 60
TARGET_RATIO = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--no-auto-dispatch", action="store_true")
    parser.add_argument("--single-process", action="store_true", help="dispatch suggestions in the importing process (no helper process)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args), ensure_ascii=False))
        return
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MINSHENG_DATA_DIR=str(BENCH_DIR), DJANGO_SETTINGS_MODULE="minsheng.config.settings", LOG_LEVEL="ERROR")
    if args.backend == "sqlite":
        path = BENCH_DIR / f"import-{args.rows}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            sys.exit("--backend postgresql needs DATABASE_URL=postgres://... (the server to create the bench database on)")
        admin = url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {PG_DB}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {PG_DB}"], check=True)
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + PG_DB
    cmd = [sys.executable, __file__, "--worker", "--rows", str(args.rows), "--format", args.format, "--backend", args.backend,
           "--seed", str(args.seed)] + (["--no-auto-dispatch"] if args.no_auto_dispatch else []) + (["--single-process"] if args.single_process else [])
    result = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True)
    print(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the worker (fresh database)


LOAD_AT_START = None


def worker(args) -> dict:
    global LOAD_AT_START
    LOAD_AT_START = [round(x, 1) for x in os.getloadavg()]
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from minsheng.cases.services import district_load_files
    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    call_command("migrate", verbosity=0)
    district_load_files(taxonomy_path=TAXONOMY_PATH, gazetteer_path=GAZETTEER_PATH)

    from minsheng.dispatch.services import dispatch_engine

    started = time.perf_counter()
    dispatch_engine()
    model_seconds = time.perf_counter() - started

    rows = generate_rows(args.rows, args.seed)
    content, filename = write_file(rows, args.format)

    raw = raw_insert(rows)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case")

    timings = instrument()
    from minsheng.channels.services.imports import import_file

    cpu_before = cpu_seconds()
    started = time.perf_counter()
    report = import_file(content=content, filename=filename, auto_dispatch=not args.no_auto_dispatch, pipeline=not args.single_process)
    import_seconds = time.perf_counter() - started
    import_cpu = cpu_seconds() - cpu_before

    first = dict(timings)
    started = time.perf_counter()
    again = import_file(content=content, filename=filename, auto_dispatch=not args.no_auto_dispatch, pipeline=not args.single_process)
    reimport_seconds = time.perf_counter() - started

    from minsheng.cases.models import Case, CaseEvent
    from minsheng.core.models import OutboxMessage

    cases = Case.objects.count()
    return {
        "bench": "import",
        "backend": connection.vendor,
        "rows": args.rows,
        "format": args.format,
        "file_mb": round(len(content) / 1e6, 1),
        "import_seconds": round(import_seconds, 1),
        "raw_insert_seconds": round(raw["bulk_create"], 2),
        "ratio": round(import_seconds / raw["bulk_create"], 1),
        "raw_executemany_seconds": round(raw["executemany"], 2),
        "ratio_to_executemany": round(import_seconds / raw["executemany"], 1),
        "rows_per_second": round(args.rows / import_seconds),
        # CPU time (this process and the helper): what the machine's load does not inflate as much as wall time.
        "cpu_seconds": {"import_both_processes": round(import_cpu, 1), "raw_insert": round(raw["bulk_create_cpu"], 1)},
        "target": {"seconds": TARGET_SECONDS, "ratio": TARGET_RATIO,
                   "met": import_seconds < TARGET_SECONDS and import_seconds / raw["bulk_create"] <= TARGET_RATIO},
        "breakdown_seconds": {
            "read_and_check": round(first["check"], 1),
            "dispatch_suggestions_in_this_process": round(first["suggest"] if first["suggest"] else first["outcomes"], 1),
            "write_cases_events_outbox": round(first["write"], 1),
            "other_and_waiting_for_the_helper": round(import_seconds - first["check"] - (first["suggest"] or first["outcomes"]) - first["write"], 1),
        },
        "created": report.created,
        "errors": len(report.errors),
        "auto_dispatched": report.auto_dispatched,
        "cases": cases,
        "events": CaseEvent.objects.count(),
        "outbox_messages": OutboxMessage.objects.count(),
        "reimport": {"seconds": round(reimport_seconds, 1), "created": again.created, "skipped_duplicates": again.skipped_duplicates},
        "model_load_seconds_not_counted": round(model_seconds, 1),
        "suggestions_in_helper_process": not args.single_process,
        "load_average_at_start": LOAD_AT_START,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def cpu_seconds() -> float:
    """User and system CPU time of this process and of its finished child processes."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def instrument() -> dict[str, float]:
    """Wrap the import's three stages to time them."""
    from minsheng.channels import importing
    from minsheng.channels.services import imports
    from minsheng.dispatch import services as dispatch_services

    timings = {"check": 0.0, "suggest": 0.0, "outcomes": 0.0, "write": 0.0}

    def timed(key, fn):
        def wrapper(*a, **kw):
            started = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                timings[key] += time.perf_counter() - started

        return wrapper

    imports.check_file = timed("check", importing.check_file)
    dispatch_services.BatchSuggester.suggest = timed("suggest", dispatch_services.BatchSuggester.suggest)
    dispatch_services.bulk_outcomes = timed("outcomes", dispatch_services.bulk_outcomes)
    imports.cases_intake_many = timed("write", imports.cases_intake_many)
    return timings


# ---------------------------------------------------------------- data


def generate_rows(n: int, seed: int) -> list[tuple]:
    import yaml

    from minsheng.data import GAZETTEER_PATH
    from minsheng.dispatch.engine.evaluation import load_corpus
    from minsheng.dispatch.engine.modelstore import corpus_dir

    rng = random.Random(seed)
    texts = [item["text"] for item in load_corpus(corpus_dir())]
    gazetteer = yaml.safe_load(open(GAZETTEER_PATH, encoding="utf-8"))
    places = []
    for street in gazetteer["streets"]:
        for community in street.get("communities", []):
            places += community.get("places", []) + [f"{road}{rng.randint(1, 300)}号" for road in community.get("roads", [])]
    tails = ["", "，希望尽快处理", "，已经反映过一次了", "，请相关部门核实", "，影响附近居民生活", "，麻烦尽快派人来看看"]
    channels = ["热线电话", "热线电话", "热线电话", "网站/H5", "意见箱", ""]
    surnames = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
    now = dt.datetime.now().replace(microsecond=0)
    rows = []
    for i in range(n):
        text = f"{rng.choice(texts)}{rng.choice(tails)}（{i}）"
        address = rng.choice(places) if rng.random() < 0.85 else ""
        name = rng.choice(surnames) + rng.choice(["先生", "女士", ""])
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        at = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 60))
        rows.append((text, address, name, phone, rng.choice(channels), at))
    return rows


def write_file(rows: list[tuple], fmt: str) -> tuple[bytes, str]:
    import io

    from minsheng.channels.importing import COLUMNS

    header = [str(c.title) for c in COLUMNS]
    if fmt == "csv":
        import csv

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([r[:5] + (r[5].strftime("%Y-%m-%d %H:%M:%S"),) for r in rows])
        return buffer.getvalue().encode("utf-8-sig"), "bench.csv"
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("诉求")
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), "bench.xlsx"


def raw_insert(rows: list[tuple]) -> dict[str, float]:
    """The same rows as bare Case rows: Django's bulk_create in one transaction, and the DB
    driver's executemany (the floor)."""
    import hashlib
    import secrets

    from django.db import connection, transaction
    from django.utils import timezone

    from minsheng.cases.models import Case

    tz = timezone.get_current_timezone()
    channel_codes = {"热线电话": "hotline", "网站/H5": "web", "意见箱": "suggestion_box", "": "import"}

    def values(i, row):
        text, address, name, phone, channel, at = row
        return dict(
            tracking_code=f"R{i:09d}{secrets.token_hex(2)}", channel=channel_codes[channel], text=text, address=address,
            reporter_name=name, reporter_phone=phone, submitted_at=at.replace(tzinfo=tz),
            idempotency_key="raw:" + hashlib.sha256(f"{text}{phone}{at}".encode()).hexdigest()[:48],
        )

    started, cpu_started = time.perf_counter(), time.process_time()
    with transaction.atomic():
        Case.objects.bulk_create([Case(**values(i, r)) for i, r in enumerate(rows)], batch_size=1000)
    bulk_create, bulk_create_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case")

    # The floor: the same rows as the DB driver's executemany, values prepared as Django would.
    objects = [Case(**values(i, r)) for i, r in enumerate(rows)]
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    sql = f"INSERT INTO {Case._meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))})"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        params = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objects]
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start:start + 5000])
    executemany = time.perf_counter() - started
    return {"bulk_create": bulk_create, "bulk_create_cpu": bulk_create_cpu, "executemany": executemany}


if __name__ == "__main__":
    main()
