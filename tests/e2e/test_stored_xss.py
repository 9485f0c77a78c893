"""Stored XSS in real Chromium: the pages that show typed markup, charts drawn from it included, run none of it."""

import pytest

from tests.test_stored_xss import MARK, hostile_world  # noqa: F401 -- the fixture, shared with the crawl

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_showing_typed_markup_run_no_script_of_it(site, hostile_world, login):  # noqa: F811
    world = hostile_world
    page = login(site, world.officer)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    addresses = [
        "/",
        f"/activities/{world.activity.code}/",
        f"/plan/focus-areas/{world.area.code}/",
        f"/plan/indicators/{world.indicator.code}/",
        f"/updates/{world.update.pk}/",
        "/activities/",
        "/steering/",
        f"/steering/meetings/{world.meeting.pk}/",
        "/notifications/",
    ]
    for address in addresses:
        page.goto(f"{site.url}{address}")
        page.wait_for_load_state("load")
        # The markup is on the page as text: the test is looking at the right thing.
        assert MARK in page.content(), address
    assert dialogs == []
