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


def test_a_replayed_answer_is_the_first_with_text_of_any_script_and_a_decimal_kept(world, api, body):
    # The answer is stored as the renderer wrote it: text of every script, quotes, a backslash and a decimal
    # come back as they went out (the object's keys in PostgreSQL's order).
    client = api(world.reporter)
    written = {
        **body,
        "narrative": 'Formation à Dakar — تدريب في داكار — 达喀尔培训, "quoted" \\ back',
        "measurements": [{"indicator": world.indicator.code, "value": "12.50"}],
    }
    first = client.post(URL, written, format="json", HTTP_IDEMPOTENCY_KEY="k-script")
    retry = client.post(URL, written, format="json", HTTP_IDEMPOTENCY_KEY="k-script")

    assert first.status_code == retry.status_code == 201, first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.json()["narrative"] == written["narrative"]
    assert [m["value"] for m in retry.json()["measurements"]] == [m["value"] for m in first.json()["measurements"]]


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


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# The role before the key: one who may not make a call learns that (403), not what its key lacks (400) nor
# that the key went with another request (422).
BAD_KEYS = {"too long": "k" * 300, "not printable": "k\x7f"}


def _draft(world):
    from actionplan import services

    return services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10,
    )  # fmt: skip


def _submitted(world):
    from actionplan import services

    return services.submit_update(by=world.reporter, update=_draft(world))


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("list.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


# (persona, what it may not do, the update it needs, its path, its body)
REFUSED_CALLS = {
    "reporter-approve": ("reporter", _submitted, "{pk}/approve/", lambda world: {}),
    "reporter-return": ("reporter", _submitted, "{pk}/return/", lambda world: {"comment": "Add numbers by sex."}),
    "committee-create": ("committee", None, "", lambda world: {"activity": world.activity.code}),
    "committee-bulk": ("committee", None, "bulk/", lambda world: [{"client_key": "c-1"}]),
    "committee-submit": ("committee", _draft, "{pk}/submit/", lambda world: {}),
    "officer-withdraw": ("officer", _submitted, "{pk}/withdraw/", lambda world: {}),
    "committee-comment": ("committee", _draft, "{pk}/comments/", lambda world: {"text": "Hello"}),
    "committee-evidence": ("committee", _draft, "{pk}/evidence/", lambda world: {"file": _pdf()}),
}


def _refused_call(world, api, call):
    persona, arrange, path, body = REFUSED_CALLS[call]
    update = arrange(world) if arrange else None
    url = URL + path.format(pk=update.pk if update else "")
    form = "multipart" if call.endswith("evidence") else "json"
    return lambda **headers: api(getattr(world, persona)).post(url, body(world), format=form, **headers)


def _stored():
    return sorted(ProgressUpdate.objects.values_list("id", "state", "version")), IdempotencyKey.objects.count()


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
@pytest.mark.parametrize("call", REFUSED_CALLS)
def test_a_call_the_role_may_not_make_is_refused_before_its_key_is_read(world, api, media, call, key):
    send = _refused_call(world, api, call)
    before = _stored()

    response = send(HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 403, response.content[:300]
    assert response.json()["code"] == "not_allowed"
    assert _stored() == before


@pytest.mark.parametrize("action", ["approve", "return"])
def test_reviewing_with_a_key_already_used_for_another_request_is_refused_for_the_role(world, api, action):
    update = _submitted(world)
    client = api(world.reporter)
    commented = client.post(f"{URL}{update.pk}/comments/", {"text": "Figures attached."}, HTTP_IDEMPOTENCY_KEY="k-used")
    assert commented.status_code == 201
    before = _stored()

    response = client.post(f"{URL}{update.pk}/{action}/", {"comment": "Fine."}, HTTP_IDEMPOTENCY_KEY="k-used")

    assert response.status_code == 403, response.content[:300]
    assert _stored() == before
