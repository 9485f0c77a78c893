"""What users type stays as written, marked with the language it was written in."""

import pytest
from django.urls import reverse

from actionplan.models import ProgressUpdate
from tests.factories import ProgressUpdateFactory

pytestmark = pytest.mark.django_db


def write_update(client, world, language):
    data = {"period": world.period.code, "office": world.office.code, "rag": "on_track", "percent_complete": "40",
            "narrative": "Formation de 12 enquêteurs.", "save": ""}  # fmt: skip
    return client.post(reverse("update-create", args=[world.activity.code]), data, HTTP_ACCEPT_LANGUAGE=language)


def test_an_update_records_the_language_its_writer_wrote_in(as_user, world):
    write_update(as_user(world.reporter), world, "fr")
    assert ProgressUpdate.objects.get().language == "fr"


def test_the_narrative_is_shown_as_written_with_its_language_whatever_the_readers(as_user, world):
    write_update(as_user(world.reporter), world, "fr")
    update = ProgressUpdate.objects.get()
    page = as_user(world.officer).get(reverse("update-detail", args=[update.pk]), HTTP_ACCEPT_LANGUAGE="ar")
    assert '<p lang="fr" dir="auto">Formation de 12 enquêteurs.</p>' in page.content.decode()


def test_an_update_through_the_api_takes_the_clients_language(api, world):
    client = api(world.reporter)
    body = {"activity": world.activity.code, "period": world.period.code, "office": world.office.code,
            "rag": "at_risk", "percent_complete": 10, "narrative": "Обучено 12 следователей."}  # fmt: skip
    response = client.post("/api/v1/updates/", body, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 201, response.content
    assert ProgressUpdate.objects.get().language == "ru"


def test_text_of_unknown_language_is_marked_only_with_its_own_direction(as_user, world):
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, language="")
    page = as_user(world.officer).get(reverse("activity-detail", args=[world.activity.code])).content.decode()
    assert f'<span dir="auto">{world.activity.title}</span>' in page


def test_an_activity_created_in_spanish_is_marked_spanish(as_user, world):
    from actionplan.models import Activity
    from tests.actionplan.test_plan_editing import activity_data

    form = activity_data(world, title="Taller regional sobre ransomware")
    response = as_user(world.officer).post(reverse("plan-item-new", args=["activity"]), form, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 302
    assert Activity.objects.get(code="CYB-1.9").language == "es"


def test_the_api_says_which_language_an_update_and_an_activity_were_written_in(api, world):
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, language="fr")
    client = api(world.reporter)
    [update] = client.get("/api/v1/updates/").json()["results"]
    assert update["language"] == "fr"
    assert client.get(f"/api/v1/activities/{world.activity.code}/").json()["language"] == ""
