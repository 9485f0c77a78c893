"""The committee's endorsement of a compiled progress report: signed by a co-chair of each party."""

import pytest
from django.urls import reverse

from portal.errors import NotAllowed, WrongState
from portal.models import Notification
from steering import signoff
from steering.models import ProgressReport, Signature, SignOff
from steering.reports import endorsement


def _report(world, **extra) -> ProgressReport:
    """A report as a worker leaves it once compiled (its files are not read here)."""
    values = {
        "state": "succeeded", "snapshot": {"summary": []}, "content_hash": "0" * 64,
        "pdf": "reports/r.pdf", "xlsx": "reports/r.xlsx", **extra,
    }  # fmt: skip
    return ProgressReport.objects.create(plan=world.plan, period=world.period, requested_by=world.officer, **values)


@pytest.fixture
def report(signing_world):
    return _report(signing_world)


def fresh(report) -> ProgressReport:
    return ProgressReport.objects.get(pk=report.pk)


def test_a_report_signed_by_both_parties_is_endorsed(signing_world, report):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    signoff.sign(by=world.cochair_interpol, subject=report)
    assert fresh(report).endorsed_at is None
    last = signoff.sign(by=world.cochair_unodc, subject=report)
    assert fresh(report).endorsed_at == last.signed_at


def test_submitting_a_report_tells_the_co_chairs(signing_world, report):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    told = Notification.objects.filter(kind="signature_awaited")
    assert {n.recipient for n in told} == {world.cochair_unodc, world.cochair_interpol}
    assert {n.url for n in told} == {reverse("report-detail", args=[report.pk])}


def test_a_declined_report_goes_back_to_whoever_submitted_it(signing_world, report):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.secretary, report=report)
    signoff.decline(by=world.cochair_unodc, subject=report, reason="Wait for the Q3 figures.")
    report = fresh(report)
    assert report.endorsement_submitted_at is None and report.endorsed_at is None
    [told] = Notification.objects.filter(kind="signoff_outcome")
    assert told.recipient == world.secretary and "Wait for the Q3 figures." in told.body
    endorsement.submit_for_endorsement(by=world.secretary, report=report)
    assert list(SignOff.objects.of(report).values_list("number", "state")) == [(1, "declined"), (2, "open")]


def test_the_report_page_shows_who_signed_and_who_is_awaited(signing_world, report, as_user):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    signoff.sign(by=world.cochair_unodc, subject=report)
    url = reverse("report-detail", args=[report.pk])
    page = as_user(world.cochair_interpol).get(url).content.decode()
    assert "Waiting for INTERPOL" in page and "Ursula Berger" in page and "Sign for INTERPOL" in page
    assert "Sign for" not in as_user(world.cochair_unodc).get(url).content.decode()


def test_an_officer_submits_a_report_from_its_page(signing_world, report, as_user):
    world = signing_world
    client = as_user(world.officer)
    assert "Submit for endorsement" in client.get(reverse("report-detail", args=[report.pk])).content.decode()
    response = client.post(reverse("report-submit", args=[report.pk]))
    assert response.status_code == 302
    assert fresh(report).endorsement_submitted_at is not None


def test_a_co_chair_endorses_from_the_report_page(signing_world, report, as_user):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    round = SignOff.objects.of(report).get()
    for chair in (world.cochair_unodc, world.cochair_interpol):
        as_user(chair).post(reverse("signoff-sign", args=[round.pk]))
    assert fresh(report).endorsed_at is not None


# Bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["queued", "running", "failed"])
def test_a_report_not_compiled_is_not_submitted(signing_world, state):
    report = ProgressReport.objects.create(plan=signing_world.plan, period=signing_world.period, state=state)
    with pytest.raises(WrongState, match="Only a compiled report"):
        endorsement.submit_for_endorsement(by=signing_world.officer, report=report)
    assert not SignOff.objects.exists() and fresh(report).endorsement_submitted_at is None


def test_a_committee_member_does_not_submit_a_report(signing_world, report, as_user):
    response = as_user(signing_world.committee).post(reverse("report-submit", args=[report.pk]))
    assert response.status_code == 403
    assert not SignOff.objects.exists()


