"""The Celery app for production: `minsheng worker` and `minsheng beat` run it.

Beat schedules three things: the periodic jobs (deadline flags, closing unanswered cases,
retraining, the other apps' jobs) every 30 seconds; a sweep of the outbox every few seconds,
in case a nudge from a web process was lost; and the nightly purge of personal data past the
retention period.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.config.settings")

app = Celery("minsheng")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["minsheng.core", "minsheng.cases"])


@app.on_after_configure.connect
def _schedule(sender, **kwargs):
    from django.conf import settings

    sender.conf.beat_schedule = {
        "periodic-jobs": {"task": "minsheng.periodic", "schedule": 30.0},
        "outbox-sweep": {"task": "minsheng.outbox.drain", "schedule": float(settings.MINSHENG_OUTBOX_SWEEP_SECONDS)},
        "purge-personal-data": {"task": "minsheng.privacy.purge", "schedule": crontab(hour=3, minute=17)},
    }
