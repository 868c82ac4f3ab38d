"""Celery tasks (production) — thin wrappers over the services, safe to run twice."""

from celery import shared_task


@shared_task(name="minsheng.periodic")
def periodic():
    from minsheng.core.worker import run_periodic_jobs

    return run_periodic_jobs()
