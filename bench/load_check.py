"""After a load or fault run: wait (bounded) for the workers to deliver the outbox, then count
what the database holds and print it as one JSON line. Run inside the project's settings:

    minsheng shell -c "import sys; sys.argv = ['load_check', '--wait', '600']; exec(open('bench/load_check.py').read())"

Nothing lost: every case has its one submit event and its routing message; every routing
message is delivered. Nothing doubled: no case has two submit, suggest or dispatch events, no
outbox message has two notifications for one unit, and every delivered dispatch message has
exactly its notification.
"""

import json
import sys
import time

from django.db.models import Count, Q

from minsheng.cases.models import Case, CaseEvent
from minsheng.core.models import Notification, OutboxMessage
from minsheng.core.services import audit_verify_chain

wait = float(sys.argv[sys.argv.index("--wait") + 1]) if "--wait" in sys.argv else 0.0
started = time.monotonic()
pending = OutboxMessage.objects.filter(processed_at__isnull=True)
while pending.exists() and time.monotonic() - started < wait:
    left = pending.count()
    time.sleep(15)
    now_left = pending.count()
    print(f"draining: {now_left} messages pending ({(left - now_left) / 15:.1f}/s)", flush=True)
drain_seconds = round(time.monotonic() - started, 1)


def doubled(action: str) -> int:
    return CaseEvent.objects.filter(action=action).values("case").annotate(n=Count("id")).filter(n__gt=1).count()


routes = OutboxMessage.objects.filter(topic="intake.route")
cases = Case.objects.count()
dispatch_messages = OutboxMessage.objects.filter(topic="case.dispatch", processed_at__isnull=False)
notified_dispatches = Notification.objects.filter(
    source_key__regex=r"^\d+:\d+$", text__startswith="新派单"
).count()
per_message = (
    Notification.objects.values("source_key").annotate(n=Count("id")).filter(n__gt=1).count()
)
routed = Case.objects.filter(Q(events__action="suggest") | Q(main_unit__isnull=False)).distinct().count()
result = {
    "drain_seconds": drain_seconds,
    "cases": cases,
    "submit_events": CaseEvent.objects.filter(action="submit").count(),
    "cases_without_submit_event": Case.objects.exclude(events__action="submit").count(),
    "route_messages": routes.count(),
    "route_messages_distinct_cases": routes.values("payload__case_id").distinct().count(),
    "route_messages_pending": routes.filter(processed_at__isnull=True).count(),
    "route_messages_failed_attempts": routes.filter(attempts__gt=0).count(),
    "cases_routed": routed,
    "suggest_events": CaseEvent.objects.filter(action="suggest").count(),
    "auto_dispatch_events": CaseEvent.objects.filter(action="dispatch", actor_kind="system").count(),
    "dispatch_events": CaseEvent.objects.filter(action="dispatch").count(),
    "doubled_submit": doubled("submit"),
    "doubled_suggest": doubled("suggest"),
    "doubled_dispatch": doubled("dispatch"),
    "dispatch_messages_delivered": dispatch_messages.count(),
    "dispatch_notifications": notified_dispatches,
    "notifications_doubled_per_message": per_message,
    "outbox_total": OutboxMessage.objects.count(),
    "outbox_pending": OutboxMessage.objects.filter(processed_at__isnull=True).count(),
    "audit_chain_broken": len(audit_verify_chain()),
}
ok = (
    result["cases"] == result["submit_events"] == result["route_messages"] == result["route_messages_distinct_cases"]
    and result["cases_without_submit_event"] == 0 and result["route_messages_pending"] == 0
    and result["cases_routed"] == result["cases"]
    and result["doubled_submit"] == result["doubled_suggest"] == result["doubled_dispatch"] == 0
    and result["dispatch_notifications"] == result["dispatch_messages_delivered"]
    and result["notifications_doubled_per_message"] == 0 and result["audit_chain_broken"] == 0
)
result["exactly_once"] = ok
print("LOAD_CHECK " + json.dumps(result))
