"""Shared fixtures: the demo district is loaded once into the test database, and every
test runs inside a transaction on top of it."""

from __future__ import annotations

import os

os.environ.setdefault("MINSHENG_TESTING", "true")

import pytest

from tests.factories import CaseMaker, make_role_users


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from minsheng.cases.services import district_load_files
    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    with django_db_blocker.unblock():
        district_load_files(taxonomy_path=TAXONOMY_PATH, gazetteer_path=GAZETTEER_PATH)


def pytest_collection_modifyitems(config, items):
    """Run transactional tests (real commits: concurrency, live server, browser) after the
    others, as Django's runner does: their flush empties the tables the others rely on."""

    def transactional(item) -> bool:
        marker = item.get_closest_marker("django_db")
        return bool(marker and marker.kwargs.get("transaction")) or "live_server" in getattr(item, "fixturenames", ())

    items.sort(key=transactional)


@pytest.fixture
def committed_district(transactional_db):
    """The demo district, committed, for tests that run outside a wrapping transaction."""
    from minsheng.cases.services import district_load_files
    from minsheng.core.models import Unit
    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    if not Unit.objects.filter(kind="district").exists():
        district_load_files(taxonomy_path=TAXONOMY_PATH, gazetteer_path=GAZETTEER_PATH)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    from minsheng.core.calendar import invalidate_calendar

    invalidate_calendar()
    yield
    invalidate_calendar()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: what one test cached (the navigation's queue
    counts, rate-limit counters) must not show in another's pages."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def users(db):
    """One user per role: admin, operator, dispatcher, leader, and handlers of a street office
    (JSL), one of its communities (JSL03), another street (LSZ), a community of that street
    (LSZ01) and a department (CGJ, SJJ)."""
    return make_role_users()


@pytest.fixture
def cases(users):
    """Builds cases in any lifecycle state through the real services."""
    return CaseMaker(users)
