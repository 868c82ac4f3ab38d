#!/usr/bin/env bash
# Load run on loopback: `minsheng serve` (gunicorn) + `minsheng worker` (Celery, Redis) on a
# fresh PostgreSQL database, driven by bench/load_locust.py. Bounded by DURATION.
# Prints locust's one-line JSON summary (throughput, p50/p95/p99, errors) and `uptime` before and
# after, then waits (at most DRAIN_SECONDS) for the worker to route every appeal and counts what
# the database holds (bench/load_check.py): every accepted submission is one case with one
# submit event, routed once, its notifications delivered once.
#   bench/load_run.sh [USERS] [DURATION]      e.g. bench/load_run.sh 60 600s
# Environment: WEB_WORKERS, WEB_THREADS, WORKER_CONCURRENCY, WORKER_NICE (niceness of the
# worker, default 10: residents' requests keep the CPU, the backlog waits), DRAIN_SECONDS,
# LOAD_* (see bench/load_locust.py), LOAD_WARMUP (e.g. 60s, an unmeasured run first),
# LOAD_USER_CLASSES (e.g. "FormResident" for form residents only), LOAD_DB (default
# minsheng_load), LOAD_SKIP_SETUP=1 to reuse the database.
# LOAD_DRIVER=wrk: API submissions driven by wrk (bench/load_wrk.lua; USERS = connections,
# WRK_THREADS default 1), far cheaper than locust on the same cores; LOAD_STAFF_USERS=N adds
# N staff readers (locust, Staff class) for the same duration alongside.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-60}"; DURATION="${2:-600s}"; PORT="${LOAD_PORT:-8077}"
PY=.venv/bin/python; MS=.venv/bin/minsheng
WORK="${LOAD_WORK:-$(mktemp -d /tmp/minsheng-load.XXXX)}"; mkdir -p "$WORK"
DB="${LOAD_DB:-minsheng_load}"

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/13"
export MINSHENG_DATA_DIR="$WORK" MINSHENG_EMBEDDED=false MINSHENG_DEBUG=false DB_CONN_MAX_AGE=300
[ -f "$WORK/env" ] || {
  echo "export SECRET_KEY='$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')'"
  echo "export MINSHENG_DATA_KEYS='k1:$($PY -c 'from minsheng.core.crypto import new_key_b64; print(new_key_b64())')'"
  echo "export MINSHENG_INDEX_KEY='$($PY -c 'from minsheng.core.crypto import new_key_b64; print(new_key_b64())')'"
} > "$WORK/env"
# shellcheck disable=SC1091
. "$WORK/env"
# Every simulated resident comes from 127.0.0.1: lift the per-address limits for the run.
export MINSHENG_SUBMIT_RATE=1000000/s MINSHENG_PLACES_RATE=1000000/s LOG_LEVEL=WARNING

if [ -z "${LOAD_SKIP_SETUP:-}" ]; then
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  redis-cli -n 13 FLUSHDB >/dev/null
  $MS migrate -v0
  $MS load-district >/dev/null
  $MS train-dispatch >/dev/null 2>&1
  $MS shell -c "
from minsheng.core.models import Unit, User
for name, role, kind, code in [('dispatcher', 'dispatcher', 'district', None), ('street-JSL', 'handler', 'street', 'JSL')]:
    unit = Unit.objects.filter(kind=kind, **({'code': code} if code else {})).first()
    User.objects.create_user(username=name, password='load-test-pass-1', role=role, unit=unit)
"
fi
$MS migrate -v0  # a reused database gets the schema of the code under test
$MS serve --bind "127.0.0.1:$PORT" --workers "${WEB_WORKERS:-3}" --threads "${WEB_THREADS:-4}" --access-log "" > "$WORK/serve.log" 2>&1 &
SERVE=$!
nice -n "${WORKER_NICE:-10}" $MS worker --concurrency "${WORKER_CONCURRENCY:-1}" --loglevel WARNING > "$WORK/worker.log" 2>&1 &
WORKER=$!
STAFF=""
# Stop what this run started, and wait (bounded) for the worker to finish its current batch:
# a worker left behind would keep routing while the next run measures.
stop_all() {
  kill $SERVE $WORKER $STAFF 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$WORKER" 2>/dev/null || return 0; sleep 1; done
  pkill -KILL -P "$WORKER" 2>/dev/null; kill -KILL "$WORKER" 2>/dev/null || true
}
trap stop_all EXIT
# A production PostgreSQL runs autovacuum; the server on a CI machine may not (autovacuum=off
# keeps test runs quick). Stand in for it during the run: vacuum and analyze this database once a
# minute, as autovacuum would once the outbox's updates and the growing tables pass its
# thresholds — its CPU is the run's, like autovacuum's would be.
if [ "$(psql -qAt -h 127.0.0.1 -U postgres -c 'SHOW autovacuum')" = off ]; then
  ( while sleep "${VACUUM_EVERY:-60}"; do vacuumdb -q -z -h 127.0.0.1 -U postgres -d "$DB" 2>/dev/null || true; done ) &
  VACUUMER=$!
  trap 'kill $VACUUMER 2>/dev/null; stop_all' EXIT
