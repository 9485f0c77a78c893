"""API limits: per user across all its tokens, per address for anonymous calls, counted atomically in
Redis; over a limit, 429 with Retry-After."""

import threading
import uuid

import pytest
from django.core.cache import cache

from portal import ratelimit
from portal.rates import Rate


@pytest.fixture
def low_rate(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": "3/min", "api_anonymous": "2/min", "report": "1/hour"}
    cache.clear()
    yield
    cache.clear()


def test_client_over_its_rate_is_throttled_with_retry_after(world, api, low_rate):
    client = api(world.reporter)
    statuses = [client.get("/api/v1/focus-areas/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/focus-areas/")
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"


def test_every_token_of_a_user_shares_its_limit(world, api, low_rate):
    first, second = api(world.reporter), api(world.reporter)
    for _ in range(3):
        first.get("/api/v1/focus-areas/")
    assert second.get("/api/v1/focus-areas/").status_code == 429


def test_another_user_keeps_its_own_limit(world, api, low_rate):
    for _ in range(4):
        api(world.reporter).get("/api/v1/focus-areas/")
    assert api(world.other_reporter).get("/api/v1/focus-areas/").status_code == 200


def test_anonymous_calls_are_limited_per_address(world, api, low_rate):
    here, there = api(), api()
    statuses = [here.get("/api/v1/schema/", REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert there.get("/api/v1/schema/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_report_requests_have_a_limit_of_their_own(world, api, low_rate):
    client = api(world.officer)
    first = client.post("/api/v1/reports/", {"period": "2020-Q2"}, format="json")
    assert first.status_code in (200, 201)
    second = client.post("/api/v1/reports/", {"period": "2020-Q2"}, format="json")
    assert second.status_code == 429 and int(second["Retry-After"]) > 0
    assert client.get("/api/v1/reports/").status_code == 200


def test_parallel_clients_cannot_pass_the_limit(redis_url, settings):
    # Eight clients at once, as the finding's: the count is Redis's INCR, so exactly the limit passes.
    # A day's window, so that no window starts during the test; a key of this run's own.
    rate, allowed, ident = Rate(100, 86400), [], f"user:parallel-{uuid.uuid4().hex}"

    def client():
        allowed.extend(ratelimit.hit("api", ident, rate).allowed for _ in range(40))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100


def test_a_window_counter_is_made_with_its_expiry_and_counted_in_one_round_trip(redis_url, monkeypatch):
    from redis.connection import AbstractConnection

    key, sent = f"ratelimit:test:{uuid.uuid4().hex}", []
    send = AbstractConnection.send_packed_command
    monkeypatch.setattr(AbstractConnection, "send_packed_command", lambda *a, **k: sent.append(1) or send(*a, **k))

    assert [cache.count(key, 61) for _ in range(3)] == [1, 2, 3]
    assert len(sent) == 3
    # Made with its window's expiry, never left without one.
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 61


def test_calls_go_through_unthrottled_when_redis_is_unreachable(world, api, settings):
    # Nothing listens on port 1: every cache call fails at once with a connection error.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    assert api(world.reporter).get("/api/v1/focus-areas/").status_code == 200


@pytest.mark.parametrize(
    ("text", "rate"), [("600/min", Rate(600, 60)), ("5/hour", Rate(5, 3600)), ("30/10min", Rate(30, 600))]
)
def test_a_rate_is_read_as_written(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["600", "many/min", "5/fortnight", "/min"])
def test_a_rate_not_understood_is_refused(text):
    with pytest.raises(ValueError, match="not a rate"):
        Rate.parse(text)
