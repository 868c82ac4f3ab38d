"""The public API's rate limits on the production cache (Redis): one round trip per counted
call (FailOpenRedisCache.count_hit), the same limits as on the test suite's cache, and residents
let through when Redis cannot be reached."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from minsheng.cases.models import Case

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/public/appeals"
TEXT = "计划路菜市场门口垃圾三天没人清运，气味很大"
REDIS = "redis://127.0.0.1:6379/15"


def redis_cache(location: str) -> dict:
    # A key prefix of its own: the counters of this run never meet those of another.
    return {"default": {"BACKEND": "minsheng.core.cache.FailOpenRedisCache", "LOCATION": location,
                        "KEY_PREFIX": f"test-{uuid.uuid4().hex}", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


@pytest.fixture
def live_redis():
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")


def test_cache_calls_share_one_client_and_its_connections(live_redis):
    with override_settings(CACHES=redis_cache(REDIS)):
        cache = caches["default"]
        first = cache._cache.get_client(write=True)
        for n in range(20):
            cache.set(f"k{n}", n)
            assert cache.get(f"k{n}") == n
        assert cache._cache.get_client(write=True) is first and cache._cache.get_client() is first
        assert len(first.connection_pool._available_connections) + len(first.connection_pool._in_use_connections) == 1


def test_a_counter_takes_one_round_trip_and_expires(live_redis):
    with override_settings(CACHES=redis_cache(REDIS)):
        cache = caches["default"]
        key = f"count-{uuid.uuid4().hex}"
        assert [cache.count_hit(key, 30) for _ in range(3)] == [1, 2, 3]
        client = cache._cache.get_client(write=True)
        assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 30
        client.delete(cache.make_and_validate_key(key))


@override_settings(MINSHENG_SUBMIT_RATE="2/m", RATELIMIT_FAIL_OPEN=True)
def test_submissions_past_the_rate_are_refused_on_redis(live_redis):
    with override_settings(CACHES=redis_cache(REDIS)):
        client = ApiClient()
        codes = [client.post_json(URL, {"text": f"{TEXT}（第{i}次）", "phone": "13912345678"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert Case.objects.count() == 2


@override_settings(MINSHENG_SUBMIT_RATE="1/m", RATELIMIT_FAIL_OPEN=True)
def test_with_redis_unreachable_residents_are_let_through(monkeypatch):
    from minsheng.core import cache as cache_module

    monkeypatch.setattr(cache_module, "_last_warning", 0.0)  # restored after: later tests see their own warning
    with override_settings(CACHES=redis_cache("redis://127.0.0.1:1/0")):
        assert caches["default"].count_hit("anything", 30) is None
        client = ApiClient()
        codes = [client.post_json(URL, {"text": f"{TEXT}（第{i}次）"}).status_code for i in range(2)]
    assert codes == [201, 201]
