"""Measurements typed in real Chromium: numbers by the language, breakdowns, warnings to confirm."""

import re
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from actionplan.models import Indicator, Measurement, ProgressUpdate
from portal import numbers
from tests.e2e.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def open_form(page, site, language="en"):
    page.goto(f"{site.url}/activities/{site.activity.code}/report/")
    with translation.override(language):
        page.get_by_label(gettext("On track")).check()
        page.get_by_label(gettext("Percent complete")).fill("40")


def test_a_breakdown_that_does_not_add_up_and_an_ambiguous_number_are_refused_then_fixed(site, login):
    Indicator.objects.filter(pk=site.indicator.pk).update(dimensions=["sex"])
    reporter = login(site, site.reporter)
    open_form(reporter, site)
    reporter.get_by_label(re.compile("CYB-1.1-I1 Officers trained")).fill("30")
    reporter.get_by_label("CYB-1.1-I1, sex: Female").fill("12")
    reporter.get_by_label("CYB-1.1-I1, sex: Male").fill("16")
    reporter.get_by_label(re.compile("CYB-1.1-I2")).fill("12,5")
    reporter.get_by_role("button", name="Save draft").click()

    expect(
        reporter.get_by_text(re.compile("“12,5” is not a number as written in English; write it like 1,234.5"))
    ).to_be_visible()
    expect(reporter.get_by_label(re.compile("CYB-1.1-I2"))).to_have_value("12,5")
    reporter.get_by_label(re.compile("CYB-1.1-I2")).fill("12.5")
    reporter.get_by_role("button", name="Save draft").click()
    expect(reporter.get_by_text(re.compile("by sex adds up to 28, 2 short of the total 30"))).to_be_visible()
    expect(reporter.get_by_label("CYB-1.1-I1, sex: Male")).to_have_value("16")
    screenshot(reporter, "update-form-breakdown-refused")
    assert serious_accessibility_violations(reporter) == []
    assert not ProgressUpdate.objects.exists()

    reporter.get_by_label("CYB-1.1-I1, sex: Male").fill("18")
    reporter.get_by_role("button", name="Save draft").click()
    expect(reporter.get_by_text("Draft saved.")).to_be_visible()
    values = Measurement.objects.filter(indicator=site.indicator).values_list("sex", "value")
    assert sorted(values) == [("", 30), ("female", 12), ("male", 18)]


def test_a_french_reporter_writes_numbers_the_french_way_and_confirms_an_unusual_figure(site, login):
    reporter = login(site, site.reporter, locale="fr-FR")
    open_form(reporter, site, "fr")
    reporter.get_by_label(re.compile("CYB-1.1-I1")).fill("1 234,5")
    with translation.override("fr"):
        save, confirm, saved = (
            gettext("Save draft"),
            gettext("I have checked these figures: they are right."),
            gettext("Progress update"),
        )
        warning = gettext("%(indicator)s: %(value)s is more than %(share)d %% of the target %(target)s.") % {
            "indicator": "CYB-1.1-I1", "value": numbers.show(Decimal("1234.5")), "share": 150, "target": "100"
        }  # fmt: skip
    assert "représente plus de 150" in warning
    reporter.get_by_role("button", name=save).click()

    expect(reporter.get_by_text(warning)).to_be_visible()
    screenshot(reporter, "update-form-warning")
    assert not ProgressUpdate.objects.exists()
    reporter.get_by_label(confirm).check()
    reporter.get_by_role("button", name=save).click()
    expect(reporter.get_by_role("heading", name=saved)).to_be_visible()
    update = ProgressUpdate.objects.get()
    assert Measurement.objects.get(update=update).value == 1234.5
    assert [warning["rule"] for warning in update.warnings] == ["above_target"]
