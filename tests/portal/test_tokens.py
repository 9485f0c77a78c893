"""API tokens: stored hashed, shown once, revocable, expiring after 90 days at most."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from portal.errors import InvalidInput
from portal.models import ApiToken, Role
from portal.tokens import issue_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/focus-areas/"


@pytest.fixture
def user():
    return UserFactory(username="reporter")


def token_client(key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_opens_the_api(user):
    _token, key = issue_token(user=user, name="M&E system")
    assert token_client(key).get(LIST).status_code == 200


def test_only_a_hash_of_the_key_is_stored(user):
    _token, key = issue_token(user=user, name="M&E system")
    stored = ApiToken.objects.values().get()
    assert not any(key in str(value) for value in stored.values())
    assert len(stored["digest"]) == 128


def test_no_token_is_answered_401_with_the_scheme():
    from rest_framework.test import APIClient

    response = APIClient().get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_token_is_answered_401():
    assert token_client("f" * 64).get(LIST).status_code == 401


def test_revoked_token_is_answered_401(user):
    token, key = issue_token(user=user, name="old")
    token.delete()
    assert token_client(key).get(LIST).status_code == 401


def test_expired_token_is_answered_401(user):
    token, key = issue_token(user=user, name="short", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert token_client(key).get(LIST).status_code == 401


def test_a_call_reads_the_token_it_presents_and_not_the_users_other_tokens(user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _token, key = issue_token(user=user, name="M&E system")
    expired, _other_key = issue_token(user=user, name="old system", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    with CaptureQueriesContext(connection) as queries:
        assert token_client(key).get(LIST).status_code == 200
    assert len([query for query in queries if "portal_apitoken" in query["sql"]]) == 1
    # The other, expired, token is left to the daily purge.
    assert ApiToken.objects.filter(pk=expired.pk).exists()


@pytest.mark.parametrize("officer", [False, True])
def test_a_call_knows_its_users_roles_from_the_token_read_alone(world, officer, postgres):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from actionplan.models import Activity

    # An officer reads the whole plan; a reporter what its offices implement.
    if officer:
        world.reporter.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    _token, key = issue_token(user=world.reporter, name="M&E system")
    with CaptureQueriesContext(connection) as queries:
        response = token_client(key).get("/api/v1/activities/")
    own = Activity.objects.filter(implementing_offices=world.office).count()
    assert own < Activity.objects.count()
    assert response.json()["count"] == (Activity.objects.count() if officer else own)
    assert [query for query in queries if "auth_user_groups" in query["sql"]] == [queries[0]]


@pytest.mark.parametrize("member", [False, True])
def test_the_token_read_in_one_statement_is_the_token_and_user_the_orm_reads_with_their_roles(world, member, postgres):
    from django.contrib.auth import get_user_model

    from portal.api.authentication import tokens_of_key
    from portal.models import Membership

    user = world.reporter if member else UserFactory(username="no-office")
    user.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER), Group.objects.get(name=Role.COMMITTEE_MEMBER))
    token, _key = issue_token(user=user, name="M&E system", expires_in_days=30)

    [read] = tokens_of_key(token.token_key)
    assert Membership.objects.filter(user=user).exists() is member
    for model, row, stored in [
        (ApiToken, read, ApiToken.objects.get(pk=token.pk)),
        (get_user_model(), read.user, get_user_model().objects.get(pk=user.pk)),
    ]:
        for field in model._meta.concrete_fields:
            assert getattr(row, field.attname) == getattr(stored, field.attname), field.name
        assert not row._state.adding
    assert sorted(read._group_names) == sorted(user.groups.values_list("name", flat=True))
    assert sorted(read.user_office_ids) == sorted(Membership.objects.filter(user=user).values_list("office", flat=True))
    assert read.user_belongs_to_an_office is member


def test_the_purge_deletes_the_expired_tokens_and_keeps_the_others(user):
    from portal.tasks import purge_expired_tokens

    live, _key = issue_token(user=user, name="live")
    expired, _key = issue_token(user=user, name="expired", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert purge_expired_tokens() == 1
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["live"]


def test_the_purge_of_expired_tokens_is_scheduled_daily():
    from django_celery_beat.models import PeriodicTask

    from portal.reference import load_reference_data

    load_reference_data()
    job = PeriodicTask.objects.get(task="portal.tasks.purge_expired_tokens")
    assert job.crontab is not None and job.enabled


def test_token_of_an_inactive_user_is_answered_401(user):
    _token, key = issue_token(user=user, name="x")
    user.is_active = False
    user.save()
    assert token_client(key).get(LIST).status_code == 401


def test_issue_token_command_prints_the_key_alone(user):
    out = io.StringIO()
    call_command("issue_token", "reporter", "--expires-days", "30", stdout=out)
    key = out.getvalue().strip()
    assert out.getvalue() == f"{key}\n"
    assert token_client(key).get(LIST).status_code == 200
    assert ApiToken.objects.get().expiry.date() == (timezone.now() + datetime.timedelta(days=30)).date()


def test_issue_token_command_names_an_unknown_user():
    with pytest.raises(CommandError, match="USERNAME: no user called “nobody”"):
        call_command("issue_token", "nobody")


def test_issue_token_command_refuses_a_bad_expiry(user):
    with pytest.raises(CommandError, match="--expires-days"):
        call_command("issue_token", "reporter", "--expires-days", "0")
    assert not ApiToken.objects.exists()


def test_token_page_shows_a_new_key_once(client, user):
    client.force_login(user)
    created = client.post(reverse("tokens"), {"name": "Bangkok M&E", "expires_in_days": ""})
    key = created.context["new_key"]
    assert key in created.content.decode()
    assert token_client(key).get(LIST).status_code == 200

    again = client.get(reverse("tokens"))
    assert key not in again.content.decode()
    assert "Bangkok M&amp;E" in again.content.decode()


def test_token_page_form_error_keeps_the_input(client, user):
    client.force_login(user)
    response = client.post(reverse("tokens"), {"name": "Nairobi", "expires_in_days": "99999"})
    assert response.status_code == 200
    assert 'value="Nairobi"' in response.content.decode()
    assert "Expires after" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_page_revokes_a_token(client, user):
    token, key = issue_token(user=user, name="to revoke")
    client.force_login(user)
    client.post(reverse("revoke-token", args=[token.digest]))
    assert not ApiToken.objects.exists()
    assert token_client(key).get(LIST).status_code == 401


def test_nobody_revokes_another_users_token(client, user):
    token, _key = issue_token(user=user, name="mine")
    client.force_login(UserFactory(username="intruder"))
    client.post(reverse("revoke-token", args=[token.digest]))
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_token_page_requires_login(client):
    assert client.get(reverse("tokens")).status_code == 302


def test_a_token_expires_after_the_configured_days_by_default(user, settings):
    settings.API_TOKEN_DAYS = 90
    token, _key = issue_token(user=user, name="default")
    assert abs(token.expiry - token.created - datetime.timedelta(days=90)) < datetime.timedelta(seconds=5)


def test_a_token_cannot_outlive_the_configured_days(user, settings):
    settings.API_TOKEN_DAYS = 30
    with pytest.raises(InvalidInput, match="between 1 and 30 days"):
        issue_token(user=user, name="long", expires_in_days=31)


def test_the_tokens_page_shows_each_tokens_expiry_and_offers_the_longest(client, user, settings):
    settings.API_TOKEN_DAYS = 90
    issue_token(user=user, name="Nairobi system", expires_in_days=10)
    client.force_login(user)
    page = client.get(reverse("tokens")).content.decode()
    assert (timezone.now() + datetime.timedelta(days=10)).strftime("%-d %B %Y") in page
    assert 'name="expires_in_days" value="90"' in page and 'max="90"' in page


def test_the_tokens_page_marks_an_expired_token_waiting_for_the_purge_as_expired(client, user):
    from lxml import html

    issue_token(user=user, name="live")
    expired, _key = issue_token(user=user, name="old", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - datetime.timedelta(days=2))
    client.force_login(user)
    rows = html.fromstring(client.get(reverse("tokens")).content).xpath("//tbody/tr")
    marked = {row.findtext("td").strip(): "expired" in row.text_content() for row in rows}
    assert marked == {"live": False, "old": True}


def test_the_command_issues_a_token_expiring_after_the_configured_days(user, settings):
    settings.API_TOKEN_DAYS = 90
    call_command("issue_token", "reporter", stdout=io.StringIO())
    token = ApiToken.objects.get(user=user)
    assert abs(token.expiry - token.created - datetime.timedelta(days=90)) < datetime.timedelta(seconds=5)
