"""Security of every page: the Content-Security-Policy (no inline scripts) on every response,
text escaped on the residents' and the staff's pages, secure cookies and HSTS behind a TLS
proxy, and upload names that cannot choose where a file lands."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from minsheng.cases import services
from minsheng.cases.choices import CaseState

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _plain_paths(patterns=None, prefix: str = "") -> list[str]:
    """Every URL of the project that takes no argument (admin, desk, residents, API...)."""
    paths = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        if "<" in route or "(?P" in route or "(" in route:
            continue
        route = route.lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(pattern, URLResolver):
            paths += _plain_paths(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            paths.append("/" + prefix + route)
    return sorted(set(paths))


def _check_csp(response, path: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert policy, f"{path} has no CSP"
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert directives.get("script-src") == "'self'", (path, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)
    assert directives.get("object-src") == "'none'" and directives.get("frame-ancestors") == "'none'"


def _check_no_inline_script(html: str, path: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert "src=" in tag or "application/json" in tag, f"{path}: inline script {tag}"
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.I), f"{path}: inline event handler"


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_page_carries_the_csp_and_no_inline_script(client, users, cases, who):
    if who == "admin":
        users["admin"].is_staff = users["admin"].is_superuser = True
        users["admin"].save()
        client.force_login(users["admin"])
    case = cases.make(CaseState.DISPATCHED)
    paths = _plain_paths() + [reverse("desk:case", args=[case.pk]), reverse("desk:queue", args=["all"]),
                              reverse("intake:track") + f"?code={case.tracking_code}", "/no-such-page/"]
    assert len(paths) > 20
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        _check_csp(response, path)
        if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
            _check_no_inline_script(response.content.decode(), path)


def test_a_script_in_an_appeal_is_shown_as_text_to_the_resident_and_the_staff(client, users, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01
    from minsheng.intake.forms import submission_token_new

    response = client.post(reverse("intake:submit"), {
        "text": f"小区门口垃圾没人清运 {XSS}", "address": f"计划路{XSS}", "reporter_name": "张<b>三</b>",
        "reporter_phone": "13812345678", "token": submission_token_new(),
    }, follow=True)
    assert response.status_code == 200
    from minsheng.cases.models import Case

    case = Case.objects.get()
    assert "<script>" in case.text  # stored as typed...
    pages = [response.content.decode(), client.get(reverse("intake:case", args=[case.tracking_code])).content.decode()]
    client.force_login(users["dispatcher"])
    pages += [client.get(reverse("desk:case", args=[case.pk])).content.decode(),
              client.get(reverse("desk:queue", args=["all"])).content.decode(),
              client.get(reverse("desk:hotline_history"), {"phone": "13812345678"}).content.decode(),
              client.post(reverse("desk:reveal", args=[case.pk, "address"])).content.decode(),
              client.post(reverse("desk:reveal", args=[case.pk, "name"]), HTTP_HX_REQUEST="true").content.decode()]
    for html in pages:  # ...and never rendered as markup
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>三" not in html
    assert "&lt;script&gt;alert" in pages[2]


def test_an_upload_name_does_not_choose_where_the_file_goes(users, cases):
    case = cases.make(CaseState.SUBMITTED)
    attachment = services.case_attach(case=case, content=b"\xff\xd8x", filename="../../../etc/passwd.jpg", content_type="image/jpeg")
    assert attachment.file.name.startswith(f"cases/{case.pk}/") and ".." not in attachment.file.name
    assert re.fullmatch(r"[0-9a-f]{16}\.jpg", attachment.stored_name)


def _settings_with(env: dict) -> dict:
    code = ("import json; from minsheng.config import settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
            "['SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SECURE_HSTS_SECONDS','SECURE_SSL_REDIRECT','SECURE_PROXY_SSL_HEADER']}))")
    import os

    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_a_tls_proxy_cookies_are_secure_and_hsts_is_on(tmp_path):
    on = _settings_with({"MINSHENG_BEHIND_TLS_PROXY": "true", "MINSHENG_DATA_DIR": str(tmp_path)})
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"] and on["SECURE_SSL_REDIRECT"]
    assert on["SECURE_HSTS_SECONDS"] >= 31536000 and on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    off = _settings_with({"MINSHENG_BEHIND_TLS_PROXY": "false", "MINSHENG_DATA_DIR": str(tmp_path)})
    assert not off["SESSION_COOKIE_SECURE"] and off["SECURE_HSTS_SECONDS"] == 0 and not off["SECURE_SSL_REDIRECT"]


def test_https_responses_carry_hsts_and_secure_cookies(client, users, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/")["Location"].startswith("https://")  # plain HTTP is sent to HTTPS
    assert client.get("/healthz").status_code == 200  # ...except the load balancer's probe
    response = client.post("/accounts/login/", {"username": "dispatcher", "password": "test-pass-123"}, HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["sessionid"]["secure"] and response.cookies["sessionid"]["httponly"]
