"""Throttling per token: a client over its rate gets 429 with Retry-After."""

import pytest
from django.core.cache import cache


@pytest.fixture
def low_rate(monkeypatch):
    from portal.api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "3/min"})
    cache.clear()
    yield
    cache.clear()


def test_client_over_its_rate_is_throttled_with_retry_after(world, api, low_rate):
    client = api(world.reporter)
    statuses = [client.get("/api/v1/focus-areas/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/focus-areas/")
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_rate_is_counted_per_token(world, api, low_rate):
    first, second = api(world.reporter), api(world.reporter)
    for _ in range(3):
        first.get("/api/v1/focus-areas/")
    assert first.get("/api/v1/focus-areas/").status_code == 429
    assert second.get("/api/v1/focus-areas/").status_code == 200


def test_calls_go_through_unthrottled_when_redis_is_unreachable(world, api, settings):
    # Nothing listens on port 1: every cache call fails at once with a connection error.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    assert api(world.reporter).get("/api/v1/focus-areas/").status_code == 200
