"""The district as data: its org tree, its staff, its working calendar, and the plumbing
(outbox, audit log) every other app writes through."""

from __future__ import annotations

import hashlib
import json

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Role, UnitKind
from .fields import EncryptedTextField


class UnitQuerySet(models.QuerySet):
    def streets(self):
        return self.filter(kind=UnitKind.STREET)

    def communities(self):
        return self.filter(kind=UnitKind.COMMUNITY)

    def departments(self):
        return self.filter(kind=UnitKind.DEPARTMENT)

    def handling_units(self):
        """Units a case can be dispatched to: departments, street offices and communities."""
        return self.filter(kind__in=[UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY], active=True)


class Unit(models.Model):
    """A node of the district's org tree (区 → 街道 → 社区/村; 区直部门 and utility companies
    hang under the district). Its `key` (``street:JSL``, ``dept:CGJ``) is how the taxonomy,
    the dispatch engine and the API name it."""

    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices)
    code = models.CharField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级"))
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    places = models.JSONField(_("地点"), default=list, blank=True)
    roads = models.JSONField(_("道路"), default=list, blank=True)
    stat_code = models.CharField(_("统计区划代码"), max_length=20, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("组织机构")
        ordering = ["kind", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="unit_kind_code_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"

    @property
    def street(self) -> "Unit | None":
        """The street office this unit belongs to (itself for a street office)."""
        if self.kind == UnitKind.STREET:
            return self
        if self.kind == UnitKind.COMMUNITY:
            return self.parent
        return None


class User(AbstractUser):
    """A member of staff. Residents have no account: they hold a tracking code instead."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.HANDLER)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("所在单位"))
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    # Optional two-factor login (core/twofactor.py): the TOTP secret, encrypted at rest.
    totp_secret = EncryptedTextField(_("双因素密钥"), blank=True, editable=False)
    totp_enabled_at = models.DateTimeField(_("双因素登录启用时间"), null=True, blank=True, editable=False)
    totp_last_step = models.BigIntegerField(default=0, editable=False, help_text="Last accepted TOTP time step: a code is accepted once.")

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles


class CalendarDay(models.Model):
    """One day whose status differs from the plain Mon–Fri week: a public holiday, an
    adjusted working weekend (调休上班), or a local day off. Seeded from the official State
    Council schedule (chinesecalendar) and editable by the admin."""

    class Source(models.TextChoices):
        OFFICIAL = "official", _("国务院安排")
        PROVISIONAL = "provisional", _("暂定（法定节假日）")
        LOCAL = "local", _("本地调整")

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.OFFICIAL)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_workday else '休'} {self.name}"


class CalendarYear(models.Model):
    """A year whose holiday schedule is loaded: the official one, or a provisional one (the
    statutory holidays) for next year until its schedule is announced, usually in November.
    Working-day deadlines are refused past the last loaded year rather than guessed."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    loaded_at = models.DateTimeField(default=timezone.now)
    #: Only the public holidays the law fixes, until the State Council's notice is loaded.
    provisional = models.BooleanField(_("暂定"), default=False)

    class Meta:
        verbose_name = _("已录入年度")
        verbose_name_plural = _("已录入年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}（暂定）" if self.provisional else str(self.year)


class OutboxMessage(models.Model):
    """A side effect (notification, webhook, index update) written in the same transaction as
    the change that caused it, and delivered afterwards by a worker. The durable record: a lost
    queue message or a crashed worker loses nothing, and handlers are idempotent by `id`."""

    topic = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("消息发件箱")
        indexes = [models.Index(fields=["processed_at", "available_at"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"{self.topic}#{self.pk}"


class AuditEntry(models.Model):
    """An append-only record of a security-relevant act (login, permission change, export,
    unmasked read). Each entry hashes its predecessor, so an edited or deleted row breaks the
    chain and `audit_verify_chain` finds it."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计日志")
        ordering = ["-id"]

    def compute_hash(self) -> str:
        body = json.dumps(
            [self.prev_hash, self.at.isoformat(), self.actor_name, self.action, self.target, self.detail, self.ip],
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Notification(models.Model):
    """A message in a unit's or a user's inbox on the workbench (new dispatch, due soon...)."""

    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    source_key = models.CharField(max_length=80, unique=True, help_text="Outbox message id + recipient; makes delivery idempotent.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
