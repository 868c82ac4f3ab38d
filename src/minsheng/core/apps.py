from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "minsheng.core"
    label = "core"
    verbose_name = _("组织与系统")

    def ready(self):
        from . import checks, receivers  # noqa: F401  (registers the deployment checks)

        receivers.connect()
