"""Every admin changelist and add page answers a superuser and turns an anonymous user away."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.urls import reverse

from actionplan.models import (
    ActivityStanding,
    ChangeApproval,
    ChangeRequest,
    IndicatorFigure,
    PlanVersion,
    VersionIndicator,
    VersionPeriodTarget,
)
from audit.models import AccessEvent
from outbox.models import Message as OutboxMessage
from portal.models import ApiToken, EmailFailure, IdempotencyKey, Tombstone
from steering.models import ProgressReport, ReportRendering, SentNotification, Signature, SignOff
from tests import factories
from webhooks.models import Delivery

# Rows only the portal itself makes (a token's key is shown once, on the user's token page;
# reports are compiled by workers; scheduled jobs record what they sent; django-axes records sign-ins;
# the access log is written by the views it accounts for; the outbox holds the jobs that changes
# asked of the workers; standings and figures are kept from the approved updates; webhook deliveries are
# written with the changes they announce; tombstones by the deletes they record; rounds of signatures by the
# co-chairs who sign; e-mail failures by the mail server's refusals).
WITHOUT_ADD_PAGE = {
    ApiToken, IdempotencyKey, ProgressReport, ReportRendering, SentNotification, AccessAttempt, AccessFailureLog,
    AccessLog, AccessEvent, OutboxMessage, ActivityStanding, IndicatorFigure, Delivery, Tombstone, SignOff,
    EmailFailure,
    # Written by actionplan.versions and actionplan.change_requests alone.
    PlanVersion, VersionIndicator, VersionPeriodTarget, ChangeRequest, ChangeApproval,
}  # fmt: skip
# Rows shown on their parent's admin page rather than on pages of their own.
SHOWN_INLINE = {Signature}


def url_name(model, page):
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"


ADMIN_PAGES = sorted(
    url_name(model, page)
    for model in admin.site._registry
    for page in ("changelist", "add")
    if page == "changelist" or model not in WITHOUT_ADD_PAGE
)


@pytest.fixture
def superuser_client(client, db):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_superuser_opens_admin_page(superuser_client, page):
    assert superuser_client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_anonymous_user_is_sent_to_login(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", sorted(WITHOUT_ADD_PAGE, key=str))
def test_admin_cannot_add_rows_only_the_portal_makes(superuser_client, model):
    assert superuser_client.get(reverse(url_name(model, "add"))).status_code == 403


def test_every_domain_model_is_in_the_admin():
    from django.apps import apps

    # Historical rows (django-simple-history) show through their model's "History" page.
    domain_models = {
        model
        for app in ("portal", "actionplan", "steering", "audit", "outbox")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.model_name.startswith("historical") and model not in SHOWN_INLINE
    }
    assert domain_models <= set(admin.site._registry)


@pytest.mark.django_db
def test_changelists_answer_with_demo_rows(superuser_client):
    from portal.demo import seed_demo
    from portal.reference import load_reference_data

    load_reference_data()
    # Scale XS fills every table scale S fills (and a changelist shows a page of 100 rows at most).
    seed_demo(scale="XS", seed=1, password="x")
    for page in ADMIN_PAGES:
        if page.endswith("_changelist"):
            assert superuser_client.get(reverse(page)).status_code == 200, page
