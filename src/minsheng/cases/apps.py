from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "minsheng.cases"
    label = "cases"
    verbose_name = _("案件")

    def ready(self):
        from . import handlers  # noqa: F401  (registers outbox handlers)
