from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "minsheng.api"
    label = "api"
    verbose_name = _("开放接口")

    def ready(self):
        from minsheng.core.worker import periodic_job

        from . import handlers  # noqa: F401  (registers the webhook outbox handler)
        from .services.webhooks import webhook_deliveries_send_due

        periodic_job("webhooks")(webhook_deliveries_send_due)
