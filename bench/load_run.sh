#!/usr/bin/env bash
# Load run on loopback: `minsheng serve` (gunicorn) + `minsheng worker` (Celery, Redis) on a
# fresh PostgreSQL database, driven by bench/load_locust.py. Bounded: DURATION (default 150 s).
# Prints locust's summary, then counts what the database holds after the run (every accepted
# submission is one case with one submit event; the outbox drains; the audit chain holds).
#   bench/load_run.sh [USERS] [DURATION]      e.g. bench/load_run.sh 40 150s
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-40}"; DURATION="${2:-150s}"; PORT="${LOAD_PORT:-8077}"
PY=.venv/bin/python; MS=.venv/bin/minsheng
WORK="$(mktemp -d /tmp/minsheng-load.XXXX)"
DB=minsheng_load
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/13"
export MINSHENG_DATA_DIR="$WORK" MINSHENG_EMBEDDED=false MINSHENG_DEBUG=false DB_CONN_MAX_AGE=300
export SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
export MINSHENG_DATA_KEYS="k1:$($PY -c 'from minsheng.core.crypto import new_key_b64; print(new_key_b64())')"
export MINSHENG_INDEX_KEY="$($PY -c 'from minsheng.core.crypto import new_key_b64; print(new_key_b64())')"
# Every simulated resident comes from 127.0.0.1: lift the per-address limits for the run.
export MINSHENG_SUBMIT_RATE=1000000/s MINSHENG_PLACES_RATE=1000000/s LOG_LEVEL=WARNING
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
$MS serve --bind "127.0.0.1:$PORT" --workers "${WEB_WORKERS:-4}" --threads "${WEB_THREADS:-4}" --access-log "" > "$WORK/serve.log" 2>&1 &
SERVE=$!
$MS worker --concurrency 1 --loglevel WARNING > "$WORK/worker.log" 2>&1 &
WORKER=$!
trap 'kill $SERVE $WORKER 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PORT/appeal/new/" >/dev/null  # warm: each worker loads the model on first use

set +e
.venv/bin/locust -f bench/load_locust.py --headless -u "$USERS" -r "$USERS" -t "$DURATION" --host "http://127.0.0.1:$PORT" \
  --csv "$WORK/locust" --only-summary 2>&1 | tail -30
STATUS=$?
set -e
sleep 10  # let the worker drain the outbox
$MS shell -c "
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.models import OutboxMessage
from minsheng.core.services import audit_verify_chain
from django.db.models import Count
cases = Case.objects.count()
submits = CaseEvent.objects.filter(action='submit').count()
dups = CaseEvent.objects.values('case', 'action').filter(action__in=['submit', 'dispatch']).annotate(n=Count('id')).filter(n__gt=1).count()
print(f'cases={cases} submit_events={submits} duplicate_events={dups} auto_dispatched={CaseEvent.objects.filter(action=\"dispatch\").count()}')
print(f'outbox_pending={OutboxMessage.objects.filter(processed_at__isnull=True).count()} outbox_total={OutboxMessage.objects.count()}')
print(f'audit_chain_broken={len(audit_verify_chain())}')
"
grep "POST /appeal/new/" "$WORK/locust_stats.csv" || true
echo "work dir: $WORK (locust_stats.csv, serve.log, worker.log)"
exit $STATUS
