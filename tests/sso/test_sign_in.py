"""Single sign-on through each organisation's OpenID Connect provider, a real one on 127.0.0.1."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from audit.models import AccessEvent
from portal.models import Organization, Profile
from tests import factories
from tests.sso.conftest import sign_in_through
from tests.sso.identity_provider import Person

pytestmark = pytest.mark.django_db


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


def refusals():
    return list(AccessEvent.objects.filter(kind=AccessEvent.Kind.SSO_REFUSED).values_list("object_id", "label"))


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(("code", "email"), [("UNODC", "Amina.Diallo@UNODC.org"), ("INTERPOL", "j.weber@interpol.int")])
def test_a_person_of_each_organisation_signs_in_and_lands_on_the_home_page(client, sso, code, email):
    user = factories.UserFactory(email=email.lower())
    sso[code].person = Person(email=email)

    response = sign_in_through(client, sso[code], code)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.status_code == 200
    assert signed_in_user_id(client) == str(user.pk)


def test_a_sign_in_records_the_organisation_on_the_profile(client, sso):
    user = factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")

    sign_in_through(client, sso["UNODC"], "UNODC")

    assert Profile.objects.get(user=user).organization == Organization.objects.get(code="UNODC")


def test_a_sign_in_is_in_the_access_log(client, sso):
    user = factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")

    sign_in_through(client, sso["UNODC"], "UNODC")

    event = AccessEvent.objects.get(kind=AccessEvent.Kind.SSO_SIGN_IN)
    assert (event.user_id, event.object_id, event.address) == (user.pk, "UNODC", "127.0.0.1")


def test_a_sign_in_gives_a_new_session_key(client, sso):
    factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key

    sign_in_through(client, sso["UNODC"], "UNODC")

    assert client.session.session_key != before


def test_a_sign_in_goes_on_to_the_page_asked_for(client, sso):
    factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")

    response = sign_in_through(client, sso["UNODC"], "UNODC", next="/accounts/profile/")

    assert response.redirect_chain[-1][0] == "/accounts/profile/"


def test_a_next_address_on_another_site_is_not_followed(client, sso):
    factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")

    response = sign_in_through(client, sso["UNODC"], "UNODC", next="https://evil.example.net/")

    assert response.redirect_chain[-1][0] == reverse("home")


def test_the_authorisation_request_carries_a_nonce_and_a_pkce_challenge(client, sso):
    factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")

    sign_in_through(client, sso["UNODC"], "UNODC")

    asked = sso["UNODC"].authorisation_requests[-1]
    assert len(asked["nonce"]) >= 32
    assert asked["code_challenge_method"] == "S256"
    assert "openid" in asked["scope"].split()


def test_an_email_outside_the_organisations_domains_is_refused_with_a_message(client, sso):
    factories.UserFactory(email="amina@gmail.com")
    sso["UNODC"].person = Person(email="amina@gmail.com")

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "amina@gmail.com is not an e-mail address of UNODC (unodc.org, un.org)." in messages_of(response)[0]
    assert signed_in_user_id(client) is None
    assert refusals() == [("UNODC", "UNODC: amina@gmail.com is not in the organisation's domains (unodc.org, un.org)")]


def test_an_email_of_no_account_is_refused_and_no_account_is_made(client, sso):
    from django.contrib.auth import get_user_model

    sso["INTERPOL"].person = Person(email="newcomer@interpol.int")
    users = get_user_model().objects.count()

    response = sign_in_through(client, sso["INTERPOL"], "INTERPOL")

    assert "No portal account uses newcomer@interpol.int." in messages_of(response)[0]
    assert signed_in_user_id(client) is None
    assert get_user_model().objects.count() == users


def test_an_inactive_account_is_not_signed_in(client, sso):
    factories.UserFactory(email="gone@unodc.org", is_active=False)
    sso["UNODC"].person = Person(email="gone@unodc.org")

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert "No portal account uses gone@unodc.org." in messages_of(response)[0]
    assert signed_in_user_id(client) is None


def test_an_unverified_email_is_refused(client, sso):
    factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org", email_verified=False)

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert "UNODC has not verified the e-mail address amina@unodc.org." in messages_of(response)[0]
    assert signed_in_user_id(client) is None


def test_the_email_may_come_from_the_user_info_alone(client, sso):
    user = factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org", email_in_id_token=False)

    sign_in_through(client, sso["UNODC"], "UNODC")

    assert signed_in_user_id(client) == str(user.pk)


def test_an_account_of_the_other_organisation_is_refused(client, sso):
    user = factories.UserFactory(email="j.weber@un.org")
    interpol = Organization.objects.get(code="INTERPOL")
    factories.MembershipFactory(user=user, office=factories.OfficeFactory(organization=interpol))
    sso["UNODC"].person = Person(email="j.weber@un.org")

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert "Your portal account belongs to INTERPOL: sign in with INTERPOL." in messages_of(response)[0]
    assert signed_in_user_id(client) is None
    assert not Profile.objects.filter(user=user, organization__isnull=False).exists()


def test_an_account_recorded_for_the_other_organisation_is_refused(client, sso):
    user = factories.UserFactory(email="amina@un.org")
    Profile.objects.create(user=user, organization=Organization.objects.get(code="INTERPOL"))
    sso["UNODC"].person = Person(email="amina@un.org")

    sign_in_through(client, sso["UNODC"], "UNODC")

    assert signed_in_user_id(client) is None
    assert refusals() == [("UNODC", f"UNODC: the account {user.username} belongs to INTERPOL")]


def test_two_accounts_with_the_same_email_are_refused(client, sso):
    factories.UserFactory(email="amina@unodc.org")
    factories.UserFactory(email="AMINA@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert "Several portal accounts use amina@unodc.org" in messages_of(response)[0]
    assert signed_in_user_id(client) is None


def test_an_organisation_missing_from_the_portal_is_refused(client, sso):
    Organization.objects.filter(code="INTERPOL").delete()
    factories.UserFactory(email="j.weber@interpol.int")
    sso["INTERPOL"].person = Person(email="j.weber@interpol.int")

    response = sign_in_through(client, sso["INTERPOL"], "INTERPOL")

    assert "INTERPOL is not an organisation of the portal yet" in messages_of(response)[0]
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("wrong_nonce", "nonce is not the one the portal sent"),
        ("wrong_audience", "Audience doesn't match"),
        ("wrong_issuer", "Invalid issuer"),
        ("foreign_key", "Signature verification failed"),
        ("expired", "Signature has expired"),
        ("other_subject", "the user info describes another subject"),
    ],
)
def test_a_token_that_fails_a_check_is_refused_and_nobody_signed_in(client, sso, fault, reason):
    factories.UserFactory(email="amina@unodc.org")
    sso["UNODC"].person = Person(email="amina@unodc.org")
    sso["UNODC"].fault = fault

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert response.redirect_chain[-1][0] == reverse("login")
    assert (
        "Sign-in with UNODC failed: the answer of its sign-in service could not be verified."
        in (messages_of(response)[0])
    )
    assert signed_in_user_id(client) is None
    [(organisation, label)] = refusals()
    assert organisation == "UNODC"
    assert reason in label
    assert not Profile.objects.filter(organization__isnull=False).exists()


def test_a_sign_in_cancelled_at_the_provider_says_so(client, sso):
    sso["UNODC"].fault = "cancel"

    response = sign_in_through(client, sso["UNODC"], "UNODC")

    assert messages_of(response) == ["Sign-in with UNODC was cancelled."]
    assert signed_in_user_id(client) is None


def test_an_answer_replayed_after_the_sign_in_is_refused(client, sso):
    """The state is used once: the same callback address a second time signs nobody in."""
    import requests

    factories.UserFactory(email="amina@unodc.org")
    provider = sso["UNODC"]
    provider.person = Person(email="amina@unodc.org")
    start = client.post("/accounts/sso/unodc/login/")
    back = requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"]
    callback = back.removeprefix("http://testserver")
    client.get(callback)
    client.logout()

    response = client.get(callback, follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert signed_in_user_id(client) is None


def test_a_callback_without_a_sign_in_started_here_is_refused(client, sso):
    response = client.get("/accounts/sso/unodc/callback/?code=stolen&state=made-up", follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert signed_in_user_id(client) is None


def test_a_provider_that_does_not_answer_is_reported_on_the_login_page(client, sso, settings):
    from sso import config

    [unodc, interpol] = settings.SSO_ORGANISATIONS
    down = config.Organisation(**{**unodc.__dict__, "issuer": "http://127.0.0.1:9/unodc"})
    settings.SSO_ORGANISATIONS = [down, interpol]

    response = client.post("/accounts/sso/unodc/login/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "The sign-in service of UNODC does not answer." in messages_of(response)[0]


def test_a_discovery_document_of_another_issuer_is_refused(client, sso):
    sso["UNODC"].fault = "discovery_issuer"

    response = client.post("/accounts/sso/unodc/login/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert sso["UNODC"].authorisation_requests == []
    [(organisation, label)] = refusals()
    assert "the discovery document names the issuer 'http://127.0.0.1:1/another-issuer'" in label


def test_a_password_lockout_does_not_stop_single_sign_on(client, sso, amina, settings):
    """The lockout guards the password; the provider has authenticated the person its own way."""
    from tests.conftest import AMINA_PASSWORD, sign_in

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "amina", "a wrong password")
    assert not sign_in(client, "amina", AMINA_PASSWORD)
    amina.email = "amina@unodc.org"
    amina.save()
    sso["UNODC"].person = Person(email="amina@unodc.org")

    sign_in_through(client, sso["UNODC"], "UNODC")

    assert signed_in_user_id(client) == str(amina.pk)


def test_an_organisation_not_configured_has_no_sign_in(client, sso):
    assert client.post("/accounts/sso/donor/login/").status_code == 404


def test_the_sign_in_is_started_by_a_post_only(client, sso):
    assert client.get("/accounts/sso/unodc/login/").status_code == 405


def test_the_button_needs_the_login_pages_csrf_token(sso):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/sso/unodc/login/")

    assert response.status_code == 403


def test_the_login_page_shows_a_button_per_configured_organisation(client, sso):
    page = client.get(reverse("login")).content.decode()

    assert "Sign in with UNODC" in page
    assert "Sign in with INTERPOL" in page
    assert 'action="/accounts/sso/unodc/login/"' in page


def test_the_login_page_lets_the_buttons_forms_go_to_the_providers(client, sso):
    policy = client.get(reverse("login"))["Content-Security-Policy"]

    form_action = next(part for part in policy.split(";") if part.strip().startswith("form-action"))
    for provider in sso.values():
        assert provider.issuer.rsplit("/", 1)[0] in form_action


def test_without_single_sign_on_the_login_page_has_no_button(client, db, settings):
    settings.SSO_ORGANISATIONS = []

    response = client.get(reverse("login"))

    assert "Sign in with" not in response.content.decode()
    assert "form-action 'self'" in response["Content-Security-Policy"]


def test_the_password_sign_in_still_works_beside_single_sign_on(client, sso, amina):
    from tests.conftest import AMINA_PASSWORD, sign_in

    assert sign_in(client, "amina", AMINA_PASSWORD)
