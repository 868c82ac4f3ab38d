"""The frame every resident page shares: language, security headers, no inline code."""

from __future__ import annotations

import re

import pytest

from minsheng.cases.choices import CaseState

from .conftest import verify

pytestmark = pytest.mark.django_db


def test_home_offers_submitting_and_tracking_and_explains_the_process(client):
    page = client.get("/").content.decode()

    assert 'href="/appeal/new/"' in page
    assert 'href="/track/"' in page
    for step in ("受理", "派单", "办理", "答复", "评价"):
        assert f"<strong>{step}</strong>" in page


def test_pages_are_chinese_by_default(client):
    page = client.get("/").content.decode()

    assert '<html lang="zh-hans">' in page
    assert "我要反映" in page


def test_switching_to_english_renders_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/track/"})
    assert response["Location"] == "/track/"

    page = client.get("/").content.decode()

    assert '<html lang="en">' in page
    assert "Report a problem" in page
    assert "我要反映" not in page


def test_english_covers_the_form_and_its_errors(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    page = client.post("/appeal/new/", {"text": "", "token": "x" * 32}).content.decode()

    assert "Please describe the problem you want to report." in page


def test_every_page_sends_a_content_security_policy_without_unsafe_inline(client):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def _pages(client, cases) -> dict[str, str]:
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    pages = {url: client.get(url).content.decode() for url in ("/", "/appeal/new/", "/track/")}
    pages["invalid form"] = client.post("/appeal/new/", {"text": ""}).content.decode()
    verify(client, case)
    pages["case"] = client.get(f"/track/{case.tracking_code}/").content.decode()
    return pages


def test_no_page_has_inline_scripts_styles_or_handlers(client, cases):
    for name, page in _pages(client, cases).items():
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts, name
        assert all("src=" in tag for tag in scripts), name
        assert all(not body.strip() for body in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)), name
        assert "<style" not in page, name
        assert not re.search(r"\sstyle=", page), name
        assert not re.search(r"\son[a-z]+=", page), name


def test_assets_are_served_locally(client, cases):
    for name, page in _pages(client, cases).items():
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert url.startswith("/") or url.startswith("#"), (name, url)


def test_pages_fit_a_phone_screen(client):
    page = client.get("/").content.decode()

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_place_suggestions_come_back_as_json(client):
    response = client.get("/places/", {"q": "碧沙"})

    assert response["Content-Type"] == "application/json"
    results = response.json()["results"]
    assert results
    assert results[0]["label"].startswith("碧沙岗")
    assert results[0]["street"] == "林山寨街道"
    assert set(results[0]) == {"label", "street", "community"}


def test_an_empty_place_query_gets_no_suggestions(client):
    assert client.get("/places/", {"q": " "}).json() == {"results": []}
