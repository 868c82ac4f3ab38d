"""The open interfaces' own tables: API tokens, webhook endpoints and their delivery log, and
the Open311 record of a case that came in through GeoReport v2."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.cases.models import Case

from .choices import DeliveryStatus


class ApiToken(models.Model):
    """A key that a member of staff or another system (a city 12345 platform, a mini-program's
    back end) calls the API with (接口令牌). It acts as its owner: the same role, unit and
    data scope. Only the SHA-256 hash of the key is stored; the key is shown once, when it is
    made, and the prefix names it in lists."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("所属用户"))
    name = models.CharField(_("名称"), max_length=100, blank=True)
    prefix = models.CharField(_("前缀"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the whole key, hex.")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name or self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEndpoint(models.Model):
    """A receiver of case events (事件推送地址) registered by the district administrator.
    Every delivery to it is signed with its secret (HMAC-SHA256 over the raw body)."""

    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=100, help_text="Shared with the receiver to check X-Minsheng-Signature.")
    event_types = models.JSONField(_("订阅事件"), default=list, help_text='Topics such as "case.dispatch", or "case.*" for all.')
    description = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("事件推送地址")
        verbose_name_plural = _("事件推送地址")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        from .choices import ALL_EVENTS

        return ALL_EVENTS in self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event sent (or still to be sent) to one endpoint: the delivery log (推送记录).
    Made from an outbox message, at most once per endpoint and message, so a redelivered
    message never sends an event twice; retried with exponential backoff until the receiver
    answers 2xx, and replayable by the administrator."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("接收地址"))
    outbox_message_id = models.BigIntegerField(help_text="The core.OutboxMessage this delivery was made from.")
    delivery_id = models.UUIDField(_("推送编号"), default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(_("事件"), max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A sender holds it until then (crash-safe claim).")
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    last_error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "outbox_message_id"], name="webhook_delivery_once_per_message"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class Open311Request(models.Model):
    """A service request received through Open311 GeoReport v2 (the channel record of a case
    whose channel is 接口): what the 311 client sent that a case has no field for — the
    service's extra questions, the coordinates, the photo's address — and the token it can
    look the request up by."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311", verbose_name=_("案件"))
    token = models.CharField(max_length=32, unique=True)
    service_code = models.CharField(max_length=32)
    attributes = models.JSONField(_("补充信息"), default=dict, blank=True)
    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    jurisdiction_id = models.CharField(max_length=64, blank=True)
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 请求")
        verbose_name_plural = _("Open311 请求")

    def __str__(self) -> str:
        return f"{self.service_code} {self.case_id}"
