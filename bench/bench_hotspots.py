"""Benchmark of the hotspot reads (热点) and the month's top problems (每月一题) on PostgreSQL
at a million cases, with an at-scale correctness check against a plain Python count.

Data: N cases (default 1,000,000) over the M months (default 24) up to 2026-11-28: subcategories
and communities drawn with a long tail (a few busy ones, many quiet ones), one case in ten
located at its street only, 2% rejected; phones drawn so that most residents appeal once and
a few many times (the blind index and a ciphertext as the engine stores them). Only case rows
are written (COPY, in submission order as a live system writes them), then ANALYZE: the
hotspot reads touch nothing else.

Run (from the repository root):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/minsheng .venv/bin/python bench/bench_hotspots.py

The data goes to a database `minsheng_bench_hotspots_<N>` on that server, reused by later
runs with the same --cases/--months/--seed (--regenerate forces a fresh one). Prints one JSON
object: the median time of each read over --repeat runs, as a district-wide user and as a
street office, and the result of the correctness check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
END = dt.date(2026, 11, 28)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("needs DATABASE_URL=postgres://... (the server to create the bench database on)")
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/minsheng_bench_hotspots_{args.cases}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.config.settings")
    os.environ.setdefault("MINSHENG_DATA_DIR", str(ROOT / "var" / "bench"))
    ensure_database(args.regenerate)

    import django

    django.setup()
    from django.core.management import call_command

    from minsheng.cases.models import Case

    call_command("migrate", verbosity=0)
    generated = None
    if args.regenerate or Case.objects.count() != args.cases:
        generated = generate(args.cases, args.months, args.seed)
    result = {"cases": Case.objects.count(), "generated": generated, **measure(args.repeat), "check": check()}
    print(json.dumps(result, ensure_ascii=False, default=str))


def ensure_database(regenerate: bool) -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    admin, name = url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and regenerate:
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def generate(n: int, months: int, seed: int) -> dict:
    from zoneinfo import ZoneInfo

    from django.db import connection

    from minsheng.cases.models import Case, Category
    from minsheng.cases.services import district_load_files
    from minsheng.core.crypto import blind_index, encrypt
    from minsheng.core.models import Unit
    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    t0 = time.perf_counter()
    if not Unit.objects.filter(kind="district").exists():
        district_load_files(taxonomy_path=TAXONOMY_PATH, gazetteer_path=GAZETTEER_PATH)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Case._meta.db_table} CASCADE")
    rng = random.Random(seed)
    tz = ZoneInfo("Asia/Shanghai")
    subs = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    communities = list(Unit.objects.communities().values_list("pk", "parent_id"))
    rng.shuffle(subs)
    rng.shuffle(communities)
    sub_weights = [1 / (i + 1) ** 0.9 for i in range(len(subs))]
    comm_weights = [1 / (i + 1) ** 0.7 for i in range(len(communities))]
    start = dt.datetime.combine(END, dt.time()) - dt.timedelta(days=months * 30.4)
    span = (dt.datetime.combine(END, dt.time(23, 59)) - start).total_seconds()
    phone_pool = [f"13{rng.randrange(10**8, 10**9)}" for _ in range(n // 3)]
    cipher: dict[str, tuple[str, str]] = {}
    columns = ["kind", "tracking_code", "channel", "state", "version", "text", "address", "reporter_name", "reporter_phone",
               "is_anonymous", "urgency", "submitted_at", "due_flag", "reply_text", "feedback", "feedback_comment", "no_feedback",
               "supervision_level", "rehandle_count", "reporter_count", "dispatch_meta", "source_type", "source_id", "community_id",
               "street_id", "category_id", "reporter_id_number", "reporter_phone_index", "reporter_phone_last4"]
    # In submission order, as a live system writes them: a period's rows lie together on disk.
    offsets = sorted(span * (rng.random() ** 0.85) for _ in range(n))  # volume grows a little over time
    sub_choices = rng.choices(subs, weights=sub_weights, k=n)
    comm_choices = rng.choices(communities, weights=comm_weights, k=n)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Case._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(n):
                when = start + dt.timedelta(seconds=offsets[i])
                community_id, street_id = comm_choices[i]
                if rng.random() < 0.1:
                    community_id = None
                r = rng.random()
                phone = phone_pool[int(len(phone_pool) * rng.random() ** 3)] if r < 0.6 else f"15{rng.randrange(10**8, 10**9)}"
                if phone not in cipher:
                    cipher[phone] = (encrypt(phone, context="cases.case.reporter_phone"), blind_index(phone))
                enc, index = cipher[phone]
                state = "rejected" if rng.random() < 0.02 else ("closed" if when < start + dt.timedelta(seconds=span * 0.97) else "in_progress")
                copy.write_row(["appeal", f"B{i:011d}", "hotline", state, 1, "小区门口垃圾堆放无人清运", "", "", enc, False, "normal",
                                when.replace(tzinfo=tz), "", "", "", "", False, 0, 0, 1, "{}", "", "", community_id, street_id,
                                sub_choices[i], "", index, phone[-4:]])
        cursor.execute(f"ANALYZE {Case._meta.db_table}")
    return {"seconds": round(time.perf_counter() - t0, 1), "distinct_phones": len(cipher)}


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 1000, 1)


def measure(repeat: int) -> dict:
    from minsheng.analytics.selectors import hotspots as hs
    from minsheng.core.models import Unit, User

    district = Unit.objects.get(kind="district")
    street = Unit.objects.streets().order_by("code").first()
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": "admin", "unit": district})
    office, _ = User.objects.get_or_create(username="bench-street", defaults={"role": "handler", "unit": street})
    start = hs.week_start(END) - dt.timedelta(weeks=11)
    out = {}
    for label, user in (("district", admin), ("street", office)):
        reads = {
            "weekly_12w_category_street": lambda: hs.weekly_counts(user=user, start=start, end=END),
            "weekly_12w_subcategory_community": lambda: hs.weekly_counts(user=user, start=start, end=END, by="subcategory", place="community"),
            "heat_table": lambda: hs.heat_table(hs.weekly_counts(user=user, start=start, end=END)),
            "rising_places": lambda: hs.rising_places(user=user, week=END),
            "recurring_places": lambda: hs.recurring_places(user=user, end=END),
            "repeat_reporters_12w": lambda: hs.repeat_reporters(user=user, start=start, end=END),
            "month_problems": lambda: hs.month_problems(month=END, user=user),
        }
        out[label] = {name: _median(fn, repeat) for name, fn in reads.items()}
        out[label]["rising_found"] = len(hs.rising_places(user=user, week=END))
        out[label]["repeat_reporters_found"] = len(hs.repeat_reporters(user=user, start=start, end=END))
    out["top_problems_ms"] = _median(lambda: hs.top_problems(month=END), repeat)
    return {"ms": out}


def check() -> dict:
    """top_problems and the weekly counts of the last 12 weeks against a plain Python count
    over the same rows."""
    from collections import Counter

    from django.utils import timezone

    from minsheng.analytics.selectors import hotspots as hs
    from minsheng.cases.models import Case

    first = END.replace(day=1)
    begin, finish = hs.local_bounds(first, hs.next_month(first) - dt.timedelta(days=1))
    rows = Case.objects.filter(submitted_at__gte=begin, submitted_at__lt=finish).exclude(state="rejected") \
        .exclude(category__isnull=True).exclude(street__isnull=True).values_list("category_id", "street_id", "community_id")
    counts = Counter(rows)
    top = hs.top_problems(month=END, limit=20)
    month_ok = all(counts[(p["category_id"], p["street_id"], p["community_id"])] == p["count"] for p in top) and \
        top[0]["count"] == max(counts.values())
    start = hs.week_start(END) - dt.timedelta(weeks=11)
    b2, f2 = hs.local_bounds(start, END)
    by_week = Counter(hs.week_start(timezone.localtime(t).date())
                      for t in Case.objects.filter(submitted_at__gte=b2, submitted_at__lt=f2).exclude(state="rejected").values_list("submitted_at", flat=True))
    from minsheng.core.models import User

    weekly = hs.weekly_counts(user=User.objects.get(username="bench-admin"), start=start, end=END)
    return {"top_problems_match": month_ok, "weekly_match": weekly.by_week() == {w: by_week.get(w, 0) for w in weekly.weeks}}


if __name__ == "__main__":
    main()
