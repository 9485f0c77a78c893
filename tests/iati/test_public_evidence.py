"""Evidence an officer makes public: the IATI export links to it; anyone downloads it once its update is approved."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from actionplan.models import Activity, Evidence, ProgressUpdate, UpdateComment
from tests.factories import EvidenceFactory, ProgressUpdateFactory

CSV = b"indicator,value\nCYB-1.1-I1,30\n"


@pytest.fixture
def stored(world, settings, tmp_path):
    """A file of an approved update of CYB-1.1, not public yet."""
    settings.MEDIA_ROOT = tmp_path
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved"
    )
    path = default_storage.save("evidence/attendance.csv", ContentFile(CSV))
    return EvidenceFactory(update=update, file=path, original_name="attendance.csv")


def publish(client, evidence, public="1"):
    return client.post(reverse("evidence-publish", args=[evidence.pk]), {"public": public})


def test_an_officer_makes_a_file_public_and_private_again(as_user, world, stored):
    client = as_user(world.officer)

    publish(client, stored)
    assert Evidence.objects.get(pk=stored.pk).public
    publish(client, stored, public="0")
    assert not Evidence.objects.get(pk=stored.pk).public


def test_a_reporter_cannot_make_a_file_public(as_user, world, stored):
    response = publish(as_user(world.reporter), stored)

    assert response.status_code == 302
    assert not Evidence.objects.get(pk=stored.pk).public


def test_a_file_of_a_restricted_activity_is_never_made_public(as_user, world, stored):
    Activity.objects.filter(pk=world.activity.pk).update(sensitivity=Activity.Sensitivity.RESTRICTED)

    response = publish(as_user(world.officer), stored)

    assert response.status_code == 302
    assert not Evidence.objects.get(pk=stored.pk).public


def test_the_update_page_offers_officers_alone_to_make_a_file_public(as_user, world, stored):
    url = reverse("update-detail", args=[stored.update_id])
    action = reverse("evidence-publish", args=[stored.pk])

    assert action in as_user(world.officer).get(url).content.decode()
    assert action not in as_user(world.reporter).get(url).content.decode()


def test_anyone_downloads_a_public_file_of_an_approved_update(client, stored):
    Evidence.objects.filter(pk=stored.pk).update(public=True)

    response = client.get(reverse("evidence-public", args=[stored.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CSV
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "change",
    [
        {"public": False},
        {"public": True, "update_state": "submitted"},
        {"public": True, "sensitivity": Activity.Sensitivity.RESTRICTED},
    ],
    ids=["private", "update-not-approved", "restricted-activity"],
)
def test_a_file_not_published_is_not_served_to_anyone(client, world, stored, change):
    Evidence.objects.filter(pk=stored.pk).update(public=change["public"])
    if "update_state" in change:
        ProgressUpdate.objects.filter(pk=stored.update_id).update(state=change["update_state"])
    if "sensitivity" in change:
        Activity.objects.filter(pk=world.activity.pk).update(sensitivity=change["sensitivity"])

    response = client.get(reverse("evidence-public", args=[stored.pk]))

    assert response.status_code == 404


@pytest.fixture
def public(stored):
    Evidence.objects.filter(pk=stored.pk).update(public=True)
    return reverse("evidence-public", args=[stored.pk])


def test_a_public_file_is_served_with_nosniff(client, public):
    response = client.get(public)

    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_public_file_is_checked_again_before_a_cache_serves_it(client, public):
    response = client.get(public)

    assert response["Cache-Control"] == "no-cache"


def test_a_public_file_is_named_and_typed_by_its_sniffed_content_not_its_extension(client, stored, public):
    Evidence.objects.filter(pk=stored.pk).update(original_name="drawing.svg")

    response = client.get(public)

    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="drawing.csv"'


def test_anonymous_downloads_of_public_files_are_limited_per_address(client, settings, public):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_file": "2/min"}

    statuses = [client.get(public, REMOTE_ADDR="192.0.2.1").status_code for _ in range(3)]
    elsewhere = client.get(public, REMOTE_ADDR="192.0.2.2")

    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200


def test_a_public_file_answers_get_and_head_alone(client, public):
    assert client.head(public).status_code == 200
    assert client.post(public).status_code == 405


def conversation(evidence):
    return list(UpdateComment.objects.filter(update=evidence.update_id).values_list("kind", "text", "author__username"))


def test_making_a_file_public_is_recorded_in_its_updates_conversation(as_user, world, stored):
    publish(as_user(world.officer), stored)

    assert conversation(stored) == [("published", "attendance.csv", "officer")]


def test_making_a_file_private_again_is_recorded_in_its_updates_conversation(as_user, world, stored):
    client = as_user(world.officer)
    publish(client, stored)

    publish(client, stored, public="0")

    assert conversation(stored) == [
        ("published", "attendance.csv", "officer"),
        ("unpublished", "attendance.csv", "officer"),
    ]


def test_making_public_a_file_public_already_records_nothing(as_user, world, stored):
    client = as_user(world.officer)
    publish(client, stored)

    publish(client, stored)

    assert len(conversation(stored)) == 1


def test_the_admin_shows_whether_a_file_is_public_but_does_not_change_it(admin_client, stored):
    page = admin_client.get(reverse("admin:actionplan_evidence_change", args=[stored.pk])).content.decode()

    assert 'name="public"' not in page
    assert "field-public" in page


def restrict_on_its_page(client, activity, sensitivity=Activity.Sensitivity.RESTRICTED):
    data = {
        "objective": activity.objective_id,
        "code": activity.code,
        "title": activity.title,
        "kind": activity.kind,
        "status": activity.status,
        "sensitivity": sensitivity,
        "lead_organization": activity.lead_organization_id,
        "implementing_offices": list(activity.implementing_offices.values_list("pk", flat=True)),
        "budget_currency": activity.budget_currency,
        "expected_version": Activity.objects.get(pk=activity.pk).version,
    }
    response = client.post(reverse("plan-item-edit", args=["activity", activity.code]), data)
    assert response.status_code == 302, response.context["form"].errors


def test_restricting_an_activity_makes_its_files_private_and_says_so(as_user, world, stored):
    client = as_user(world.officer)
    publish(client, stored)

    restrict_on_its_page(client, world.activity)

    assert not Evidence.objects.get(pk=stored.pk).public
    assert conversation(stored)[-1] == ("unpublished", "attendance.csv", "officer")


def test_a_file_stays_private_when_its_restricted_activity_is_made_internal_again(as_user, world, stored):
    client = as_user(world.officer)
    publish(client, stored)
    restrict_on_its_page(client, world.activity)

    restrict_on_its_page(client, world.activity, sensitivity=Activity.Sensitivity.INTERNAL)

    assert not Evidence.objects.published().exists()


def test_restricting_an_activity_in_the_admin_makes_its_files_private(admin_user, rf, world, stored):
    from django.contrib import admin

    Evidence.objects.filter(pk=stored.pk).update(public=True)
    activity = Activity.objects.get(pk=world.activity.pk)
    activity.sensitivity = Activity.Sensitivity.RESTRICTED
    request = rf.post("/admin/")
    request.user = admin_user

    admin.site._registry[Activity].save_model(request, activity, form=None, change=True)

    assert not Evidence.objects.get(pk=stored.pk).public
