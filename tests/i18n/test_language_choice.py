"""Which language the portal speaks: the user's choice, then the browser's, then English."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from portal.models import Profile
from tests.conftest import AMINA_PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def page_language(response) -> tuple[str, str]:
    opening = re.search(r'<html lang="([^"]+)" dir="(\w+)"', response.content.decode())
    return opening.group(1), opening.group(2)


def test_the_browser_language_is_spoken_to_a_visitor(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.8")
    assert page_language(response) == ("fr", "ltr")
    assert response["Content-Language"] == "fr"


@pytest.mark.parametrize("header", ["tlh", "xx-YY;q=1", "fr;q=abc,,;;", "*", "q" * 300, "en-\u0000;q=1"])
def test_an_unknown_or_malformed_browser_language_falls_back_to_english(client, header):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200
    assert page_language(response) == ("en", "ltr")


def test_arabic_pages_read_right_to_left_with_bootstraps_rtl_stylesheet(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ar")
    assert page_language(response) == ("ar", "rtl")
    assert "bootstrap.rtl.min.css" in response.content.decode()


def test_chinese_is_matched_from_the_browsers_usual_codes(client):
    for header in ("zh-CN", "zh-Hans", "zh"):
        assert page_language(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=header))[0] == "zh-hans"


def test_the_switcher_offers_the_six_languages_each_named_in_itself(client):
    page = client.get(reverse("login")).content.decode()
    offered = re.findall(r'<option value="([^"]+)" lang="[^"]+"', page)
    assert offered == ["en", "fr", "es", "ar", "ru", "zh-hans"]
    assert ">العربية<" in page and ">中文（简体）<" in page


def test_a_visitors_switch_is_kept_in_a_cookie_over_the_browser_language(client):
    response = client.post(reverse("switch-language"), {"language": "es", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert page_language(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr"))[0] == "es"


@pytest.mark.parametrize("code", ["klingon", "", "../../etc", "en-<script>", "x" * 500])
def test_switching_to_an_unknown_language_gives_english(client, code):
    response = client.post(reverse("switch-language"), {"language": code, "next": reverse("login")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_the_switcher_returns_only_to_a_page_of_the_portal(client):
    response = client.post(reverse("switch-language"), {"language": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_switcher_needs_a_post_with_its_csrf_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("switch-language"), {"language": "fr"}).status_code == 403
    assert client.get(reverse("switch-language")).status_code == 405


def test_a_signed_in_users_switch_is_remembered_in_the_profile(client, amina):
    assert sign_in(client, "amina", AMINA_PASSWORD)
    client.post(reverse("switch-language"), {"language": "ru", "next": reverse("home")})
    assert Profile.objects.get(user=amina).language == "ru"
    assert page_language(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr"))[0] == "ru"


def test_the_profiles_language_follows_the_user_to_another_browser(client, amina):
    Profile.objects.create(user=amina, language="ar")
    assert sign_in(client, "amina", AMINA_PASSWORD)
    assert page_language(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr")) == ("ar", "rtl")


def test_a_profile_without_a_language_lets_the_browser_decide(client, amina):
    Profile.objects.create(user=amina, language="")
    assert sign_in(client, "amina", AMINA_PASSWORD)
    assert page_language(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es"))[0] == "es"


def test_choosing_a_language_in_the_profile_takes_effect_at_once(client, amina):
    assert sign_in(client, "amina", AMINA_PASSWORD)
    form = {"first_name": "Amina", "last_name": "Diallo", "language": "zh-hans"}
    form.update({f"email_{key}": "immediate" for key in __import__("portal.notifications").notifications.KINDS})
    response = client.post(reverse("profile"), form, follow=True)
    assert page_language(response)[0] == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Your profile is saved.") in response.content.decode()


def test_the_api_answers_in_the_accept_language_of_a_token_client(world, api):
    client = api(world.reporter)
    response = client.get("/api/v1/updates/?state=nonsense", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert response["Content-Language"] == "fr"


def test_the_api_answers_an_unknown_language_in_english(world, api):
    response = api(world.reporter).get("/api/v1/updates/?state=nonsense", HTTP_ACCEPT_LANGUAGE="xx")
    assert response.status_code == 400
    assert response["Content-Language"] == "en"


@pytest.mark.parametrize("language", ["fr", "ar", "zh-hans"])
def test_the_apis_own_refusals_are_written_in_the_clients_language(world, api, language):
    response = api(world.officer).get(
        f"/api/v1/indicators/{world.indicator.code}/figures/?office=NOPE", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    with translation.override(language):
        expected = translation.gettext("Unknown office %(codes)s.") % {"codes": "NOPE"}
    assert expected != "Unknown office NOPE."
    assert response.json()["detail"] == expected
