#!/usr/bin/env bash
# django-helpdesk's public ticket form under the same load shape as bench/load_run.sh's form
# residents: gunicorn (gthread, same workers and threads) on PostgreSQL (database
# minsheng_helpdesk), locust on loopback. Needs django-helpdesk in its own venv:
#   python3 -m venv /tmp/helpdesk-venv && /tmp/helpdesk-venv/bin/pip install django-helpdesk gunicorn 'psycopg[binary]'
#   bench/helpdesk_baseline/run.sh [USERS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")"
USERS="${1:-16}"; DURATION="${2:-120s}"; PORT="${HELPDESK_PORT:-8078}"
VENV="${HELPDESK_VENV:-/tmp/helpdesk-venv}"
export PYTHONPATH="$PWD" DJANGO_SETTINGS_MODULE=settings HELPDESK_DB="${HELPDESK_DB:-minsheng_helpdesk}"
WORK="$(mktemp -d /tmp/helpdesk-load.XXXX)"
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $HELPDESK_DB" -c "CREATE DATABASE $HELPDESK_DB"
"$VENV/bin/django-admin" migrate -v0
"$VENV/bin/django-admin" shell -c "
from helpdesk.models import Queue
Queue.objects.create(title='Appeals', slug='appeals', allow_public_submission=True)"
"$VENV/bin/gunicorn" wsgi:application --bind "127.0.0.1:$PORT" --workers "${WEB_WORKERS:-3}" --threads "${WEB_THREADS:-4}" \
  --worker-class gthread > "$WORK/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/tickets/submit/" >/dev/null && break; sleep 1; done
echo "uptime before: $(uptime)"
set +e
../../.venv/bin/locust -f locustfile.py --headless -u "$USERS" -r "$USERS" -t "$DURATION" \
  --host "http://127.0.0.1:$PORT" --only-summary > "$WORK/locust.out" 2>&1
STATUS=$?
set -e
echo "uptime after: $(uptime)"
grep LOAD_SUMMARY "$WORK/locust.out" || tail -30 "$WORK/locust.out"
"$VENV/bin/django-admin" shell -c "
from helpdesk.models import Ticket, FollowUp
print('tickets', Ticket.objects.count(), 'followups', FollowUp.objects.count())"
echo "work dir: $WORK"
exit $STATUS
