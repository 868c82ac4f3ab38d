"""Requesting a URL as a role and naming what came back, for the sweep and the CSRF test."""

from __future__ import annotations

from urllib.parse import urlsplit

LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def outcome(response) -> str:
    """What a response means for access control: "ok" (the request got past every check:
    2xx, a redirect elsewhere than a login page, or its input was refused: 400/409/410/422),
    "login" (sent to a login page), "track" (a resident page sending the browser to prove
    the appeal is theirs), or the refusal status: "401", "403", "404", "405"."""
    status = response.status_code
    if status >= 500:
        return "5xx"
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response["Location"]).path
        if target.startswith(LOGIN_PATHS):
            return "login"
        if target == "/track/":
            return "track"
        return "ok"
    if status in (401, 403, 404, 405):
        return str(status)
    return "ok"
