"""Every URL of the site, enumerated from Django's resolver (walking includes) and the REST
API's OpenAPI schema, and how to fill each one's path parameters with a real object: of the
handlers' own part of the org tree ("own"), of another unit ("foreign"), the next id nobody
has yet ("sequential") or a made-up one ("guessed")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from minsheng.cases.selectors import queues_for

SCOPES = ("own", "foreign", "sequential", "guessed")
GUESSED_ID = 2_147_483_000
GUESSED_CODE = "261129ZZZZZ"


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name, or "METHOD /api/v1/path" for an API operation
    pattern: str
    has_params: bool


def site_routes() -> dict[str, Route]:
    """URL name → route, for every named pattern outside the REST API and the admin site."""
    found: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace
                walk(p.url_patterns, prefix + str(p.pattern), f"{namespace}:{ns}" if namespace and ns else ns or namespace)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name or f"<unnamed {prefix}{p.pattern}>"
                found[name] = Route(name, prefix + str(p.pattern), bool(p.pattern.regex.groupindex))

    walk(get_resolver().url_patterns, "/", None)
    return found


def api_operations() -> dict[str, Route]:
    """"METHOD /api/v1/path" → route, for every operation in the REST API's schema."""
    from minsheng.api.rest.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return {
        f"{method.upper()} {path}": Route(f"{method.upper()} {path}", path, "{" in path)
        for path, methods in schema["paths"].items()
        for method in methods
    }


def _pk(world, scope: str, kind: str, model=None) -> int:
    if scope == "sequential":
        model = model or type(world.own(kind))
        return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    if scope == "guessed":
        return GUESSED_ID
    return world.objects[scope][kind].pk


def _token(world, scope: str, kind: str) -> str:
    if scope in ("sequential", "guessed"):
        return "x" * 22
    return world.objects[scope][kind].token


def _code(world, scope: str) -> str:
    if scope in ("sequential", "guessed"):
        return GUESSED_CODE
    return world.objects[scope]["case"].tracking_code


def _queue(world, role: str) -> str:
    user = world.user(role)
    queues = queues_for(user) if user else []
    return queues[0][0] if queues else "to_dispatch"


def _notification(world, scope: str, role: str) -> int:
    from minsheng.core.models import Notification

    if scope == "own":
        return world.objects["notification"].get(role, world.objects["notification"]["foreign"]).pk
    if scope == "foreign":
        return world.objects["notification"]["foreign"].pk
    return _pk(world, scope, "notification", Notification)


def _reporter_token(world, scope: str) -> str:
    """The signed token the hotspots page links a repeat reporter's cases with."""
    from django.core import signing

    from minsheng.analytics.selectors.hotspots import REPORTER_TOKEN_SALT
    from minsheng.cases.models import Case

    if scope in ("sequential", "guessed"):
        return signing.dumps("not-an-index", salt=REPORTER_TOKEN_SALT) if scope == "sequential" else "made-up-token"
    index = Case.objects.get(pk=world.objects[scope]["case"].pk).reporter_phone_index
    return signing.dumps(index, salt=REPORTER_TOKEN_SALT)


def _delivery(world, scope: str) -> str:
    if scope in ("own", "foreign"):
        return str(world.own("delivery").delivery_id)
    return str(uuid.uuid4())


