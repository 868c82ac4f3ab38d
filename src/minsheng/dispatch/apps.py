from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "minsheng.dispatch"
    label = "dispatch"
    verbose_name = _("智能分拨")

    def ready(self):
        from minsheng.core.worker import periodic_job

        from .services import dispatch_retrain_if_due

        periodic_job("dispatch_retrain")(dispatch_retrain_if_due)
