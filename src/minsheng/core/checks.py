"""Deployment checks of our own, run by `minsheng check` (Django's `check --deploy`) next to
Django's: a production must not run on the demo's generated secrets, SQLite or no Redis."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs=None, **kwargs):
    warnings = []
    if getattr(settings, "SECRET_KEY_GENERATED", False):
        warnings.append(Warning(
            "SECRET_KEY comes from the file generated in the data folder.",
            hint="Set SECRET_KEY (or SECRET_KEY_FILE) in the service's environment.", id="minsheng.W001"))
    if getattr(settings, "MINSHENG_DATA_KEYS_GENERATED", False):
        warnings.append(Warning(
            "The personal-data keys come from the file generated in the data folder, beside the data they protect.",
            hint="Set MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEY (or their _FILE variants); see docs/deploy.md.", id="minsheng.W002"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        warnings.append(Warning(
            "The database is SQLite.", hint="Set DATABASE_URL to PostgreSQL for production.", id="minsheng.W003"))
    if not getattr(settings, "REDIS_URL", ""):
        warnings.append(Warning(
            "REDIS_URL is not set: no Celery workers, and rate limits are counted per process.",
            hint="Set REDIS_URL and run `minsheng worker` and `minsheng beat`.", id="minsheng.W004"))
    if getattr(settings, "MINSHENG_RETENTION_DAYS", 0) <= 0:
        warnings.append(Warning(
            "MINSHENG_RETENTION_DAYS is 0: residents' personal data is never erased.",
            hint="Set the retention period the district's records policy requires.", id="minsheng.W005"))
    return warnings
