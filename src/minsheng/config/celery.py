"""The Celery app for production: `minsheng worker` and `minsheng beat` run it."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.config.settings")

app = Celery("minsheng")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["minsheng.cases"])
app.conf.beat_schedule = {"periodic-jobs": {"task": "minsheng.periodic", "schedule": 30.0}}
