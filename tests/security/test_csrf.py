"""Cross-site request forgery: every URL that takes a POST refuses one without the CSRF
token (403, the view never runs) and takes it with the token; the token-authenticated REST
API and Open311 are exempt by design, and instead refuse a call without their own token — a
browser's session cookie alone gets nowhere.

Which URLs take a POST is found, not listed: every URL of the sweep's table is posted to
with the token as a role allowed on it; whatever does not answer 405 changes state and must
refuse the forged request."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from .conftest import ROLES, isolated
from .routes import SITE_BODIES, site_url
from .sweep import outcome
from .test_url_sweep import SITE


def _browser(world, role: str) -> tuple[Client, str]:
    """A browser that checks CSRF as a real one is checked, signed in as `role`, holding a
    CSRF cookie (as after loading any page)."""
    client = Client(enforce_csrf_checks=True)
    if role != "anon":
        client.force_login(world.user(role))
    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    return client, token


def _allowed_role(own_row: str) -> str | None:
    for role, expected in zip(ROLES, own_row.split(), strict=True):
        if expected == "ok":
            return role
    return None


def _post(world, client, name: str, role: str, data: dict):
    url = site_url(world, name, "own", role)
    return isolated(lambda: client.post(url, data))


@pytest.mark.parametrize("name", sorted(SITE))
def test_a_post_without_the_csrf_token_is_refused(db, world, name):
    method, own_row, _foreign = SITE[name]
    if name.startswith(("api-v1:", "open311:")):
        pytest.skip("token-authenticated; see the tests below")
    role = _allowed_role(own_row)
    if role is None:
        pytest.skip("no role may use it")
    client, token = _browser(world, role)
    body = SITE_BODIES.get(name, lambda w, s: {})(world, "own")

    with_token = _post(world, client, name, role, {**body, "csrfmiddlewaretoken": token})
    forged = _post(world, client, name, role, body)
    wrong_token = _post(world, client, name, role, {**body, "csrfmiddlewaretoken": _get_new_csrf_string()})

    assert with_token.status_code < 500 and forged.status_code < 500
    if with_token.status_code == 405:
        assert method == "GET", f"{name} is listed as {method} but does not take a POST"
        return  # reads only: nothing to forge
    assert outcome(with_token) not in ("403", "login"), (name, role, with_token.status_code)
    assert forged.status_code == 403, (name, role, forged.status_code)
    assert wrong_token.status_code == 403, (name, role, wrong_token.status_code)
    assert b"CSRF" in forged.content or b"csrf" in forged.content.lower()


def test_the_sweep_finds_the_state_changing_forms(db, world):
    """The forms that write are found by the test above (a guard against it skipping
    everything): a few known ones answer a POST with the token."""
    for name in ("desk:act", "desk:hotline", "intake:submit", "channels:box_note", "login", "logout"):
        role = _allowed_role(SITE[name][1]) or "anon"
        client, token = _browser(world, role)
        response = _post(world, client, name, role, {**SITE_BODIES.get(name, lambda w, s: {})(world, "own"), "csrfmiddlewaretoken": token})
        assert response.status_code not in (403, 405), name


def test_the_api_ignores_the_session_and_needs_its_token(db, world):
    """A page on another site can make a signed-in browser post to the API, but the API
    authenticates only the bearer token, which that page cannot send."""
    case = world.own("case")
    url = f"/api/v1/cases/{case.pk}/actions/note"
    body = json.dumps({"expected_version": 1, "text": "伪造的备注"})
    browser, _token = _browser(world, "dispatcher")

    forged = isolated(lambda: browser.post(url, body, content_type="application/json"))
    with_bearer = isolated(lambda: Client(enforce_csrf_checks=True).post(
        url, json.dumps({"expected_version": case.version, "text": "已与街道城管科沟通"}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.api_keys['dispatcher']}"))

    assert forged.status_code == 401
    assert case.events.filter(action="note").count() == 0
    assert with_bearer.status_code == 200, with_bearer.content  # exempt from CSRF: the token is the proof


def test_open311_posts_need_an_api_key_not_a_session(db, world):
    browser, _token = _browser(world, "admin")
    data = {"service_code": "CGM.HJWS", "description": "计划路菜市场门口垃圾三天没人清运", "address_string": "计划路"}

    forged = isolated(lambda: browser.post("/open311/v2/requests.json", data))
    with_key = isolated(lambda: Client(enforce_csrf_checks=True).post(
        "/open311/v2/requests.json", {**data, "api_key": world.api_keys["operator"]}))

    assert forged.status_code == 403
    assert with_key.status_code == 201, with_key.content