def test_an_endorsed_report_is_not_submitted_again(signing_world, report):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    for chair in (world.cochair_unodc, world.cochair_interpol):
        signoff.sign(by=chair, subject=report)
    with pytest.raises(WrongState, match="already endorsed"):
        endorsement.submit_for_endorsement(by=world.officer, report=report)
    assert SignOff.objects.count() == 1


def test_a_co_chair_cannot_endorse_for_the_other_party(signing_world, report):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    with pytest.raises(NotAllowed, match="cannot sign for UNODC"):
        signoff.sign(by=world.cochair_interpol, subject=report, party="UNODC")
    assert not Signature.objects.exists()


def test_endorsing_a_report_not_submitted_is_refused(signing_world, report):
    with pytest.raises(WrongState, match="Not submitted for signature"):
        signoff.sign(by=signing_world.cochair_unodc, subject=report)
    assert not Signature.objects.exists()


# Pages and API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [1, 6])
def test_report_page_query_count_does_not_grow_with_rounds(
    signing_world, report, as_user, django_assert_max_num_queries, rounds
):
    world = signing_world
    for _ in range(rounds - 1):
        endorsement.submit_for_endorsement(by=world.officer, report=report)
        signoff.decline(by=world.cochair_unodc, subject=report, reason="Not yet.")
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    signoff.sign(by=world.cochair_unodc, subject=report)
    client = as_user(world.cochair_interpol)
    # session, user, groups; the report, its summary parts, others of its scope, its renderings; the
    # sign-off panel (rounds, their signatures with signers, the co-chairs' seats); unread notifications
    with django_assert_max_num_queries(14):
        page = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert page.count("Not yet.") == rounds - 1


def test_the_api_shows_the_endorsement_read_only(signing_world, report, api):
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    signoff.sign(by=world.cochair_unodc, subject=report)
    body = api(world.officer).get(f"/api/v1/reports/{report.pk}/").json()["endorsement"]
    assert (body["state"], body["awaited"], body["endorsed_at"]) == ("submitted", ["INTERPOL"], None)
    assert [(s["round"], s["party"], s["decision"], s["signer"]) for s in body["signatures"]] == [
        (1, "UNODC", "signed", "cochair.unodc")
    ]
    refused = api(world.officer).patch(f"/api/v1/reports/{report.pk}/", {"endorsement": {}}, format="json")
    assert refused.status_code == 405
    assert signoff.awaited(report).keys() == {"INTERPOL"}


@pytest.mark.parametrize(
    ("signed_by", "awaited"),
    [((), ["UNODC", "INTERPOL"]), (("cochair_interpol",), ["UNODC"]), (("cochair_unodc", "cochair_interpol"), [])],
)
def test_the_page_the_api_and_the_rules_name_the_same_parties_awaited(signing_world, report, api, signed_by, awaited):
    # One rule (SignOff.parties_awaited) read three ways: by the sign-off's rules, its panel on pages, the API.
    world = signing_world
    endorsement.submit_for_endorsement(by=world.officer, report=report)
    for chair in signed_by:
        signoff.sign(by=getattr(world, chair), subject=report)
    assert list(signoff.awaited(report)) == awaited
    assert list(signoff.panel(report, world.officer).awaited) == awaited
    assert api(world.officer).get(f"/api/v1/reports/{report.pk}/").json()["endorsement"]["awaited"] == awaited


@pytest.mark.parametrize("count", [2, 8])
def test_the_api_list_with_endorsements_takes_a_fixed_number_of_queries(
    signing_world, api, count, django_assert_max_num_queries
):
    world = signing_world
    for _ in range(count):
        made = _report(world)
        endorsement.submit_for_endorsement(by=world.officer, report=made)
        signoff.sign(by=world.cochair_unodc, subject=made)
    client = api(world.officer)
    # token with its user and groups, the count, the page; renderings, rounds, their signatures with signers
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/reports/").status_code == 200
