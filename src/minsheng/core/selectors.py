"""Reads of the core tables that need care: the audit log as the admin filters it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEntry

#: The audit log's kinds of entry, for the filter: action prefix → label.
AUDIT_GROUPS = {
    "login": "登录",
    "logout": "退出",
    "2fa": "双因素认证",
    "unmask": "查看完整个人信息",
    "export": "导出",
    "user": "人员与权限",
    "admin": "系统管理变更",
    "calendar": "工作日历",
    "case": "案件流转",
    "privacy": "个人信息删除",
    "audit": "审计",
}


def audit_entries(*, group: str = "", actor: str = "", target: str = "", date_from: dt.date | None = None,
                  date_to: dt.date | None = None) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if group:
        qs = qs.filter(Q(action=group) | Q(action__startswith=f"{group}."))
    if actor:
        qs = qs.filter(actor_name__iexact=actor.strip())
    if target:
        qs = qs.filter(target__icontains=target.strip())
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-id")
