"""Celery tasks (production) — thin wrappers over the services, safe to run twice."""

from celery import shared_task


@shared_task(name="minsheng.periodic")
def periodic():
    from minsheng.core.worker import run_periodic_jobs

    return run_periodic_jobs()


@shared_task(name="minsheng.privacy.purge")
def purge_personal_data():
    """Nightly: erase personal data of cases finished longer ago than the retention period."""
    from django.conf import settings

    from .privacy import cases_purge_personal_data

    if settings.MINSHENG_RETENTION_DAYS <= 0:
        return 0
    return cases_purge_personal_data()