#: URL name → how to build its kwargs: (world, scope, role) → dict.
PARAMS: dict[str, Callable] = {
    "intake:submitted": lambda w, s, r: {"tracking_code": _code(w, s)},
    "intake:case": lambda w, s, r: {"tracking_code": _code(w, s)},
    "intake:rate": lambda w, s, r: {"tracking_code": _code(w, s)},
    "desk:queue": lambda w, s, r: {"key": _queue(w, r)},
    "desk:export": lambda w, s, r: {"key": _queue(w, r)},
    "desk:bulk_dispatch": lambda w, s, r: {"key": _queue(w, r)},
    "desk:case": lambda w, s, r: {"pk": _pk(w, s, "case")},
    "desk:act": lambda w, s, r: {"pk": _pk(w, s, "case"), "action": "note"},
    "desk:reveal_phone": lambda w, s, r: {"pk": _pk(w, s, "case")},
    "desk:reveal": lambda w, s, r: {"pk": _pk(w, s, "case"), "field": "name"},
    "desk:notification_open": lambda w, s, r: {"pk": _notification(w, s, r)},
    "desk:case_attachment": lambda w, s, r: {"pk": _pk(w, s, "attachment")},
    **{f"channels:{name}": (lambda kind: lambda w, s, r: {"pk": _pk(w, s, kind)})(kind) for name, kind in {
        "survey": "survey", "survey_edit": "survey", "section_add": "survey", "question_add": "survey",
        "survey_publish": "survey", "survey_close": "survey", "survey_reopen": "survey", "survey_results": "survey",
        "survey_export": "survey", "survey_poster": "survey", "section_edit": "section", "section_delete": "section",
        "question_edit": "question", "question_delete": "question", "question_move": "question",
        "answer_to_appeal": "answer", "box": "box", "paper_entry": "box", "box_active": "box", "box_poster": "box",
        "note_moderate": "note", "forum": "forum", "forum_edit": "forum", "forum_issues_add": "forum",
        "forum_photos_add": "forum", "forum_status": "forum", "forum_ledger": "forum", "visit": "visit",
        "forum_photo": "forum_photo", "visit_photo": "visit_photo",
        "import_batch": "batch", "import_report": "batch", "import_start": "batch", "import_step": "batch",
        "import_cancel": "batch",
    }.items()},
    **{f"channels:{name}": (lambda kind: lambda w, s, r: {"token": _token(w, s, kind)})(kind) for name, kind in {
        "survey_answer": "survey", "survey_done": "survey", "survey_qr": "survey",
        "box_note": "box", "box_done": "box", "box_qr": "box",
    }.items()},
    **{f"analytics:{name}": lambda w, s, r: {"pk": _pk(w, s, "topic")} for name in (
        "topic", "topic_edit", "topic_status", "topic_note", "topic_link", "topic_refresh", "topic_cases_export")},
    "analytics:topic_unlink": lambda w, s, r: {"pk": _pk(w, s, "topic"), "case_id": w.objects["own" if s == "own" else "foreign"]["case"].pk},
    "analytics:hotspots_export": lambda w, s, r: {"table": "heat"},
    "analytics:reporter_cases": lambda w, s, r: {"token": _reporter_token(w, s)},
    "analytics:reporter_cases_export": lambda w, s, r: {"token": _reporter_token(w, s)},
    "channels:reveal": lambda w, s, r: {"kind": "note", "pk": _pk(w, s, "note"), "field": "phone"},
    "open311:discovery": lambda w, s, r: {"fmt": "json"},
    "open311:services": lambda w, s, r: {"fmt": "json"},
    "open311:service": lambda w, s, r: {"code": "CGM.HJWS", "fmt": "json"},
    "open311:requests": lambda w, s, r: {"fmt": "json"},
    "open311:request": lambda w, s, r: {"service_request_id": _code(w, s), "fmt": "json"},
    "open311:token": lambda w, s, r: {"token": "no-such-token", "fmt": "json"},
}


def site_url(world, name: str, scope: str, role: str) -> str:
    builder = PARAMS.get(name)
    return reverse(name, kwargs=builder(world, scope, role) if builder else None)


def api_path(world, path: str, scope: str) -> str:
    """An API path with its parameters filled."""
    return (path.replace("{case_id}", str(_pk(world, scope, "case")))
            .replace("{attachment_id}", str(_pk(world, scope, "attachment")))
            .replace("{tracking_code}", _code(world, scope))
            .replace("{endpoint_id}", str(world.own("endpoint").pk if scope in ("own", "foreign") else _pk(world, scope, "endpoint")))
            .replace("{delivery_id}", _delivery(world, scope)))


def _version(world, scope: str) -> int:
    from minsheng.cases.models import Case

    if scope in ("own", "foreign"):
        return Case.objects.get(pk=world.objects[scope]["case"].pk).version
    return 1


#: Request bodies that get a POST past input validation to the permission check.
SITE_BODIES: dict[str, Callable] = {
    "desk:act": lambda w, s: {"version": _version(w, s), "text": "已与街道城管科沟通"},
    "analytics:topic_edit": lambda w, s: {"title": "垃圾清运", "plan": "每周巡查两次。", "owner_unit": w.own("topic").owner_unit_id},
    "analytics:topic_status": lambda w, s: {"status": "in_progress", "note": "已开始整改"},
    "analytics:topic_note": lambda w, s: {"text": "已完成第一次巡查"},
    "analytics:topic_link": lambda w, s: {"tracking_code": w.own("case").tracking_code},
}


#: Query strings for pages whose full answer is costly to build (a Word briefing): an input
#: the view refuses (400) only after its permission check, so the sweep still sees the gate.
SITE_QUERIES: dict[str, dict] = {
    "analytics:briefing": {"month": "not-a-month"},
}


def api_body(world, method: str, path: str, scope: str) -> dict:
    from tests.api.test_permission_matrix import valid_body

    if "/actions/" in path:
        from minsheng.cases.models import Case

        case = Case.objects.get(pk=world.objects["own" if scope == "sequential" or scope == "guessed" else scope]["case"].pk)
        return valid_body(path.rsplit("/", 1)[1], case, world.own("case"))
    if path.endswith("/feedback"):
        return {"rating": "satisfied", "phone_last4": "5678"}
    if path == "/api/v1/webhooks" or method == "PATCH":
        return {"url": "http://127.0.0.1:9/other", "event_types": ["case.*"]}
    if path == "/api/v1/public/appeals":
        return {"text": "计划路菜市场门口垃圾三天没人清运，气味很大", "address": "计划路", "phone": "13812345678"}
    return {}
