"""Benchmark of the measuring layer (问效于民): the monthly ranking of every unit and the
district's figures, on SQLite and on PostgreSQL, against a naive baseline in the same run.

The naive baseline is what one writes first: take every case with an event in the month,
load its events, walk them in Python and add up each unit's figures, with handling time
from `WorkCalendar.working_time_between`. It is also the at-scale correctness check: the
run fails if its counts differ from the selectors'.

Data: N cases (default 200,000) over the last M months (default 24, ending 2025-12-31) with
realistic histories — accept or automatic dispatch, delegation to communities, returns and
redispatch, acknowledgement and contact mostly (not always) by their deadlines, extensions,
red flags, replies, send-backs, feedback with re-handling, closes without feedback — about
ten events per case. Rows are written directly (SQLite executemany, PostgreSQL COPY) in
chronological batches, so a case's events lie near each other on disk as they would after
a month of real work, then ANALYZE. Only cases and events are written: the measures read
nothing else.

Run (from the repository root):

    .venv/bin/python bench/bench_analytics.py                     # SQLite (+ PostgreSQL if
                                                                  # DATABASE_URL points at it)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_analytics.py --cases 1000000 # the issue's scale: ~8.2M
                                                                  # events, ~25 min to generate

The SQLite file goes to var/bench/, the PostgreSQL data to the database `minsheng_bench_ha`
(--pg-database) on the DATABASE_URL server; both are reused by later runs with the same
--cases/--months/--seed (--regenerate forces a fresh one; --generate-only builds the data and
measures nothing). Prints one JSON object.

Besides the rates, it measures the leaders' screens through their own code
(analytics/selectors/dashboard.py, analytics/ledgers.py): the district dashboard, one
drill-down page (first 50 rows and the count, p95 of 20) and an xlsx ledger of 100,000 rows,
each against a naive baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BENCH_DIR = ROOT / "var" / "bench"
PG_DB = "minsheng_bench_ha"


# ---------------------------------------------------------------- driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each fast measure (median reported)")
    parser.add_argument("--backends", default="", help="comma-separated: sqlite,postgresql (default: sqlite, plus postgresql if DATABASE_URL is one)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true", help="build (or check) the cached data, measure nothing")
    parser.add_argument("--pg-database", default=PG_DB, help="PostgreSQL database for the data (created if missing)")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args), ensure_ascii=False))
        return
    url = os.environ.get("DATABASE_URL", "")
    backends = [b for b in args.backends.split(",") if b] or ["sqlite"] + (["postgresql"] if url.startswith("postgres") else [])
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results = {}
    for backend in backends:
        env = dict(os.environ, MINSHENG_DATA_DIR=str(BENCH_DIR), DJANGO_SETTINGS_MODULE="minsheng.config.settings")
        if backend == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{BENCH_DIR / f'analytics-{args.cases}.sqlite3'}"
        else:
            if not url.startswith("postgres"):
                sys.exit("postgresql needs DATABASE_URL=postgres://... (the server to create the bench database on)")
            env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{args.pg_database}"
        cmd = [sys.executable, __file__, "--worker", backend, "--cases", str(args.cases), "--months", str(args.months),
               "--seed", str(args.seed), "--repeat", str(args.repeat)] + (["--regenerate"] if args.regenerate else []) \
            + (["--generate-only"] if args.generate_only else [])
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
        results[backend] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({
        "benchmark": "analytics", "cases": args.cases, "months": args.months, "machine": machine(), "results": results,
    }, ensure_ascii=False, indent=2))


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


# ---------------------------------------------------------------- worker


def worker(args) -> dict:
    import django

    if args.worker == "postgresql":
        ensure_pg_database(args.regenerate)
    elif args.regenerate:
        path = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from minsheng.cases.models import Case, CaseEvent

    call_command("migrate", verbosity=0)
    marker = BENCH_DIR / f"analytics-{args.worker}-{args.cases}.json"
    wanted = {"cases": args.cases, "months": args.months, "seed": args.seed}
    generated = None
    have = json.loads(marker.read_text()) if marker.exists() else None
    if have != wanted or Case.objects.count() != args.cases:
        generated = generate(args.cases, args.months, args.seed)
        marker.write_text(json.dumps(wanted))
    with connection.cursor() as cursor:
        # What autovacuum keeps up on a running server: statistics, and the visibility map
        # that lets index-only scans skip the table (migrations' bulk updates clear it).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    month = month_to_measure(args.months)
    result = {
        "backend": connection.vendor,
        "server": server_version(connection),
        "events": CaseEvent.objects.count(),
        "month": month.isoformat(),
    }
    if generated:
        result["generation"] = generated
    if not args.generate_only:
        result.update(measure(month, args.repeat))
    return result


def ensure_pg_database(regenerate: bool) -> None:
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


def server_version(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        return cursor.fetchone()[0]


def month_to_measure(months: int) -> dt.date:
    """The last complete month of the data: its cases have had time to be handled."""
    return dt.date(2025, 11, 1)


# ---------------------------------------------------------------- data

END = dt.datetime(2026, 1, 1)


def generate(n: int, months: int, seed: int) -> dict:
    """Write n cases with their event histories; returns timings."""
    from zoneinfo import ZoneInfo

    from django.db import connection, transaction

    from minsheng.cases.deadlines import Duration, extend_by_working_days, policy_for
    from minsheng.cases.episodes import EpisodeWalk, judged_outcome
    from minsheng.cases.models import Case, CaseEvent, Category
    from minsheng.cases.services import district_load_files
    from minsheng.core.bulk import write_prepared
    from minsheng.core.calendar import get_calendar
    from minsheng.core.models import Unit
    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -2000000")  # 2 GB of page cache while the indexes grow
            cursor.execute("PRAGMA foreign_keys = OFF")  # the rows are made consistent; checking them is the slow part
        else:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers during the load (superuser)
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for table in (CaseEvent._meta.db_table, Case._meta.db_table):
            cursor.execute(f"DELETE FROM {table}")
    if not Unit.objects.filter(kind="district").exists():
        district_load_files(taxonomy_path=TAXONOMY_PATH, gazetteer_path=GAZETTEER_PATH)
    tz = ZoneInfo("Asia/Shanghai")
    calendar = get_calendar()
    rng = random.Random(seed)
    units = {u.pk: u for u in Unit.objects.all()}
    keys = {pk: u.key for pk, u in units.items()}
    departments = [u.pk for u in units.values() if u.kind == "dept"]
    streets = [u.pk for u in units.values() if u.kind == "street"]
    communities = [u.pk for u in units.values() if u.kind == "community"]
    parent = {u.pk: u.parent_id for u in units.values()}
    street_communities = defaultdict(list)
    for c in communities:
        street_communities[parent[c]].append(c)
    subcats = list(Category.objects.filter(parent__isnull=False).values_list("id", "routing", "department_id"))
    policies = {u: {k: Duration.parse(v) for k, v in policy_for(u).items()} for u in ("urgent", "normal", "complex")}

    end = END.replace(tzinfo=tz)
    start = (END.replace(day=1) - dt.timedelta(days=31 * months - 15)).replace(day=1, tzinfo=tz)
    span = (end - start).total_seconds()
    hours = list(range(24))
    hour_weights = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 9, 11, 13, 13, 12, 10, 8, 7, 6, 4, 3, 2]

    def hours_later(t, lo, hi):
        return t + dt.timedelta(seconds=rng.uniform(lo, hi) * 3600)

    def history(case_id: int):
        day = start + dt.timedelta(seconds=rng.random() * span)
        day = day.replace(hour=rng.choices(hours, hour_weights)[0], minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        t = day
        u = rng.random()
        urgency = "urgent" if u < 0.05 else "complex" if u < 0.15 else "normal"
        sub_id, routing, dept = rng.choice(subcats)
        community = rng.choice(communities) if rng.random() < 0.9 else None
        street = parent[community] if community else rng.choice(streets)
        events = [(t, "submit", "", "submitted", None, {"channel": "hotline"}, "resident")]
        state = "submitted"
        main = None
        due = {}

        def ev(when, action, to_state, unit, data=None, kind="staff"):
            nonlocal state
            events.append((when, action, state, to_state or state, unit, data or {}, kind))
            if to_state:
                state = to_state

        r = rng.random()
        if r < 0.03:
            ev(hours_later(t, 0.2, 8), "reject", "rejected", None)
            return events, locals()
        if r < 0.05:
            ev(hours_later(t, 0.2, 8), "merge", "merged", None, {"master_id": None})
            return events, locals()
        if rng.random() < 0.6:
            t = hours_later(t, 0.1, 4)
            ev(t, "accept", "accepted", None)
        unit = street if routing == "territorial" or not dept else dept
        for episode in range(3):
            t = hours_later(t, 0.05, 3)
            pol = policies[urgency]
            due = {k: pol[f"{k}_within"].after(t, calendar) for k in ("acknowledge", "contact", "resolve")}
            ev(t, "dispatch", "dispatched", unit, {
                "unit": keys[unit], "co_units": [], "urgency": urgency,
                "acknowledge_due_at": due["acknowledge"].isoformat(), "contact_due_at": due["contact"].isoformat(),
                "resolve_due_at": due["resolve"].isoformat(),
            }, "system" if episode == 0 and rng.random() < 0.4 else "staff")
            dispatched_at, main = t, unit
            if units[unit].kind == "street" and rng.random() < 0.4:
                target = community if community in street_communities[unit] else rng.choice(street_communities[unit])
                t = hours_later(t, 0.2, 2)
                ev(t, "delegate", None, target, {"unit": keys[target]})
                main = target
            if rng.random() < (0.04 if episode == 0 else 0.01):
                if rng.random() < 0.5:
                    t = hours_later(t, 0.1, 2)
                    ev(t, "acknowledge", "in_progress", main)
                t = hours_later(t, 0.5, 10)
                ev(t, "return", "accepted", main)
                others = departments + streets
                unit = rng.choice([x for x in others if x != unit])
                continue
            window = (due["acknowledge"] - t).total_seconds()
            if rng.random() < 0.92:
                t = t + dt.timedelta(seconds=rng.uniform(0.02, 0.95) * max(window, 60))
            else:
                t = due["acknowledge"] + dt.timedelta(seconds=rng.uniform(0.6, 20) * 3600)
                ev(due["acknowledge"] + dt.timedelta(minutes=rng.uniform(1, 30)), "flag", None, main,
                   {"flag": "red", "stage": "acknowledge", "due_at": due["acknowledge"].isoformat()}, "system")
            ev(t, "acknowledge", "in_progress", main)
            c = rng.random()
            if c < 0.88:
                first = dispatched_at + (due["contact"] - dispatched_at) * rng.uniform(0.05, 0.98)
                contact_at = max(first, t + dt.timedelta(seconds=30))
            elif c < 0.95:
                contact_at = due["contact"] + dt.timedelta(hours=rng.uniform(0.5, 48))
            else:
                contact_at = None
            resolve_due = due["resolve"]
            pending_ext = None
            if rng.random() < 0.06:
                pending_ext = hours_later(t, 1, 48)
            reply_at = None
            if rng.random() < 0.88:
                reply_at = t + (resolve_due - t) * rng.uniform(0.05, 0.9)
            else:
                reply_at = resolve_due + dt.timedelta(hours=rng.uniform(1, 120))
            timeline = []
            if contact_at:
                timeline.append((contact_at, "contact"))
                if rng.random() < 0.2:
                    timeline.append((contact_at + dt.timedelta(hours=rng.uniform(2, 72)), "contact"))
            if pending_ext:
                timeline.append((pending_ext, "request_extension"))
            timeline.sort()
            for when, action in timeline:
                if when >= reply_at:
                    continue
                if action == "contact":
                    ev(when, "contact", None, main)
                else:
                    days = rng.randint(3, 10)
                    ev(when, "request_extension", None, main, {"working_days": days})
                    decided = hours_later(when, 1, 24)
                    if decided < reply_at:
                        approved = rng.random() < 0.8
                        data = {"extension_id": None, "approved": approved, "working_days": days}
                        if approved:
                            resolve_due = extend_by_working_days(resolve_due, days, calendar)
                            data["resolve_due_at"] = resolve_due.isoformat()
                            if reply_at > due["resolve"] and rng.random() < 0.7:
                                reply_at = decided + (resolve_due - decided) * rng.uniform(0.05, 0.9)
                        ev(decided, "decide_extension", None, main, data)
            if reply_at > resolve_due:
                ev(resolve_due + dt.timedelta(minutes=rng.uniform(1, 30)), "flag", None, main,
                   {"flag": "red", "stage": "resolve", "due_at": resolve_due.isoformat()}, "system")
            t = max(reply_at, events[-1][0] + dt.timedelta(seconds=1))

            def rehandle(t, action, data):
                # Re-handling starts a fresh resolve clock (cases.services._rehandle_updates);
                # the unit mostly answers within it, sometimes late (with a red flag).
                fresh_due = pol["resolve_within"].after(t, calendar)
                ev(t, action, "in_progress", main, {**data, "resolve_due_at": fresh_due.isoformat()},
                   "resident" if action == "feedback_reopen" else "staff")
                due["resolve"] = fresh_due
                if rng.random() < 0.85:
                    return max(t + (fresh_due - t) * rng.uniform(0.05, 0.9), t + dt.timedelta(minutes=5))
                ev(fresh_due + dt.timedelta(minutes=rng.uniform(1, 30)), "flag", None, main,
                   {"flag": "red", "stage": "resolve", "due_at": fresh_due.isoformat()}, "system")
                return fresh_due + dt.timedelta(hours=rng.uniform(1, 72))

            for round_ in range(3):
                ev(t, "reply", "replied", main)
                t = hours_later(t, 0.3, 24)
                if rng.random() < 0.08 and round_ < 2:
                    t = rehandle(t, "send_back", {})
                    continue
                ev(t, "approve", "awaiting_feedback", main, {"reply": ""})
                if rng.random() < 0.7:
                    t = hours_later(t, 2, 120)
                    x = rng.random()
                    rating = "satisfied" if x < 0.78 else "basic" if x < 0.92 else "unsatisfied"
                    if round_ == 2 and rating == "unsatisfied":
                        rating = "basic"
                    resolved = rating != "unsatisfied" and rng.random() > 0.04
                    if rating == "unsatisfied":
                        t = rehandle(t, "feedback_reopen", {"rating": rating, "resolved": resolved})
                        continue
                    ev(t, "feedback_close", "closed", main, {"rating": rating, "resolved": resolved}, "resident")
                else:
                    t = t + dt.timedelta(days=7, minutes=rng.uniform(1, 60))
                    ev(t, "close_no_feedback", "closed", main, {}, "system")
                break
            break
        return events, locals()

    vendor = connection.vendor
    dropped = []
    if vendor == "postgresql":
        # Build the event table's secondary indexes once at the end instead of row by row.
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
                           [CaseEvent._meta.db_table, "%pkey"])
            dropped = cursor.fetchall()
            for name, _ in dropped:
                cursor.execute(f'DROP INDEX "{name}"')
    event_columns = ["id", "case_id", "action", "from_state", "to_state", "actor_id", "actor_kind", "actor_unit_id", "unit_id",
                     "reason", "data", "is_public", "at", "episode_at", "episode_unit_id", "due_at", "first_in_episode", "responded",
                     "outcome", "resolved"]
    case_fields = [f for f in Case._meta.concrete_fields]
    # Columns the measures do not read (personal data, which is encrypted, among them) keep
    # their defaults: empty, so nothing needs encrypting.
    defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection) for f in case_fields}
    case_columns = [f.column for f in case_fields]
    utc = dt.timezone.utc

    def stamp(value):
        if value is None:
            return None
        return str(value.astimezone(utc).replace(tzinfo=None)) if vendor == "sqlite" else value

    public = {"submit", "accept", "reject", "dispatch", "merge", "acknowledge", "approve", "feedback_close", "feedback_reopen", "close_no_feedback"}
    event_id = 0
    batch = 50_000
    gen_seconds = write_seconds = 0.0
    total_events = 0
    for first in range(0, n, batch):
        g0 = time.perf_counter()
        case_rows, event_rows = [], []
        histories = []
        for case_id in range(first + 1, min(n, first + batch) + 1):
            events, v = history(case_id)
            events = [e for e in events if e[0] < end]
            histories.append((case_id, events, v))
        histories.sort(key=lambda h: h[1][0][0])
        for case_id, events, v in histories:
            last = {}
            for e in events:
                last[e[1]] = e[0]
            final_state = events[-1][3]
            row = {
                "id": case_id, "kind": "appeal", "tracking_code": f"B{case_id:09d}", "channel": "hotline", "state": final_state,
                "version": len(events), "text": "计划路菜市场门口垃圾三天没人清运，气味很大", "is_anonymous": False, "category_id": v["sub_id"],
                "urgency": v["urgency"], "street_id": v["street"], "community_id": v["community"],
                "main_unit_id": v["main"] if final_state not in ("accepted", "submitted", "rejected", "merged") else None,
                "submitted_at": stamp(events[0][0]), "accepted_at": stamp(last.get("accept")), "dispatched_at": stamp(last.get("dispatch")),
                "acknowledged_at": stamp(last.get("acknowledge")), "contacted_at": stamp(last.get("contact")),
                "replied_at": stamp(last.get("reply")), "approved_at": stamp(last.get("approve")),
                "closed_at": stamp(last.get("feedback_close") or last.get("close_no_feedback") or last.get("reject") or last.get("merge")),
                "acknowledge_due_at": stamp(v["due"].get("acknowledge")), "contact_due_at": stamp(v["due"].get("contact")),
                "resolve_due_at": stamp(v["due"].get("resolve")), "due_flag": "", "reply_text": "", "feedback": "",
                "feedback_resolved": None, "feedback_comment": "", "feedback_at": None, "no_feedback": "close_no_feedback" in last,
                "supervision_level": 0, "rehandle_count": 0, "reporter_count": 1, "merged_into_id": None, "idempotency_key": None,
                "dispatch_meta": "{}", "source_type": "", "source_id": "", "created_by_id": None,
            }
            case_rows.append(tuple(row[f.attname] if f.attname in row else defaults[f.attname] for f in case_fields))
            # The episode facts the engine records on append (cases/episodes.py), walked in
            # the order the rows get their ids: by time.
            walk = EpisodeWalk()
            for seq in sorted(range(len(events)), key=lambda i: (events[i][0], i)):
                when, action, from_state, to_state, unit, data, kind = events[seq]
                facts = walk.step(action, when, unit, data)
                event_rows.append((when, case_id, seq, action, from_state, to_state, kind, unit, json.dumps(data), action in public,
                                   facts, judged_outcome(action, data)))
        event_rows.sort(key=lambda r: (r[0], r[1], r[2]))
        rows = []
        for when, case_id, _seq, action, from_state, to_state, kind, unit, data, is_public, facts, verdict in event_rows:
            event_id += 1
            rows.append((event_id, case_id, action, from_state, to_state, None, kind, None, unit, "", data, is_public, stamp(when),
                         stamp(facts.episode_at), facts.episode_unit_id, stamp(facts.due_at), facts.first_in_episode,
                         facts.responded, verdict["outcome"], verdict["resolved"]))
        g1 = time.perf_counter()
        with transaction.atomic():
            write_prepared(Case._meta.db_table, case_columns, case_rows)
            write_prepared(CaseEvent._meta.db_table, event_columns, rows)
        gen_seconds += g1 - g0
        write_seconds += time.perf_counter() - g1
        total_events += len(rows)
        print(f"  {min(n, first + batch):>9,} cases, {total_events:>11,} events", file=sys.stderr, flush=True)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            for _, definition in dropped:
                cursor.execute(definition)
            cursor.execute("SET session_replication_role = DEFAULT")
            for table in (Case._meta.db_table, CaseEvent._meta.db_table):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    return {"seconds": round(time.perf_counter() - t0, 1), "python_seconds": round(gen_seconds, 1),
            "write_seconds": round(write_seconds, 1), "events": total_events}


# ---------------------------------------------------------------- measures


def timed(fn, repeat: int) -> tuple[float, object]:
    fn()  # warm caches (the calendar, the work clock, the database's pages)
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def measure(month: dt.date, repeat: int) -> dict:
    from minsheng.analytics import selectors

    start, end = selectors.month_bounds(month)
    kinds = ("dept", "street", "community")

    def ranking_all():
        return selectors.monthly_rankings(month=month)

    ranking_s, rankings = timed(ranking_all, repeat)
    district_s, district = timed(lambda: selectors.district_rates(start=start, end=end), repeat)
    units_s, fast_units = timed(lambda: selectors.unit_rates(start=start, end=end, rollup=False), repeat)

    t0 = time.perf_counter()
    naive = naive_tallies(start, end)
    naive_rankings = naive_ranking(naive, month)
    naive_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_district = naive_district_tally(naive)
    naive_district_s = naive_s + time.perf_counter() - t0  # the walk is the same for the district

    mismatches = compare(fast_units, naive, district, naive_district)
    same_order = all(
        [r.unit.pk for r in rankings[k].rows if r.rank] == [pk for pk in naive_rankings[k]] for k in kinds
    )
    if mismatches or not same_order:
        raise SystemExit(f"naive and fast disagree: {mismatches[:5]} same ranking order: {same_order}")
    pages = measure_pages(month, repeat, naive_district_s)
    return {
        "district": {
            "dispatches": district.dispatches, "response_rate": round(district.response_rate, 4),
            "resolution_rate": round(district.resolution_rate, 4), "satisfaction_rate": round(district.satisfaction_rate, 4),
            "on_time_rate": round(district.on_time_rate, 4), "avg_handling_hours": round(district.avg_handling_hours, 2),
        },
        "ranked_units": {k: sum(1 for r in rankings[k].rows if r.rank) for k in kinds},
        "monthly_ranking_all_units_s": round(ranking_s, 4),
        "district_figures_s": round(district_s, 4),
        "unit_rates_all_units_s": round(units_s, 4),
        "naive_ranking_all_units_s": round(naive_s, 3),
        "naive_district_figures_s": round(naive_district_s, 3),
        "ratio_ranking": round(naive_s / ranking_s, 1),
        "ratio_district": round(naive_district_s / district_s, 1),
        "naive_agrees": True,
        **pages,
    }


def bench_leader():
    from minsheng.core.models import Unit, User

    district = Unit.objects.get(kind="district")
    user, _ = User.objects.get_or_create(username="bench-leader", defaults={"role": "leader", "unit": district})
    return user


def measure_pages(month: dt.date, repeat: int, naive_district_s: float) -> dict:
    """What a leader's screens cost, through the dashboard's own selectors and ledger writer
    (analytics/selectors/dashboard.py, analytics/ledgers.py), each with a naive baseline."""
    try:
        from minsheng.analytics import ledgers
        from minsheng.analytics.selectors import dashboard
    except ImportError as exc:
        return {"pages_missing": str(exc)}
    from minsheng.analytics import selectors
    from minsheng.core.models import Unit

    user = bench_leader()
    start, end = selectors.month_bounds(month)
    out = {}

    # The district dashboard (overview: today, the month's rates, 12-month trend, breakdowns):
    # as leaders open it during the day (the trend's ended months kept in the cache,
    # MINSHENG_DASHBOARD_CACHE_SECONDS), and cold (the cache emptied before every call: the
    # first opening after the cache expired).
    from django.core.cache import cache

    dashboard_s, _ = timed(lambda: dashboard.district_overview(user=user, month=month), repeat)
    out["dashboard_s"] = round(dashboard_s, 4)

    def cold():
        cache.clear()
        return dashboard.district_overview(user=user, month=month)

    cold_s, _ = timed(cold, repeat)
    out["dashboard_cold_s"] = round(cold_s, 4)
    # Naive: the month's district figures walked case by case (only the rates part of the
    # overview, so the ratio is an underestimate).
    out["naive_dashboard_s"] = round(naive_district_s, 3)
    out["ratio_dashboard"] = round(naive_district_s / dashboard_s, 1)

    # One drill-down page: the first 50 cases behind the "responded" figure, and their count,
    # as the list view asks for them — for the first street, and for the whole district (the
    # leader's own figure: every dispatch of the month).
    street = Unit.objects.filter(kind="street").order_by("sort_order", "code").first()
    metric = "responded"
    for label, unit in (("", street), ("district_", None)):
        def page():
            qs = dashboard.cases_behind(user=user, metric=metric, unit_id=unit.pk if unit else None, start=start, end=end)
            return [c.pk for c in qs[:50]], qs.count()

        page()
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            rows, count = page()
            times.append(time.perf_counter() - t0)
        times.sort()
        t0 = time.perf_counter()
        naive_rows, naive_count = naive_responded_page(start, end, unit)
        naive_page_s = time.perf_counter() - t0
        if (rows, count) != (naive_rows, naive_count):
            raise SystemExit(f"drill-down and naive disagree: {count} vs {naive_count}, {rows[:5]} vs {naive_rows[:5]}")
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        out.update({
            f"{label}drilldown": {"metric": metric, "unit": unit.key if unit else "district", "rows": count},
            f"{label}drilldown_page_p50_s": round(statistics.median(times), 4),
            f"{label}drilldown_page_p95_s": round(p95, 4),
            f"naive_{label}drilldown_page_s": round(naive_page_s, 3),
            f"ratio_{label}drilldown_p95": round(naive_page_s / p95, 1),
        })

    # The xlsx ledger of 100,000 rows: the cases received in the three months to `month`.
    first = (start - dt.timedelta(days=62)).replace(day=1)
    rows_qs = dashboard.cases_behind(user=user, metric="received", unit_id=None, start=first, end=end)
    t0 = time.perf_counter()
    content, written = ledgers.workbook(
        [ledgers.case_sheet(ledgers.ledger_rows(rows_qs, 100_000), title="bench")], max_rows=100_000
    )
    export_s = time.perf_counter() - t0
    # Too slow to run on 100,000 rows in a benchmark: timed on the first 10,000, scaled.
    sample = list(rows_qs.values_list("pk", flat=True)[:10_000])
    t0 = time.perf_counter()
    naive_xlsx(sample)
    naive_export_s = (time.perf_counter() - t0) * written / max(1, len(sample))
    naive_rows_n = len(sample)
    out.update({
        "xlsx_rows": written,
        "xlsx_bytes": len(content),
        "xlsx_export_s": round(export_s, 2),
        "naive_xlsx_export_s": round(naive_export_s, 1),
        "naive_xlsx_extrapolated_from_rows": naive_rows_n,
        "ratio_xlsx": round(naive_export_s / export_s, 1),
    })
    return out


def naive_responded_page(start, end, street):
    """The cases behind the "responded" figure of a street (or, with None, the district),
    found by walking in Python every case with a dispatch to it in the period; newest first."""
    from django.db.models import Prefetch

    from minsheng.analytics.selectors.rates import _as_instant
    from minsheng.cases.models import Case, CaseEvent
    from minsheng.core.models import Unit

    start, end = _as_instant(start), _as_instant(end)
    ids = (
        {street.pk, *Unit.objects.filter(parent=street, kind="community").values_list("id", flat=True)}
        if street is not None else set(Unit.objects.values_list("id", flat=True))
    )
    parse = dt.datetime.fromisoformat
    dispatches = CaseEvent.objects.filter(action="dispatch", at__gte=start, at__lt=end)
    if street is not None:
        dispatches = dispatches.filter(unit_id__in=ids)
    case_ids = sorted(set(dispatches.values_list("case_id", flat=True)))
    anchors = []
    for i in range(0, len(case_ids), 2000):
        chunk = case_ids[i:i + 2000]
        for case in Case.objects.filter(id__in=chunk).prefetch_related(Prefetch("events", queryset=CaseEvent.objects.order_by("id"))):
            events = list(case.events.all())
            for index, e in enumerate(events):
                if e.action != "dispatch" or e.unit_id not in ids or not start <= e.at < end:
                    continue
                ack = contact = None
                for later in events[index + 1:]:
                    if later.action in ("return", "dispatch"):
                        break
                    if later.action == "acknowledge" and ack is None:
                        ack = later.at
                    if later.action == "contact" and contact is None:
                        contact = later.at
                if ack and contact and ack <= parse(e.data["acknowledge_due_at"]) and contact <= parse(e.data["contact_due_at"]):
                    anchors.append((e.at, e.id, case.pk))
    anchors.sort(reverse=True)
    return [pk for _at, _id, pk in anchors[:50]], len(anchors)


def naive_xlsx(case_ids: list[int]) -> None:
    """The ledger as one writes it first: a case at a time with its related rows fetched as
    they are touched, into an ordinary (in-memory) openpyxl workbook."""
    import io

    from openpyxl import Workbook

    from minsheng.cases.models import Case
    from minsheng.desk.export import columns

    cols = columns()
    wb = Workbook()
    ws = wb.active
    ws.append([c.title() for c in cols])
    for pk in case_ids:
        case = Case.objects.get(pk=pk)
        ws.append([c.value(case) for c in cols])
    wb.save(io.BytesIO())


# ---------------------------------------------------------------- the naive baseline


def naive_tallies(start, end) -> dict:
    """Per-unit counts, recomputed case by case in Python from each case's events."""
    from django.db.models import Prefetch

    from minsheng.analytics.selectors.rates import Tally, _as_instant
    from minsheng.cases.models import Case, CaseEvent
    from minsheng.core.calendar import get_calendar

    start, end = _as_instant(start), _as_instant(end)
    calendar = get_calendar()
    case_ids = sorted(set(CaseEvent.objects.filter(at__gte=start, at__lt=end).values_list("case_id", flat=True)))
    tallies = defaultdict(Tally)
    parse = dt.datetime.fromisoformat
    for i in range(0, len(case_ids), 2000):
        chunk = case_ids[i:i + 2000]
        for case in Case.objects.filter(id__in=chunk).only("id").prefetch_related(Prefetch("events", queryset=CaseEvent.objects.order_by("id"))):
            events = list(case.events.all())
            dispatch = None
            due = None
            replied_since_dispatch = False
            for index, e in enumerate(events):
                inside = start <= e.at < end
                t = tallies[e.unit_id]
                if e.action in ("send_back", "feedback_reopen") and "resolve_due_at" in e.data:
                    due = parse(e.data["resolve_due_at"])  # re-handling: a fresh resolve clock
                if e.action == "dispatch":
                    dispatch, due, replied_since_dispatch = e, parse(e.data["resolve_due_at"]), False
                    if inside:
                        t.dispatches += 1
                        ack = contact = False
                        for later in events[index + 1:]:
                            if later.action == "return" or later.action == "dispatch":
                                break
                            if later.action == "acknowledge" and not ack:
                                ack = later.at <= parse(e.data["acknowledge_due_at"])
                                ack = ack or "late"
                            if later.action == "contact" and contact is False:
                                contact = later.at <= parse(e.data["contact_due_at"]) or "late"
                        ack, contact = ack is True, contact is True
                        t.acknowledged_on_time += ack
                        t.contacted_on_time += contact
                        t.responded += ack and contact
                elif e.action == "decide_extension" and e.data.get("approved") and "resolve_due_at" in e.data:
                    due = parse(e.data["resolve_due_at"])
                    t.extensions_approved += inside
                elif e.action == "reply":
                    if inside:
                        t.replies += 1
                        t.replies_on_time += e.at <= due
                        if not replied_since_dispatch:
                            t.first_replies += 1
                            t.handling_seconds += calendar.working_time_between(dispatch.at, e.at).total_seconds()
                    replied_since_dispatch = True
                elif not inside:
                    continue
                elif e.action == "delegate":
                    t.delegations_in += 1
                elif e.action == "return":
                    t.returns += 1
                elif e.action == "send_back":
                    t.send_backs += 1
                elif e.action == "flag" and e.data.get("flag") == "red":
                    t.overdue += 1
                elif e.action == "close_no_feedback":
                    t.no_feedback_closes += 1
                elif e.action in ("feedback_close", "feedback_reopen"):
                    t.feedbacks += 1
                    t.reopens += e.action == "feedback_reopen"
                    t.resolved += e.data.get("resolved") is True
                    rating = e.data.get("rating")
                    t.satisfied += rating == "satisfied"
                    t.basic += rating == "basic"
                    t.unsatisfied += rating == "unsatisfied"
    return tallies


