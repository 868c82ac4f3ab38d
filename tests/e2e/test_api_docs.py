"""The API's browsable docs work in a real browser, offline and under the site's
Content-Security-Policy (no inline script, no CDN)."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_from_vendored_files_under_the_csp(new_page, live_server, committed_district, shot):
    page = new_page()
    problems, elsewhere = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None)

    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=20000)

    assert page.locator(".opblock").count() >= 30
    assert page.get_by_text("/api/v1/public/appeals", exact=True).first.is_visible()
    assert problems == []
    assert elsewhere == []
    assert shot(page, "api-docs").exists()
