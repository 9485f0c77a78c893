"""The portal in other languages in real Chromium: the switcher, Arabic right to left, charts that follow."""

import pytest
from playwright.sync_api import expect

from portal.models import Profile
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.factories import ProgressUpdateFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_switching_to_arabic_mirrors_the_page_and_is_remembered(site, login):
    ProgressUpdateFactory(
        activity=site.activity, period=site.period, office=site.office, state="approved", rag="at_risk"
    )
    page = login(site, site.officer)
    page.locator("#language-switcher").select_option("ar")
    page.wait_for_function("document.documentElement.lang === 'ar'")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    assert Profile.objects.get(user=site.officer).language == "ar"

    # Mirrored: the brand stands on the right, the first section of the navigation to its left.
    brand = page.locator(".navbar-brand").bounding_box()
    first_link = page.locator("#main-nav .navbar-nav .nav-link").first.bounding_box()
    assert brand["x"] > first_link["x"]
    expect(page.locator("#main-nav .navbar-nav .nav-link").first).to_have_text("الرئيسية")
    screenshot(page, "home-ar")

    page.locator("#main-nav a[href='/steering/']").click()
    page.wait_for_url("**/steering/")
    chart = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector('canvas[data-dashboard-chart="status"]'));
            return {reverse: chart.options.scales.x.reverse, axis: chart.options.scales.y.position,
                    legend: chart.options.plugins.legend.rtl, locale: chart.options.locale};
        }"""
    )
    assert chart == {"reverse": True, "axis": "right", "legend": True, "locale": "ar-u-nu-latn"}
    screenshot(page, "dashboard-ar")
    assert serious_accessibility_violations(page) == []


def test_the_browsers_language_is_used_until_the_user_chooses(site, login):
    page = login(site, site.reporter, locale="fr-FR")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#main-nav .navbar-nav .nav-link").first).to_have_text("Accueil")
    page.locator("#language-switcher").select_option("zh-hans")
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    screenshot(page, "home-zh-hans")
