"""Idempotency-Key: a retried POST returns the first answer and never makes a second row."""

import threading

import pytest
from django.db import connection

from actionplan.models import ProgressUpdate
from portal.idempotency import purge_expired_keys
from portal.models import IdempotencyKey

URL = "/api/v1/updates/"


@pytest.fixture
def body(world):
    return {"activity": world.activity.code, "period": world.period.code, "rag": "on_track", "percent_complete": 10}


def test_retry_with_the_same_key_returns_the_first_answer(world, api, body):
    client = api(world.reporter)
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"] and retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert ProgressUpdate.objects.count() == 1


def test_same_key_with_another_body_is_refused_naming_the_key(world, api, body):
    client = api(world.reporter)
    client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    response = client.post(URL, {**body, "percent_complete": 20}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 422
    assert "k-1" in response.json()["detail"]
    assert ProgressUpdate.objects.get().percent_complete == 10


def test_keys_are_kept_per_user(world, api, body):
    api(world.reporter).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = api(world.officer).post(
        URL,
        {**body, "office": world.office.code, "period": world.period.code},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    # Not a replay of the reporter's answer: the officer's own request ran (and met the reporter's row).
    assert response.status_code == 409


def test_failed_request_leaves_its_key_free_for_a_corrected_retry(world, api, body):
    client = api(world.reporter)
    refused = client.post(URL, {**body, "percent_complete": 101}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()

    retried = client.post(URL, {**body, "percent_complete": 101}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert retried.status_code == 400


def test_overlong_key_is_refused(world, api, body):
    response = api(world.reporter).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not ProgressUpdate.objects.exists()


def test_keys_older_than_the_retention_are_purged(world, api, body):
    import datetime

    from django.utils import timezone

    api(world.reporter).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=49))
    assert purge_expired_keys() == 1
    assert not IdempotencyKey.objects.exists()


def test_keys_younger_than_24_hours_are_kept(world, api, body):
    import datetime

    from django.utils import timezone

    api(world.reporter).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="young")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=24))
    assert purge_expired_keys() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_row_and_get_the_same_answer(postgres, world, api, body):
    clients = [api(world.reporter) for _ in range(6)]
    answers = [None] * len(clients)
    barrier = threading.Barrier(len(clients))

    def send(index):
        barrier.wait()
        try:
            answers[index] = clients[index].post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [201] * len(clients)
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert ProgressUpdate.objects.count() == 1
