# The Celery app is created with the settings, so `celery.current_app` in any process (web or
# worker) is minsheng's, configured from these settings (Celery's documented Django layout).
from .celery import app as celery_app

__all__ = ("celery_app",)
