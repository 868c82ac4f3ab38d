"""The layout around every workbench page: queues and inbox in the navigation, and nothing
the Content-Security-Policy would block (no inline scripts, styles or event handlers)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from minsheng.cases.choices import CaseState

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.fixture
def pages(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    return [
        ("dispatcher", reverse("desk:queue", args=["all"])),
        ("dispatcher", reverse("desk:case", args=[case.pk])),
        ("street", reverse("desk:case", args=[case.pk])),
        ("operator", reverse("desk:hotline")),
        ("street", reverse("desk:notifications")),
        (None, reverse("login")),
    ]


def test_no_page_needs_inline_script_or_style(client, users, pages):
    for role, url in pages:
        if role:
            client.force_login(users[role])
        else:
            client.logout()
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_STYLE.search(html), url
        assert not INLINE_HANDLER.search(html), url
        assert "Content-Security-Policy" in response.headers
        assert "/static/vendor/htmx.min.js" in html and "/static/minsheng/desk.css" in html


def test_the_navigation_lists_the_roles_queues(client, users):
    def nav(role):
        client.force_login(users[role])
        html = client.get(reverse("desk:queue", args=["all"])).content.decode()
        return re.search(r'<nav class="sidebar".*?</nav>', html, re.S).group(0)

    street = nav("street")
    for key in ("to_acknowledge", "in_progress", "due_soon", "overdue", "supervised", "all"):
        assert f'href="/desk/queue/{key}/"' in street
    assert 'href="/desk/queue/to_dispatch/"' not in street and reverse("desk:hotline") not in street
    operator = nav("operator")
    assert reverse("desk:hotline") in operator and 'href="/desk/queue/to_accept/"' in operator
