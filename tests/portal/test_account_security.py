"""Sign-in and accounts: lockout after failed passwords, limits on costly pages, Argon2, idle
sessions ending, and a new password revoking the user's API tokens."""

import io
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal import sessions
from portal.models import ApiToken
from portal.tokens import issue_token
from tests import factories
from tests.conftest import AMINA_PASSWORD as PASSWORD
from tests.conftest import sign_in

pytestmark = pytest.mark.usefixtures("fresh_counters")


def wrong_passwords(client, count, path="login", username="amina"):
    return [
        client.post(reverse(path), {"username": username, "password": f"wrong-{n}"}).status_code for n in range(count)
    ]


def test_the_right_password_after_five_wrong_ones_is_refused(client, amina, settings):
    settings.AXES_FAILURE_LIMIT = 5
    wrong_passwords(client, 5)
    response = client.post(reverse("login"), {"username": "amina", "password": PASSWORD})
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode() and int(response["Retry-After"]) == 15 * 60
    assert SESSION_KEY not in client.session


def test_the_admin_login_locks_out_too(client, amina, settings):
    settings.AXES_FAILURE_LIMIT = 5
    amina.is_staff = True
    amina.save()
    wrong_passwords(client, 5, path="admin:login")
    response = client.post(reverse("admin:login"), {"username": "amina", "password": PASSWORD})
    assert response.status_code == 429


def test_a_locked_out_attempt_hashes_no_password(client, amina, settings, monkeypatch):
    # A locked-out client looping on the form costs no hashing: the other pages stay fast.
    from django.contrib.auth.backends import ModelBackend

    settings.AXES_FAILURE_LIMIT = 5
    wrong_passwords(client, 5)
    calls = []
    original = ModelBackend.authenticate
    monkeypatch.setattr(ModelBackend, "authenticate", lambda *a, **k: calls.append(1) or original(*a, **k))
    wrong_passwords(client, 20)
    assert calls == []