fi
# CPU seconds used so far by a process and its children (gunicorn's master and workers):
# with the submissions counted, the web tier's CPU per submission, whatever else the machine runs.
# PostgreSQL's is its postmaster's tree: every backend, the WAL writer, the checkpointer and the
# vacuuming above — the whole server's share of the run (nothing else uses it meanwhile).
PGMASTER=$(pgrep -o -u postgres -x postgres || true)
# A process tree's CPU: the root's own and that of its children it has reaped (gunicorn
# replaces a worker after max_requests: the old one's CPU is then in the master's cutime), plus
# the live children's.
tree_cpu() { local t; t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0)
  for p in $(pgrep -P "$1"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "scale=2; $t / $(getconf CLK_TCK)" | bc; }
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
for _ in $(seq 8); do curl -sf "http://127.0.0.1:$PORT/appeal/new/" >/dev/null; done  # warm every web process

if [ "${LOAD_DRIVER:-locust}" = wrk ]; then
  # A 30 s client timeout, like locust's: a slow answer is a latency, not an error, on a shared machine.
  WRK=(wrk -t "${WRK_THREADS:-1}" -c "$USERS" --timeout "${WRK_TIMEOUT:-30s}" -s bench/load_wrk.lua "http://127.0.0.1:$PORT")
  [ -z "${LOAD_WARMUP:-}" ] || "${WRK[@]}" -d "$LOAD_WARMUP" > "$WORK/warmup.out" 2>&1 || true
  echo "uptime before: $(uptime)"
  if [ "${LOAD_STAFF_USERS:-0}" -gt 0 ]; then
    .venv/bin/locust -f bench/load_locust.py --headless -u "$LOAD_STAFF_USERS" -r "$LOAD_STAFF_USERS" -t "$DURATION" \
      --host "http://127.0.0.1:$PORT" --csv "$WORK/staff" --only-summary Staff > "$WORK/staff.out" 2>&1 &
    STAFF=$!
  fi
  WEB_CPU_BEFORE=$(tree_cpu "$SERVE"); WORKER_CPU_BEFORE=$(tree_cpu "$WORKER"); PG_BEFORE=$(tree_cpu "${PGMASTER:-0}")
  set +e
  "${WRK[@]}" -d "$DURATION" > "$WORK/wrk.out" 2>&1
  STATUS=$?
  WEB_CPU=$(echo "$(tree_cpu "$SERVE") - $WEB_CPU_BEFORE" | bc)
  WORKER_CPU=$(echo "$(tree_cpu "$WORKER") - $WORKER_CPU_BEFORE" | bc); PG_CPU=$(echo "$(tree_cpu "${PGMASTER:-0}") - $PG_BEFORE" | bc)
  [ -z "$STAFF" ] || wait "$STAFF" || STATUS=1
  set -e
  echo "uptime after: $(uptime)"
  grep LOAD_SUMMARY "$WORK/wrk.out" || tail -30 "$WORK/wrk.out"
  REQUESTS=$(sed -n 's/.*"requests": \([0-9]*\).*/\1/p' "$WORK/wrk.out")
  per() { echo "scale=2; 1000 * $1 / ${REQUESTS:-1}" | bc; }
  echo "CPU during the run, per submission (${REQUESTS:-?}): web $(per "$WEB_CPU") ms (gunicorn, all processes), PostgreSQL $(per "$PG_CPU") ms (the whole server), worker $(per "$WORKER_CPU") ms (niced, routing the backlog)"
  grep -q '"errors": 0,' "$WORK/wrk.out" || STATUS=1
  [ -z "$STAFF" ] || { printf 'staff: '; grep LOAD_SUMMARY "$WORK/staff.out" || tail -30 "$WORK/staff.out"; }
  kill "$SERVE" 2>/dev/null || true
  $MS shell -c "import sys; sys.argv = ['load_check', '--wait', '${DRAIN_SECONDS:-900}']; exec(open('bench/load_check.py').read())"
  echo "work dir: $WORK (wrk.out, staff.out, serve.log, worker.log)"
  exit $STATUS
fi

if [ -n "${LOAD_WARMUP:-}" ]; then
  # Unmeasured warm-up: each web process builds its dispatch engine's duplicate index on first
  # use (tens of seconds with thousands of open cases) when routing runs in the request.
  .venv/bin/locust -f bench/load_locust.py --headless -u "$USERS" -r "$USERS" -t "$LOAD_WARMUP" --host "http://127.0.0.1:$PORT" \
    --only-summary ${LOAD_USER_CLASSES:-} > "$WORK/warmup.out" 2>&1 || true
fi
echo "uptime before: $(uptime)"
WEB_CPU_BEFORE=$(tree_cpu "$SERVE")
set +e
.venv/bin/locust -f bench/load_locust.py --headless -u "$USERS" -r "$USERS" -t "$DURATION" --host "http://127.0.0.1:$PORT" \
  --csv "$WORK/locust" --only-summary ${LOAD_USER_CLASSES:-} > "$WORK/locust.out" 2>&1
STATUS=$?
set -e
echo "uptime after: $(uptime)"
grep LOAD_SUMMARY "$WORK/locust.out" || tail -30 "$WORK/locust.out"
echo "web tier CPU: $(echo "$(tree_cpu "$SERVE") - $WEB_CPU_BEFORE" | bc) s (gunicorn, all processes)"
kill "$SERVE" 2>/dev/null || true
# The worker keeps routing the backlog: wait for it (bounded), then count.
$MS shell -c "import sys; sys.argv = ['load_check', '--wait', '${DRAIN_SECONDS:-900}']; exec(open('bench/load_check.py').read())"
echo "work dir: $WORK (locust.out, locust_stats.csv, serve.log, worker.log)"
exit $STATUS
