"""Single sign-on in a real browser: the login page's button, the provider on 127.0.0.1, and back signed in."""

import pytest
from playwright.sync_api import expect

from portal.models import Organization
from tests import factories
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.sso.conftest import configure, identity_providers, providers  # noqa: F401 -- fixtures
from tests.sso.identity_provider import Person


@pytest.fixture
def sso_site(live_server, settings, providers, transactional_db, fresh_counters):  # noqa: F811 -- the fixture
    configure(settings, providers, base_url=live_server.url)
    for code in providers:
        Organization.objects.create(code=code, name=code)
    return live_server


@pytest.mark.parametrize("width", [1280, 390])
def test_the_login_page_offers_each_organisations_button(browser, sso_site, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{sso_site.url}/accounts/login/")

    expect(page.get_by_role("button", name="Sign in with UNODC")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with INTERPOL")).to_be_visible()
    screenshot(page, f"login-single-sign-on-{width}")
    assert serious_accessibility_violations(page) == []
    context.close()


def test_a_person_signs_in_with_the_button_and_lands_on_the_home_page(browser, sso_site, providers):  # noqa: F811
    user = factories.UserFactory(email="amina@unodc.org", first_name="Amina")
    providers["UNODC"].person = Person(email="amina@unodc.org")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{sso_site.url}/accounts/login/")

    page.get_by_role("button", name="Sign in with UNODC").click()

    page.wait_for_url(f"{sso_site.url}/")
    expect(page.get_by_role("button", name="Sign in with UNODC")).to_have_count(0)
    assert user.username in page.content() or "Amina" in page.content()
    context.close()


def test_a_refused_person_reads_why_on_the_login_page(browser, sso_site, providers):  # noqa: F811
    providers["INTERPOL"].person = Person(email="newcomer@interpol.int")
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{sso_site.url}/accounts/login/")

    page.get_by_role("button", name="Sign in with INTERPOL").click()

    page.wait_for_url(f"{sso_site.url}/accounts/login/")
    expect(page.get_by_role("alert")).to_contain_text("No portal account uses newcomer@interpol.int.")
    screenshot(page, "login-single-sign-on-refused-390")
    context.close()