def test_another_address_is_not_locked_out_by_one_users_failures(client, amina, settings):
    # An office behind one address is not shut out because one of its users mistyped.
    settings.AXES_FAILURE_LIMIT = 5
    wrong_passwords(client, 5)
    client.post(reverse("login"), {"username": "amina", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert SESSION_KEY in client.session


def test_an_administrator_sees_the_lockout_and_unlocks_it_with_a_command(client, amina, settings):
    settings.AXES_FAILURE_LIMIT = 5
    wrong_passwords(client, 5)
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert "amina" in client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    client.logout()

    call_command("axes_reset_username", "amina", stdout=io.StringIO())
    assert not AccessAttempt.objects.filter(username="amina").exists()
    assert sign_in(client, "amina", PASSWORD)


def test_sign_in_attempts_from_one_address_are_limited(client, db, settings):
    # Many usernames tried from one address (a password spray) meet the address's limit.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/min"}
    statuses = [wrong_passwords(client, 1, username=f"user{n}")[0] for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_password_reset_mails_are_limited_per_address(client, amina, settings, mailoutbox):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/hour"}
    statuses = [client.post(reverse("password_reset"), {"email": "amina@example.org"}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    assert len(mailoutbox) == 2


def test_password_reset_mails_to_one_address_are_limited_from_anywhere(client, amina, settings, mailoutbox):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/hour"}
    for n in range(4):
        client.post(reverse("password_reset"), {"email": "Amina@example.org"}, REMOTE_ADDR=f"10.0.0.{n}")
    assert len(mailoutbox) == 2


def test_register_exports_are_limited_with_a_page_that_says_when_to_retry(as_user, world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "2/min"}
    client = as_user(world.officer)
    statuses = [client.get(reverse("activity-list"), {"export": "csv"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get(reverse("activity-list"), {"export": "xlsx"})
    assert "Try again in" in refused.content.decode() and 0 < int(refused["Retry-After"]) <= 60
    assert client.get(reverse("activity-list")).status_code == 200  # the register itself stays open


def test_report_requests_in_the_browser_are_limited(as_user, world, settings):
    from steering.models import ProgressReport

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": "1/hour"}
    client = as_user(world.officer)
    client.post(reverse("report-list"), {"period": world.period.pk})
    response = client.post(reverse("report-list"), {"period": world.locked_period.pk})
    assert response.status_code == 429
    assert ProgressReport.objects.count() <= 1


def test_token_creation_is_limited(client, amina, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token": "2/hour"}
    client.force_login(amina)
    statuses = [client.post(reverse("tokens"), {"name": f"system {n}"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    assert ApiToken.objects.filter(user=amina).count() == 2


def test_passwords_are_hashed_with_argon2(amina, settings):
    from portal import settings as portal_settings

    settings.PASSWORD_HASHERS = portal_settings.PASSWORD_HASHERS
    amina.set_password(PASSWORD)
    assert amina.password.startswith("argon2")


def test_an_older_hash_is_upgraded_at_sign_in_without_revoking_tokens(client, amina, settings):
    from portal import settings as portal_settings

    settings.PASSWORD_HASHERS = portal_settings.PASSWORD_HASHERS[::-1]  # PBKDF2 first: an older hash
    amina.set_password(PASSWORD)
    amina.save()
    issue_token(user=amina, name="system")
    settings.PASSWORD_HASHERS = portal_settings.PASSWORD_HASHERS
    assert sign_in(client, "amina", PASSWORD)
    amina.refresh_from_db()
    assert amina.password.startswith("argon2")
    assert ApiToken.objects.filter(user=amina).count() == 1


def test_sessions_end_after_eight_idle_hours_by_default():
    from portal import settings as portal_settings

    assert portal_settings.SESSION_COOKIE_AGE == 8 * 3600


def test_an_idle_session_is_signed_out(client, amina):
    client.force_login(amina)
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_working_moves_the_sessions_end_on(client, amina):
    client.force_login(amina)
    session = client.session
    session[sessions.SEEN_KEY] = int(time.time()) - sessions.REFRESH_SECONDS - 1
    session.save()
    Session.objects.update(expire_date=timezone.now() + timezone.timedelta(minutes=1))
    client.get(reverse("home"))
    assert Session.objects.get().expire_date > timezone.now() + timezone.timedelta(hours=7)


def test_a_request_soon_after_the_last_writes_no_session(client, amina):
    client.force_login(amina)
    client.get(reverse("profile"))
    before = Session.objects.get().expire_date
    client.get(reverse("profile"))
    assert Session.objects.get().expire_date == before


def test_the_password_change_page_warns_that_tokens_and_other_sessions_will_end(client, amina):
    assert sign_in(client, "amina", PASSWORD)

    page = client.get(reverse("password_change")).content.decode()

    assert "signs you out on every other device and revokes your API tokens" in page


def test_changing_the_password_revokes_the_api_tokens_and_says_so(client, amina):
    issue_token(user=amina, name="Bangkok system")
    issue_token(user=amina, name="Nairobi system")
    assert sign_in(client, "amina", PASSWORD)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
        follow=True,
    )
    assert not ApiToken.objects.filter(user=amina).exists()
    assert "Your 2 API tokens were revoked" in response.content.decode()
    assert client.get(reverse("home")).status_code == 200  # this session goes on


def test_changing_the_password_signs_out_the_other_sessions(client, amina):
    from django.test import Client

    other = Client()
    assert sign_in(other, "amina", PASSWORD)
    assert sign_in(client, "amina", PASSWORD)
    client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert other.get(reverse("home")).status_code == 302


def test_resetting_the_password_revokes_the_api_tokens(client, amina, mailoutbox):
    import re

    issue_token(user=amina, name="Bangkok system")
    client.post(reverse("password_reset"), {"email": "amina@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
        follow=True,
    )
    assert not ApiToken.objects.filter(user=amina).exists()
    assert "API token was revoked" in response.content.decode()


def test_an_administrator_setting_a_password_revokes_the_tokens_too(amina):
    issue_token(user=amina, name="system")
    amina.set_password("set-by-an-administrator")
    amina.save()
    assert not ApiToken.objects.filter(user=amina).exists()


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    from portal.addresses import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_address(request) == "203.0.113.7"  # what a client wrote first is not believed


def test_without_a_proxy_forwarded_addresses_are_ignored(rf, settings):
    from portal.addresses import client_address

    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_address(request) == "198.51.100.4"


@pytest.mark.parametrize("written", ["unknown", "203.0.113.7:4711", "_hidden", "203.0.113.7 OR 1=1", "x" * 300])
def test_behind_a_proxy_a_forwarded_value_that_is_no_address_gives_the_peers_address(rf, settings, written):
    from portal.addresses import client_address

    settings.TRUSTED_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {written}, 10.0.0.2")
    assert client_address(request) == "10.9.9.9"
    # Where the proxies wrote an address, of either family, it is believed.
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 2001:db8::7, 10.0.0.2")
    assert client_address(request) == "2001:db8::7"


def test_a_sign_in_behind_a_proxy_that_forwards_no_address_is_answered(client, amina, settings):
    """django-axes stores the address of a failed sign-in in an address column: "unknown" there would fail."""
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.post(reverse("login"), {"username": "amina", "password": "wrong"}, HTTP_X_FORWARDED_FOR="unknown")
    assert response.status_code == 200
    client.post(reverse("login"), {"username": "amina", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="unknown")
    assert SESSION_KEY in client.session


def test_a_lockout_behind_a_proxy_counts_the_clients_address(client, amina, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        client.post(reverse("login"), {"username": "amina", "password": f"wrong-{n}"}, HTTP_X_FORWARDED_FOR="6.6.6.6")
    client.post(reverse("login"), {"username": "amina", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="7.7.7.7")
    assert SESSION_KEY in client.session
