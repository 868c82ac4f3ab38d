"""The REST API's operations, as every role's token, against an explicit table (an operation
missing from it fails the sweep), with another unit's case, the next id and a made-up one; and
what is swept by rule: Django's admin site (uploaded files: test_uploaded_files.py).

Outcomes and roles as in test_url_sweep.py. Every call carries the role's token (anonymous:
none) and no session: the API knows only tokens."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from .conftest import ROLES, isolated
from .routes import api_body, api_operations, api_path, site_routes
from .sweep import outcome
from .test_url_sweep import FOREIGN_ROLES, PROBE_ROLES, REFUSED, SITE, _leaks, _roles_to_ask

_ = None  # an operation whose path names no object: no foreign-object column

# API operation → (outcome per role for the own object, for another unit's object).
API = {
    "POST /api/v1/public/appeals": ("ok ok ok ok ok ok ok ok", _),
    "GET /api/v1/public/appeals/{tracking_code}": ("ok ok ok ok ok ok ok ok", "404 404 404 404"),
    # The own appeal is still being handled: rating it is refused (403); another appeal is not found.
    "POST /api/v1/public/appeals/{tracking_code}/feedback": ("403 403 403 403 403 403 403 403", "404 404 404 404"),
    "GET /api/v1/me": ("401 ok ok ok ok ok ok ok", _),
    "GET /api/v1/units": ("401 ok ok ok ok ok ok ok", _),
    "GET /api/v1/categories": ("401 ok ok ok ok ok ok ok", _),
    "GET /api/v1/cases": ("401 ok ok ok ok ok ok ok", _),
    "GET /api/v1/cases/{case_id}": ("401 ok ok ok ok 404 ok ok", "401 404 404 404"),
    "GET /api/v1/cases/{case_id}/attachments/{attachment_id}": ("401 ok ok ok ok 404 ok ok", "401 404 404 404"),
    **{f"POST /api/v1/cases/{{case_id}}/actions/{action}": (own, "401 404 404 404") for action, own in {
        # The case is in progress at street JSL; who may do what is tests/api/test_permission_matrix.py's.
        "accept": "401 403 403 403 403 404 403 403",
        "reject": "401 403 403 403 403 404 403 403",
        "dispatch": "401 403 403 403 403 404 403 403",
        "merge": "401 403 403 403 403 404 403 403",
        "delegate": "401 403 403 403 403 404 403 403",
        "acknowledge": "401 403 403 403 403 404 403 403",
        "contact": "401 403 403 403 403 404 ok 403",
        "reply": "401 403 403 403 403 404 ok 403",
        "return": "401 403 403 403 403 404 ok 403",
        "request_extension": "401 403 403 403 403 404 ok 403",
        "decide_extension": "401 403 ok 403 ok 404 403 403",  # refused later: nothing pending
        "approve": "401 403 403 403 403 404 403 403",
        "send_back": "401 403 403 403 403 404 403 403",
        "add_co_unit": "401 403 ok 403 ok 404 403 403",
        "supervise": "401 403 ok 403 ok 404 403 403",
        "feedback_close": "401 403 403 403 403 404 403 403",
        "feedback_reopen": "401 403 403 403 403 404 403 403",
        "note": "401 ok ok 403 ok 404 ok 403",
    }.items()},
    # Webhooks are the administrator's alone.
    "GET /api/v1/webhooks/event-types": ("401 ok ok ok ok ok ok ok", _),
    "GET /api/v1/webhooks": ("401 403 403 403 ok 403 403 403", _),
    "POST /api/v1/webhooks": ("401 403 403 403 ok 403 403 403", _),
    "GET /api/v1/webhooks/{endpoint_id}": ("401 403 403 403 ok 403 403 403", _),
    "PATCH /api/v1/webhooks/{endpoint_id}": ("401 403 403 403 ok 403 403 403", _),
    "DELETE /api/v1/webhooks/{endpoint_id}": ("401 403 403 403 ok 403 403 403", _),
    "GET /api/v1/webhooks/{endpoint_id}/deliveries": ("401 403 403 403 ok 403 403 403", _),
    "POST /api/v1/webhooks/deliveries/{delivery_id}/replay": ("401 403 403 403 ok 403 403 403", _),
}




def test_every_api_operation_is_in_the_table():
    operations = api_operations()
    missing = sorted(set(operations) - set(API))
    assert not missing, f"API operations without expected access in tests/security/test_url_sweep.py API: {missing} — add a row for each"
    assert not sorted(set(API) - set(operations))
    # Every API URL name the resolver knows is one of the schema's operations' paths.
    paths = {route.pattern for route in operations.values()}
    for name, route in site_routes().items():
        if name.startswith("api-v1:") and name not in SITE:
            assert route.pattern.replace("<", "{").replace(">", "}") in paths, name




def _api_request(world, key: str, scope: str, role: str):
    method, path = key.split(" ", 1)
    url = api_path(world, path, scope)
    if path == "/api/v1/public/appeals/{tracking_code}":
        url += "?phone_last4=5678"  # the own appeal's phone; another appeal's digits differ
    extra = {"HTTP_AUTHORIZATION": f"Bearer {world.api_keys[role]}"} if role != "anon" else {}
    body = json.dumps(api_body(world, method, path, scope))
    client = world.clients["anon"]  # no session: the API knows only tokens
    return url, isolated(lambda: client.generic(method, url, body, content_type="application/json", **extra))


@pytest.mark.parametrize("key", sorted(API))
def test_api_operation(db, world, key):
    own_row, foreign_row = API[key]
    asked = _roles_to_ask(key.split(" ", 1)[1], own_row)
    got = {role: outcome(_api_request(world, key, "own", role)[1]) for role, _expected_outcome in asked}
    assert got == dict(asked), f"{key} as each role (own object): got {got}"
    if "{" not in key:
        assert foreign_row is None
        return
    if foreign_row is not None:
        got = {}
        for role in FOREIGN_ROLES:
            url, response = _api_request(world, key, "foreign", role)
            got[role] = outcome(response)
            assert not _leaks(response), (key, role, url)
        assert got == dict(zip(FOREIGN_ROLES, foreign_row.split(), strict=True)), f"{key} (another unit's object): got {got}"
    for scope in ("sequential", "guessed"):
        for role in PROBE_ROLES:
            url, response = _api_request(world, key, scope, role)
            assert outcome(response) in REFUSED, (key, scope, role, url, response.status_code)
            assert not _leaks(response)




# ---------------------------------------------------------------- swept by rule


def test_the_admin_site_is_for_staff_accounts_only(db, world):
    """Django's admin site (every "admin:" URL and its unnamed object redirects) answers only
    an active staff account: the workbench's roles, admin included, are sent to its login.
    Asked: the index and every model's list and add page."""
    from django.contrib.auth import get_user_model
    from django.urls import NoReverseMatch, reverse

    names = ["admin:index"] + sorted(n for n in site_routes() if n.startswith("admin:") and n.endswith(("_changelist", "_add")))
    superuser = get_user_model().objects.create_superuser(username="root-security", password="x-security-1", email="")
    staff = Client()
    staff.force_login(superuser)
    assert len(names) > 20
    for name in names:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        for role in ("anon", "operator", "admin", "street"):
            response = isolated(lambda: world.clients[role].get(url))
            assert outcome(response) == "login" and response["Location"].startswith("/admin/login/"), (name, role, response.status_code)
        response = isolated(lambda: staff.get(url))
        assert response.status_code in (200, 403), (name, response.status_code)  # 403: a model the admin may not add to
    assert isolated(lambda: staff.get(reverse("admin:index"))).status_code == 200

