"""Drain rate of the outbox worker, in-process: deliver due outbox messages for a fixed time
(what `minsheng worker`'s drain task does, without Celery) and print messages/s, split by
topic. Run against a database with a backlog (e.g. after bench/load_run.sh with a short
DRAIN_SECONDS):

    minsheng shell -c "exec(open('bench/load_drain.py').read())"

Env: DRAIN_FOR (seconds, default 60), DRAIN_LIMIT (messages claimed per pass, default 200).
"""

import json
import os
import time

from django.db.models import Count

from minsheng.core.models import OutboxMessage
from minsheng.core.outbox import outbox_process
from minsheng.dispatch.services import dispatch_engine

seconds = float(os.environ.get("DRAIN_FOR", 60))
limit = int(os.environ.get("DRAIN_LIMIT", 200))
dispatch_engine()  # load the model and the duplicate index first, as a running worker has
pending = OutboxMessage.objects.filter(processed_at__isnull=True)
before = dict(pending.values_list("topic").annotate(n=Count("id")))
started, cpu_started = time.monotonic(), time.process_time()
delivered = 0
while time.monotonic() - started < seconds:
    done = outbox_process(limit=limit)
    delivered += done
    if not done:
        break
wall, cpu = time.monotonic() - started, time.process_time() - cpu_started
after = dict(pending.values_list("topic").annotate(n=Count("id")))
print("LOAD_DRAIN " + json.dumps({
    "seconds": round(wall, 1), "delivered": delivered, "messages_per_s": round(delivered / wall, 1),
    "python_cpu_ms_per_message": round(cpu * 1000 / max(1, delivered), 2),
    "by_topic": {topic: before.get(topic, 0) - after.get(topic, 0) for topic in before},
    "pending_after": sum(after.values()),
}))
