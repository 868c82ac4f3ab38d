from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.cases.workflow import TRANSITIONS


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    RETRYING = "retrying", _("重试中")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("已放弃")


#: The events a webhook can subscribe to: one per outbox topic the case engine writes
#: (a new case, then every action of the lifecycle table, including the system's flags).
EVENT_TYPES: tuple[str, ...] = ("case.submit", *(f"case.{action}" for action in TRANSITIONS))
#: Subscribes to every case event, including ones added to the lifecycle later.
ALL_EVENTS = "case.*"
