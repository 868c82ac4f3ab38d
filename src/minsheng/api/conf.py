"""The open interfaces' settings, with their defaults. Read at call time (not import time),
so that `override_settings` works in tests and a deployment's values apply without a code
change. A deployment sets them in config/settings.py from the environment, like the others."""

from __future__ import annotations

from django.conf import settings


def webhook_timeout() -> float:
    """Seconds a webhook receiver has to answer (MINSHENG_WEBHOOK_TIMEOUT, default 5)."""
    return float(getattr(settings, "MINSHENG_WEBHOOK_TIMEOUT", 5))


def open311_jurisdiction() -> str:
    """The jurisdiction_id this Open311 endpoint serves (MINSHENG_OPEN311_JURISDICTION;
    empty: the district's statistical code)."""
    return str(getattr(settings, "MINSHENG_OPEN311_JURISDICTION", "") or "")


def open311_contact() -> str:
    """Who answers for the Open311 endpoint (discovery's `contact`; MINSHENG_OPEN311_CONTACT)."""
    return str(getattr(settings, "MINSHENG_OPEN311_CONTACT", "") or "") or f"{settings.MINSHENG_DISTRICT_NAME} 12345 热线指挥中心"


def open311_key_service() -> str:
    """How to get an api_key (discovery's `key_service`; MINSHENG_OPEN311_KEY_SERVICE)."""
    return str(getattr(settings, "MINSHENG_OPEN311_KEY_SERVICE", "") or "") or (
        "提交请求需要 api_key：请向区指挥中心系统管理员申请（由管理员用 minsheng token create 生成）。"
    )
