"""Every token revoked is logged: in the admin, with its deleted user, and by a password change with its address."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AccessEvent
from portal.models import ApiToken
from portal.tokens import issue_token
from tests import factories
from tests.conftest import AMINA_PASSWORD as PASSWORD
from tests.conftest import sign_in

ADDRESS = "203.0.113.21"
NEW_PASSWORD = "another-long-passphrase"


pytestmark = pytest.mark.usefixtures("fresh_counters")


@pytest.fixture
def root(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def revoked():
    events = AccessEvent.objects.filter(kind="token_revoked").order_by("label")
    return [(e.username, e.object_id, e.label, e.address) for e in events]


def test_revoking_a_token_in_the_admin_writes_one_event(admin_client, amina):
    token, _key = issue_token(user=amina, name="Bangkok system")
    response = admin_client.post(
        reverse("admin:portal_apitoken_delete", args=[token.pk]), {"post": "yes"}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302 and not ApiToken.objects.exists()
    assert revoked() == [("root", token.token_key, "Bangkok system (of amina, revoked in the admin)", ADDRESS)]


def test_revoking_selected_tokens_in_the_admin_writes_one_event_each(admin_client, amina):
    first, _key = issue_token(user=amina, name="Bangkok system")
    second, _key = issue_token(user=amina, name="Nairobi system")
    kept, _key = issue_token(user=amina, name="kept")
    admin_client.post(
        reverse("admin:portal_apitoken_changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
        REMOTE_ADDR=ADDRESS,
    )
    assert list(ApiToken.objects.all()) == [kept]
    assert revoked() == [
        ("root", first.token_key, "Bangkok system (of amina, revoked in the admin)", ADDRESS),
        ("root", second.token_key, "Nairobi system (of amina, revoked in the admin)", ADDRESS),
    ]


def test_the_admin_shows_a_tokens_expiry_and_does_not_change_it(admin_client, amina):
    token, _key = issue_token(user=amina, name="system", expires_in_days=30)
    url = reverse("admin:portal_apitoken_change", args=[token.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="expiry"' not in page and 'name="expiry_0"' not in page

    admin_client.post(url, {"name": "renamed", "expiry_0": "", "expiry_1": "", "expiry": ""})
    admin_client.post(url, {"name": "renamed", "expiry_0": "2099-01-01", "expiry_1": "00:00:00"})

    before = token.expiry
    token.refresh_from_db()
    assert token.expiry == before and token.expiry is not None


def test_tokens_deleted_with_their_user_in_the_admin_are_each_logged(admin_client, amina):
    first, _key = issue_token(user=amina, name="Bangkok system")
    second, _key = issue_token(user=amina, name="Nairobi system")
    response = admin_client.post(
        reverse("admin:auth_user_delete", args=[amina.pk]), {"post": "yes"}, REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302 and not ApiToken.objects.exists()
    assert revoked() == [
        ("root", first.token_key, "Bangkok system (of amina, user deleted)", ADDRESS),
        ("root", second.token_key, "Nairobi system (of amina, user deleted)", ADDRESS),
    ]


def test_tokens_deleted_with_their_user_on_the_server_are_logged_without_an_address(amina):
    token, _key = issue_token(user=amina, name="Bangkok system")
    get_user_model().objects.filter(pk=amina.pk).delete()
    assert revoked() == [("amina", token.token_key, "Bangkok system (user deleted)", "")]


def test_deleting_a_user_without_tokens_writes_nothing(amina):
    amina.delete()
    assert not AccessEvent.objects.exists()


def test_tokens_revoked_by_a_password_change_carry_its_address(client, amina):
    token, _key = issue_token(user=amina, name="Bangkok system")
    assert sign_in(client, "amina", PASSWORD)
    client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR=ADDRESS,
    )
    assert revoked() == [("amina", token.token_key, "Bangkok system (password changed)", ADDRESS)]


def test_tokens_revoked_by_a_password_reset_carry_its_address(client, amina, mailoutbox):
    token, _key = issue_token(user=amina, name="Bangkok system")
    client.post(reverse("password_reset"), {"email": "amina@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR=ADDRESS,
    )
    assert not ApiToken.objects.exists()
    assert revoked() == [("amina", token.token_key, "Bangkok system (password changed)", ADDRESS)]


def test_tokens_revoked_by_an_administrator_setting_a_password_name_the_administrator_and_address(admin_client, amina):
    token, _key = issue_token(user=amina, name="Bangkok system")
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[amina.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302 and not ApiToken.objects.exists()
    assert revoked() == [("root", token.token_key, "Bangkok system (of amina, password changed)", ADDRESS)]