def naive_district_tally(tallies: dict):
    from minsheng.analytics.selectors.rates import Tally

    total = Tally()
    for t in tallies.values():
        total.add(t)
    return total


def naive_ranking(tallies: dict, month: dt.date) -> dict:
    """Unit ids in ranked order per kind, from the naive tallies."""
    from minsheng.analytics import conf
    from minsheng.analytics.selectors.rates import Tally, UnitRates
    from minsheng.core.models import Unit

    order = {}
    min_volume = conf.ranking_min_volume()
    for kind in ("dept", "street", "community"):
        scored = []
        units = list(Unit.objects.filter(kind=kind, active=True).order_by("sort_order", "code"))
        for position, unit in enumerate(units):
            total = Tally()
            total.add(tallies.get(unit.pk, Tally()))
            if kind == "street":
                for child in Unit.objects.filter(parent=unit, kind="community"):
                    total.add(tallies.get(child.pk, Tally()), as_roll_up=True)
            rates = UnitRates.build(unit, total, basic_weight=conf.basic_satisfaction_weight(), weights=conf.score_weights())
            if total.received >= min_volume and rates.score is not None:
                scored.append((-round(rates.score, 9), -total.received, position, unit.pk))
        order[kind] = [pk for *_, pk in sorted(scored)]
    return order


def compare(fast_units, naive, district, naive_district) -> list:
    from dataclasses import fields

    from minsheng.analytics.selectors.rates import Tally

    problems = []
    pairs = [(r.unit.key, r, naive.get(r.unit.pk, Tally())) for r in fast_units] + [("district", district, naive_district)]
    for key, fast, slow in pairs:
        for f in fields(Tally):
            a, b = getattr(fast, f.name), getattr(slow, f.name)
            if (abs(a - b) > 1e-3 * max(1.0, abs(b))) if f.name == "handling_seconds" else a != b:
                problems.append((key, f.name, a, b))
    return problems


if __name__ == "__main__":
    main()
