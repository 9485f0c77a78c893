"""A family of cached entries is dropped by renewing its generation: once per transaction, never too seldom."""

import pytest
from django.core.cache import cache
from django.db import transaction

from portal.cache import Generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def generation(redis_url, settings):
    settings.CACHES = {
        "default": {"BACKEND": "portal.cache.FailSoftRedisCache", "LOCATION": redis_url, "KEY_PREFIX": "generation"}
    }
    family = Generation("test-family:generation")
    cache.delete(family.key)
    return family


def renewals_at_commit(generation, callbacks) -> int:
    return sum(callback == generation._renew_committed for callback in callbacks)


def test_many_writes_of_one_transaction_renew_the_generation_once_at_commit(
    generation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        for _write in range(5):
            generation.renew()

    assert renewals_at_commit(generation, callbacks) == 1


def test_a_write_renews_the_generation_at_once_for_the_transactions_own_reads(generation):
    before = generation.current()

    generation.renew()

    assert generation.current() != before


def test_a_read_between_two_writes_of_one_transaction_is_followed_by_a_new_generation(generation):
    generation.renew()
    read_between = generation.current()  # an entry filed now holds only the first write

    generation.renew()

    assert generation.current() != read_between


def test_writes_with_no_read_between_keep_the_generation_until_the_commit(generation):
    generation.renew()
    first = cache.get(generation.key)

    generation.renew()

    assert cache.get(generation.key) == first


def test_the_first_write_after_a_commit_renews_the_generation_at_once(generation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        generation.renew()
    committed = cache.get(generation.key)  # entries filed now hold the data as it stood before the next write

    generation.renew()

    assert cache.get(generation.key) != committed


def test_a_renewal_rolled_back_with_its_savepoint_is_registered_again(generation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            generation.renew()
            transaction.set_rollback(True)
        generation.renew()

    assert renewals_at_commit(generation, callbacks) == 1


def test_the_cache_reuses_its_redis_client(generation):
    client = cache._cache.get_client()

    assert cache._cache.get_client(write=True) is client
    assert client.ping()
