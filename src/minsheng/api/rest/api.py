"""The REST API: one NinjaAPI with the residents', staff, meta and webhook routers, token
authentication by default, and every error as {"code", "message"}."""

from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.shortcuts import render as render_page
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from minsheng.cases.errors import CaseError
from minsheng.core.calendar import CalendarOutOfRange
from minsheng.core.middleware import mark_unavailable

from ..errors import status_for
from . import cases, public, webhooks
from .auth import TokenAuth
from .parser import StorableTextParser
from .public import UnsupportedMediaType
from .throttle import RateLimited

DESCRIPTION = """
民生诉求平台开放接口 (minsheng open API).

* **Residents** (no token): `POST /api/v1/public/appeals`, `GET /api/v1/public/appeals/{tracking_code}`,
  `POST /api/v1/public/appeals/{tracking_code}/feedback`. Rate-limited; submissions accept an
  `Idempotency-Key` header.
* **Staff and systems**: `Authorization: Bearer <token>` (made with `minsheng token create USERNAME`).
  A token acts as its owner: the same role, unit and data scope as on the workbench.
* Errors: `{"code", "message"}` — `unauthorized` 401, `not_allowed` 403, `not_found` 404,
  `stale` 409, `invalid` 422, `rate_limited` 429, `unavailable` 503 (the database could not be
  reached: nothing was saved; retry, with the same `Idempotency-Key` for a submission).

See also Open311 GeoReport v2 under `/open311/v2/` and docs/api.md.
"""


class OfflineSwagger(DocsBase):
    """Swagger UI from the vendored copy (static/vendor/swagger-ui), started by an external
    script: the site's Content-Security-Policy allows no inline script and no CDN."""

    def render_page(self, request, api, **kwargs):
        return render_page(request, "api/docs.html", {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)})


api = NinjaAPI(
    title="minsheng API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=TokenAuth(),
    docs=OfflineSwagger(),
    docs_url="/docs",
    parser=StorableTextParser(),
)
api.add_router("", public.router)
api.add_router("", cases.router)
api.add_router("", webhooks.router)


def _error(request, status: int, code: str, message: str, errors=None):
    body = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


@api.exception_handler(CaseError)
def case_error(request, exc: CaseError):
    return _error(request, status_for(exc.code), exc.code, exc.message)


@api.exception_handler(CalendarOutOfRange)
def calendar_error(request, exc: CalendarOutOfRange):
    return _error(request, 422, "invalid", str(exc))


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    details = [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors]
    summary = "; ".join(f"{'.'.join(d['loc'][1:] or d['loc'])}: {d['msg']}" for d in details[:5])
    return _error(request, 422, "invalid", f"请求参数有误：{summary}" if summary else "请求参数有误。", details)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _error(request, 401, "unauthorized", "需要有效的接口令牌：Authorization: Bearer <token>。")


@api.exception_handler(RateLimited)
def rate_limited(request, exc):
    return _error(request, 429, "rate_limited", "请求过于频繁，请稍后再试。")


@api.exception_handler(UnsupportedMediaType)
def unsupported_media_type(request, exc):
    return _error(request, 415, "unsupported_media_type", "请以 application/json 或 multipart/form-data 提交。")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_unavailable(request, exc):
    # A restart or failover of the database: the transaction was rolled back whole, so the
    # caller is told to retry, in the API's own format rather than the site's page.
    return mark_unavailable(request, exc, _error(request, 503, "unavailable", "服务暂时不可用，请求未保存，请稍后重试。"))


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", "没有找到。")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 400:  # ninja's "Cannot parse request body": bad input, like any other
        reason = exc.__cause__ if isinstance(exc.__cause__, HttpError) else exc
        return _error(request, 422, "invalid", f"请求参数有误：{reason}")
    return _error(request, exc.status_code, {401: "unauthorized", 403: "not_allowed", 404: "not_found"}.get(exc.status_code, "error"), str(exc))
