from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "minsheng.intake"
    label = "intake"
    verbose_name = _("诉求渠道")

    def ready(self):
        from . import services  # noqa: F401  (registers the outbox handler that routes new appeals)
