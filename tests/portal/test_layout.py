"""The frame every page shares: the navigation marks its section, errors say why, small pages lead back."""

import pytest
from django.urls import reverse

from portal.context_processors import section_of


@pytest.mark.parametrize(
    "path, section",
    [("/", "home"), ("/plan/focus-areas/CYB/", "plan"), ("/activities/CYB-1.1/", "activities"),
     ("/steering/", "dashboard"), ("/steering/meetings/3/", "meetings"), ("/steering/reports/", "reports"),
     ("/updates/review/", "review"), ("/updates/", "updates"), ("/accounts/tokens/", "")],
)  # fmt: skip
def test_each_page_belongs_to_its_section_of_the_navigation(path, section):
    assert section_of(path) == section


def test_the_current_section_is_marked(as_user, world):
    page = as_user(world.officer).get(reverse("review-queue")).content.decode()
    assert f'<a class="nav-link active" aria-current="page" href="{reverse("review-queue")}">' in page


def test_a_page_not_open_to_the_user_says_why_and_whom_to_ask(as_user, world):
    response = as_user(world.reporter).get(reverse("meeting-list"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "open to the committee and the programme officers" in page and "administrator" in page


def test_the_tokens_page_shows_the_header_literally_and_asks_before_revoking(as_user, world):
    client = as_user(world.reporter)
    page = client.post(reverse("tokens"), {"name": "Bangkok M&amp;E"}).content.decode()
    assert "Authorization: Token &lt;key&gt;" in page
    assert "data-copy=" in page and "data-confirm=" in page


def test_the_password_reset_pages_lead_back_to_login(client):
    page = client.get(reverse("password_reset")).content.decode()
    assert reverse("login") in page


def test_the_api_documentation_leads_back_to_the_portal(client):
    page = client.get(reverse("api:docs")).content.decode()
    assert "Back to the Joint Action Plan Portal" in page


def test_every_page_has_a_favicon(client):
    assert "favicon.svg" in client.get(reverse("login")).content.decode()
