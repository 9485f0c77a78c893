"""Browser tests: real headless Chromium (Debian's) driven by Playwright against a live server."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import require_service

# Playwright's sync API runs an event loop in the test thread; the ORM calls made there
# by the tests themselves are safe (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Debian's headless shell (Chromium's own headless mode, which Playwright uses where it installs its browsers)
# takes half the processor the full browser does in its headless mode, which runs the browser's own interface
# unseen; the full browser serves where the shell is missing.
CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "e2e-password-2018"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        require_service("Chromium is not installed (apt-get install chromium-headless-shell)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    # The manifest storage needs collectstatic, which live_server tests do without.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def site(live_server, world, settings, tmp_path):
    """The live portal with the test plan, every persona able to log in with PASSWORD."""
    settings.MEDIA_ROOT = tmp_path
    for user in (world.reporter, world.other_reporter, world.officer, world.committee):
        user.set_password(PASSWORD)
        user.first_name = user.username.split(".")[0].title()
        user.save()
    world.url = live_server.url
    return world


@pytest.fixture
def committee_site(site, committee_world):
    for user in (committee_world.secretary, committee_world.cochair):
        user.set_password(PASSWORD)
        user.save()
    return site


@pytest.fixture
def login(browser):
    """Open a fresh browser context signed in as the user, on the user's home page; return its page.

    The session is made by the server (as the sign-in form makes it) and handed to the browser as its
    cookie: a sign-in through the form costs a browser two page loads more, and each test signs in one
    to four people. ``through_form=True`` signs in through the form, as a person does.
    """
    contexts = []

    def as_user(site, user, viewport=None, locale=None, through_form=False):
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 900}, accept_downloads=True, locale=locale
        )
        contexts.append(context)
        page = context.new_page()
        if through_form:
            page.goto(f"{site.url}/accounts/login/")
            # By name, not label: the labels follow the browser's language.
            page.locator("input[name=username]").fill(user.username)
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("main form button[type=submit]").click()
        else:
            server = Client()
            server.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            cookie = server.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site.url}])
            page.goto(f"{site.url}/")
        page.wait_for_url(f"{site.url}/")
        return page

    yield as_user
    for context in contexts:
        context.close()


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


PHONE = {"width": 390, "height": 844}


def both_widths(page, name):
    """Screenshot the page at desktop width, then laid out again at a phone's, and go on at desktop width.

    One flow seen at both widths: the same flow run again on a phone would add nothing but time.
    """
    desktop = page.viewport_size
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    # No table or form wider than the phone's screen makes the page scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(desktop)


def serious_accessibility_violations(page):
    """Run axe-core in the page; return its serious and critical violations."""
    # Evaluated by the browser's debugging protocol, which the Content-Security-Policy does not bind: a
    # <script> tag with axe's text would be refused as an inline script, as it should.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {violation['nodes'][0]['target']}"
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
