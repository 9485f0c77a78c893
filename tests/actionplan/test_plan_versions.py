"""Plan versions and change requests: once a version is endorsed, what it governs changes only when the
other organisation approves (or both co-chairs sign), and each approved change is a new version that can be
compared with any other."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from actionplan import change_requests, versions
from actionplan.models import Activity, ChangeRequest, Indicator, PeriodTarget, PlanVersion
from portal.errors import AlreadyExists, InvalidInput, NotAllowed, StaleVersion, WrongState
from portal.models import Notification, Organization, Profile, Role
from steering import signoff
from steering.models import CommitteeMember, Signature, SignOff
from tests import factories


def _works_for(user, code):
    organisation = Organization.objects.get_or_create(code=code, defaults={"name": code})[0]
    Profile.objects.update_or_create(user=user, defaults={"organization": organisation})
    return user


def _officer(username, code):
    from django.contrib.auth.models import Group

    user = factories.UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=Role.PROGRAMME_OFFICER.value)[0])
    return _works_for(user, code)


@pytest.fixture
def endorsed(world):
    """The world's plan at version 1.0, its officer working for UNODC, a second UNODC officer and an INTERPOL one."""
    PeriodTarget.objects.create(indicator=world.indicator, period=world.period, value=40)
    world.officer = _works_for(world.officer, "UNODC")
    world.colleague = _officer("officer.vienna", "UNODC")
    world.interpol = _officer("officer.lyon", "INTERPOL")
    world.version = versions.record_version(
        plan=world.plan,
        endorsement="Steering committee, Lyon",
        endorsed_at=datetime.datetime(2018, 6, 6, tzinfo=datetime.UTC),
    )
    return world


def propose_target(world, *, target="150", reason="The 2020 assessment doubled the need.", by=None, **more):
    values = {"target_value": Decimal(target), **more}
    return change_requests.propose_change(by=by or world.officer, item=world.indicator, values=values, reason=reason)


# Versions and their snapshots.


def test_the_first_version_is_1_0_and_the_next_1_1(endorsed):
    change = propose_target(endorsed)
    change_requests.record_approval(change=change, by=endorsed.interpol)
    numbers = [version.number for version in PlanVersion.objects.filter(plan=endorsed.plan).in_order()]
    assert numbers == ["1.0", "1.1"]
    endorsed.plan.refresh_from_db()
    assert endorsed.plan.version == "1.1"


def test_a_snapshot_holds_what_a_version_governs(endorsed):
    held = endorsed.version.snapshot["indicators"][versions.key(endorsed.indicator.pk)]
    assert held["target_value"] == "100.00" and held["period_targets"] == {"2020-Q2": "40.00"}
    assert endorsed.version.snapshot["activities"][versions.key(endorsed.activity.pk)]["objective"] == "CYB-1"
    assert endorsed.version.snapshot["focus_areas"][versions.key(endorsed.area.pk)]["name"] == "Cybercrime"


@pytest.mark.parametrize("size", [2, 20])
def test_building_a_snapshot_takes_the_same_queries_whatever_the_size(world, django_assert_num_queries, size):
    for _ in range(size):
        activity = factories.ActivityFactory(objective=world.objective)
        activity.partner_organizations.add(world.office.organization)
        indicator = factories.IndicatorFactory(activity=activity)
        PeriodTarget.objects.create(indicator=indicator, period=world.period, value=5)
    # focus areas, objectives, partner organisations, countries, activities, period targets, indicators
    with django_assert_num_queries(7):
        versions.build_snapshot(world.plan)


# The change request path: applied only after the other organisation approves.


def test_a_change_is_applied_only_once_the_other_organisation_approves(endorsed):
    change = propose_target(endorsed)
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(100)
    assert change_requests.record_approval(change=change, by=endorsed.interpol).number == "1.1"
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.APPLIED and change.applied_version.number == "1.1"
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(150)
    assert (
        change.applied_version.snapshot["indicators"][versions.key(endorsed.indicator.pk)]["target_value"] == "150.00"
    )


def test_a_change_of_period_targets_applies_them(endorsed):
    change = change_requests.propose_change(
        by=endorsed.officer,
        item=endorsed.indicator,
        values={"period_targets": {endorsed.period: Decimal(45), endorsed.locked_period: Decimal(20)}},
        reason="Targets per quarter agreed with the offices.",
    )
    change_requests.record_approval(change=change, by=endorsed.interpol)
    stored = dict(PeriodTarget.objects.filter(indicator=endorsed.indicator).values_list("period__code", "value"))
    assert stored == {"2020-Q2": Decimal(45), "2020-Q1": Decimal(20)}


def test_approving_ones_own_change_is_refused(endorsed):
    change = propose_target(endorsed)
    with pytest.raises(NotAllowed, match="You proposed this change"):
        change_requests.record_approval(change=change, by=endorsed.officer)
    assert not change.approvals.exists() and PlanVersion.objects.count() == 1


def test_an_officer_of_the_same_organisation_cannot_approve(endorsed):
    change = propose_target(endorsed)
    with pytest.raises(NotAllowed, match="an officer of the other organisation approves it"):
        change_requests.record_approval(change=change, by=endorsed.colleague)
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(100)


def test_a_change_against_an_outdated_version_is_refused_until_rebased(endorsed):
    first = propose_target(endorsed, target="150")
    second = propose_target(endorsed, target="120", by=endorsed.colleague)
    change_requests.record_approval(change=first, by=endorsed.interpol)
    with pytest.raises(StaleVersion, match="rebase it on version 1.1"):
        change_requests.record_approval(change=second, by=endorsed.interpol)
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(150)
    rebased = change_requests.rebase_change(change=second, by=endorsed.colleague)
    assert rebased.base_version.number == "1.1" and rebased.previous == {"target_value": "150.00"}
    change_requests.record_approval(change=rebased, by=endorsed.interpol)
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(120)


def test_a_change_to_another_object_since_its_version_needs_no_rebase(endorsed):
    first = propose_target(endorsed)
    other = change_requests.propose_change(
        by=endorsed.officer, item=endorsed.second_indicator, values={"unit": "cases"}, reason="Counted in cases."
    )
    change_requests.record_approval(change=first, by=endorsed.interpol)
    assert change_requests.record_approval(change=other, by=endorsed.interpol).number == "1.2"


def test_a_proposal_without_a_reason_is_refused(endorsed):
    with pytest.raises(InvalidInput) as refused:
        propose_target(endorsed, reason="  ")
    assert refused.value.field == "reason" and not ChangeRequest.objects.exists()


def test_a_proposal_that_changes_nothing_is_refused(endorsed):
    with pytest.raises(InvalidInput, match="changes nothing"):
        propose_target(endorsed, target="100.00")
    assert not ChangeRequest.objects.exists()


def test_someone_who_is_not_an_officer_cannot_propose(endorsed):
    with pytest.raises(NotAllowed, match="Only a programme officer"):
        propose_target(endorsed, by=endorsed.committee)
    assert not ChangeRequest.objects.exists()


def test_rejection_takes_a_reason_and_changes_nothing(endorsed):
    change = propose_target(endorsed)
    with pytest.raises(InvalidInput, match="reason"):
        change_requests.reject_change(change=change, by=endorsed.interpol, reason="")
    change_requests.reject_change(change=change, by=endorsed.interpol, reason="Not before the mid-term review.")
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.REJECTED and change.rejection_reason
    with pytest.raises(WrongState):
        change_requests.record_approval(change=change, by=endorsed.interpol)
    assert PlanVersion.objects.count() == 1


# Where both co-chairs decide: the two-party sign-off (steering.signoff), as for the minutes.

CO_CHAIRS = override_settings(PLAN_CHANGE_APPROVAL={"indicator": "co_chairs"})


@pytest.fixture
def co_chaired(endorsed, committee_world):
    """The endorsed world with its committee: ``cochair`` sits for INTERPOL, ``cochair_unodc`` for UNODC."""
    world = committee_world
    world.cochair_unodc = factories.UserFactory(username="cochair.unodc", email="ursula@example.org")
    world.cochair_unodc.groups.add(*world.cochair.groups.all())
    CommitteeMember.objects.create(
        committee=world.committee_body, user=world.cochair_unodc, role=CommitteeMember.Role.CO_CHAIR_UNODC
    )
    return world


def target_now(world) -> Decimal:
    return Indicator.objects.get(pk=world.indicator.pk).target_value


@CO_CHAIRS
def test_proposing_a_co_chairs_change_opens_a_round_and_tells_both_co_chairs(
    co_chaired, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change = propose_target(co_chaired)
    assert change.approval == "co_chairs" and not change.approvals.exists()
    assert signoff.awaited(change) == {"UNODC": [co_chaired.cochair_unodc], "INTERPOL": [co_chaired.cochair]}
    told = Notification.objects.filter(kind="signature_awaited")
    assert {n.recipient for n in told} == {co_chaired.cochair_unodc, co_chaired.cochair}
    assert {n.url for n in told} == {reverse("change-detail", args=[change.pk])}


@CO_CHAIRS
def test_one_co_chairs_signature_leaves_the_change_waiting(co_chaired):
    change = propose_target(co_chaired)
    signoff.sign(by=co_chaired.cochair, subject=change)
    assert list(signoff.awaited(change)) == ["UNODC"]
    assert ChangeRequest.objects.get().state == ChangeRequest.State.PROPOSED
    assert target_now(co_chaired) == Decimal(100) and PlanVersion.objects.count() == 1


@CO_CHAIRS
def test_both_co_chairs_signatures_apply_the_change_as_a_new_version(co_chaired):
    change = propose_target(co_chaired)
    signoff.sign(by=co_chaired.cochair, subject=change)
    signoff.sign(by=co_chaired.cochair_unodc, subject=change)
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.APPLIED and change.applied_version.number == "1.1"
    assert change.decided_by == co_chaired.cochair_unodc
    assert target_now(co_chaired) == Decimal(150)
    assert signoff.current_round(change).state == SignOff.State.APPROVED


@CO_CHAIRS
def test_a_co_chairs_decline_rejects_the_change_back_to_its_proposer_with_the_reason(co_chaired):
    change = propose_target(co_chaired)
    signoff.sign(by=co_chaired.cochair, subject=change)
    signoff.decline(by=co_chaired.cochair_unodc, subject=change, reason="Not before the mid-term review.")
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.REJECTED and change.decided_by == co_chaired.cochair_unodc
    assert change.rejection_reason == "Not before the mid-term review."
    assert target_now(co_chaired) == Decimal(100) and PlanVersion.objects.count() == 1
    told = Notification.objects.get(kind="signoff_outcome", recipient=co_chaired.officer)
    assert "Not before the mid-term review." in told.body


@CO_CHAIRS
def test_a_co_chair_cannot_sign_for_the_other_party(co_chaired):
    change = propose_target(co_chaired)
    with pytest.raises(NotAllowed, match="cannot sign for UNODC"):
        signoff.sign(by=co_chaired.cochair, subject=change, party="UNODC")
    assert not Signature.objects.exists()


@CO_CHAIRS
def test_a_co_chair_cannot_sign_a_change_twice(co_chaired):
    change = propose_target(co_chaired)
    signoff.sign(by=co_chaired.cochair, subject=change)
    with pytest.raises(AlreadyExists, match="already signed"):
        signoff.sign(by=co_chaired.cochair, subject=change)
    assert Signature.objects.count() == 1 and target_now(co_chaired) == Decimal(100)


@CO_CHAIRS
def test_an_officer_cannot_approve_or_reject_a_change_the_co_chairs_sign(co_chaired):
    change = propose_target(co_chaired)
    with pytest.raises(NotAllowed, match="Both co-chairs sign a change of this kind"):
        change_requests.record_approval(change=change, by=co_chaired.interpol)
    with pytest.raises(NotAllowed, match="Both co-chairs sign a change of this kind"):
        change_requests.reject_change(change=change, by=co_chaired.interpol, reason="No.")
    assert ChangeRequest.objects.get().state == ChangeRequest.State.PROPOSED and not change.approvals.exists()


@CO_CHAIRS
def test_a_co_chair_who_proposed_the_change_cannot_sign_it(co_chaired):
    co_chaired.cochair.groups.add(*co_chaired.officer.groups.all())
    change = propose_target(co_chaired, by=_works_for(co_chaired.cochair, "INTERPOL"))
    with pytest.raises(NotAllowed, match="not its proposer"):
        signoff.sign(by=co_chaired.cochair, subject=change)
    assert not Signature.objects.exists()


@CO_CHAIRS
def test_an_outdated_co_chairs_change_is_refused_when_signed_until_rebased(co_chaired):
    first = propose_target(co_chaired, target="150")
    second = propose_target(co_chaired, target="120", by=co_chaired.colleague)
    signoff.sign(by=co_chaired.cochair, subject=second)
    for chair in (co_chaired.cochair, co_chaired.cochair_unodc):
        signoff.sign(by=chair, subject=first)
    with pytest.raises(StaleVersion, match="rebase it on version 1.1"):
        signoff.sign(by=co_chaired.cochair_unodc, subject=second)
    assert list(signoff.awaited(second)) == ["UNODC"] and target_now(co_chaired) == Decimal(150)

    rebased = change_requests.rebase_change(change=second, by=co_chaired.colleague)
    # The signature given to the old difference is void: its round is withdrawn and the next one awaits both.
    assert [r.state for r in SignOff.objects.of(rebased).order_by("number")] == ["withdrawn", "open"]
    assert list(signoff.awaited(rebased)) == ["UNODC", "INTERPOL"]
    for chair in (co_chaired.cochair, co_chaired.cochair_unodc):
        signoff.sign(by=chair, subject=rebased)
    assert target_now(co_chaired) == Decimal(120)


@CO_CHAIRS
def test_a_co_chairs_change_without_both_co_chairs_seated_is_not_proposed(endorsed, committee_world):
    with pytest.raises(WrongState, match="No co-chair sits for UNODC"):
        propose_target(committee_world)
    assert not ChangeRequest.objects.exists()


@override_settings(PLAN_CHANGE_APPROVAL={"focus_area": "co_chairs"})
def test_the_change_page_shows_the_sign_panel_and_the_second_signature_applies_it(client, co_chaired):
    world = co_chaired
    change = change_requests.propose_change(
        by=world.officer, item=world.area, values={"name": "Cybercrime and electronic evidence"}, reason="Mandate."
    )
    round = signoff.current_round(change)
    client.force_login(world.cochair)
    page = client.get(reverse("change-detail", args=[change.pk]))
    assert page.context["signoff"].may_answer and reverse("signoff-sign", args=[round.pk]) in page.content.decode()
    assert reverse("change-approve", args=[change.pk]) not in page.content.decode()
    client.post(reverse("signoff-sign", args=[round.pk]), {"party": "INTERPOL"})
    again = client.post(reverse("signoff-sign", args=[round.pk]), {"party": "INTERPOL"}, follow=True)
    assert "already signed" in again.content.decode() and not again.context["signoff"].may_answer
    assert world.area.__class__.objects.get(pk=world.area.pk).name == "Cybercrime"

    client.force_login(world.cochair_unodc)
    client.post(reverse("signoff-sign", args=[round.pk]), {"party": "UNODC"})
    assert world.area.__class__.objects.get(pk=world.area.pk).name == "Cybercrime and electronic evidence"
    assert ChangeRequest.objects.get().applied_version.number == "1.1"


@CO_CHAIRS
def test_a_decline_through_the_page_shows_the_change_rejected_to_its_proposer(client, co_chaired):
    change = propose_target(co_chaired)
    client.force_login(co_chaired.cochair_unodc)
    client.post(
        reverse("signoff-decline", args=[signoff.current_round(change).pk]),
        {"party": "UNODC", "decline-reason": "Wait for the assessment."},
    )
    client.force_login(co_chaired.officer)
    page = client.get(reverse("change-detail", args=[change.pk])).content.decode()
    assert "Wait for the assessment." in page and "Rejected: back with its proposer" in page
    assert reverse("change-propose", args=["indicator", co_chaired.indicator.code]) in page


# Direct edits.


def indicator_data(world, **extra):
    data = {
        "activity": world.activity.pk, "code": world.indicator.code, "name": world.indicator.name, "unit": "number",
        "measure": "number", "direction": "increase", "office_rule": "sum", "period_rule": "cumulative",
        "baseline_value": "0", "target_value": "100", "plausible_share_of_target": "150", "plausible_growth": "3",
        "target_2020-Q2": "40", "expected_version": world.indicator.version,
    }  # fmt: skip
    return {**data, **extra}


def test_a_direct_edit_of_a_governed_field_is_refused_pointing_to_a_change_request(client, endorsed):
    client.force_login(endorsed.officer)
    response = client.post(
        reverse("plan-item-edit", args=["indicator", endorsed.indicator.code]),
        indicator_data(endorsed, target_value="150", change_reason="More trainees"),
    )
    assert response.status_code == 200
    assert "Propose a change instead" in response.content.decode()
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(100)


def test_a_direct_edit_of_a_field_no_version_governs_is_saved(client, endorsed):
    client.force_login(endorsed.officer)
    response = client.post(
        reverse("plan-item-edit", args=["indicator", endorsed.indicator.code]),
        indicator_data(endorsed, means_of_verification="Attendance sheets"),
    )
    assert response.status_code == 302
    assert Indicator.objects.get(pk=endorsed.indicator.pk).means_of_verification == "Attendance sheets"


def test_without_an_endorsed_version_governed_fields_are_edited_directly(client, world):
    client.force_login(world.officer)
    response = client.post(
        reverse("plan-item-edit", args=["indicator", world.indicator.code]),
        indicator_data(world, target_value="150", change_reason="More trainees"),
    )
    assert response.status_code == 302
    assert Indicator.objects.get(pk=world.indicator.pk).target_value == Decimal(150)


# Through the pages.


def test_the_proposal_page_shows_the_difference_before_submitting(client, endorsed):
    client.force_login(endorsed.officer)
    url = reverse("change-propose", args=["indicator", endorsed.indicator.code])
    data = {**indicator_data(endorsed, target_value="150"), "reason": "More trainees", "action": "preview"}
    page = client.post(url, data).content.decode()
    assert "100.00" in page and "150.00" in page and "Submit the change request" in page
    assert not ChangeRequest.objects.exists()
    response = client.post(url, {**data, "action": "submit"})
    change = ChangeRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("change-detail", args=[change.pk])
    assert change.proposed == {"target_value": "150.00"}


@pytest.mark.parametrize(("action", "reads"), [("preview", 1), ("submit", 2)])
def test_the_proposal_page_reads_the_governing_version_once_and_the_submission_once_more(
    client, endorsed, action, reads
):
    # The page's preview uses the version the page read; a submission reads it again in its transaction.
    client.force_login(endorsed.officer)
    url = reverse("change-propose", args=["indicator", endorsed.indicator.code])
    data = {**indicator_data(endorsed), "reason": "Recount", "action": action}  # changes nothing: refused, shown
    with CaptureQueriesContext(connection) as captured:
        client.post(url, data)
    version_reads = [query for query in captured if query["sql"].startswith('SELECT "actionplan_planversion"."id"')]
    assert len(version_reads) == reads


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("baseline_value", "many", "Enter a number."),
        ("target_value", "-5", "This cannot be negative."),
        ("target_2020-Q2", "-1", "This cannot be negative."),
    ],
)
def test_an_invalid_value_is_refused_naming_its_field(client, endorsed, field, value, message):
    client.force_login(endorsed.officer)
    url = reverse("change-propose", args=["indicator", endorsed.indicator.code])
    response = client.post(url, {**indicator_data(endorsed, **{field: value}), "reason": "x", "action": "submit"})
    assert response.context["form"].errors[field] == [message]
    assert not ChangeRequest.objects.exists()


def test_an_empty_reason_is_refused_on_the_page(client, endorsed):
    client.force_login(endorsed.officer)
    url = reverse("change-propose", args=["indicator", endorsed.indicator.code])
    response = client.post(url, {**indicator_data(endorsed, target_value="150"), "reason": "", "action": "submit"})
    assert response.context["form"].errors["reason"] == ["Give the reason for the change."]
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize("action", ["preview", "submit"])
def test_a_proposal_that_changes_nothing_is_refused_once_on_the_page(client, endorsed, action):
    client.force_login(endorsed.officer)
    url = reverse("change-propose", args=["indicator", endorsed.indicator.code])
    response = client.post(url, {**indicator_data(endorsed), "reason": "Recount", "action": action})
    assert [str(error) for error in response.context["form"].non_field_errors()] == [
        "This proposal changes nothing: every value is the one version 1.0 holds."
    ]
    assert not ChangeRequest.objects.exists()


def test_a_non_officer_cannot_open_the_proposal_page(client, endorsed):
    client.force_login(endorsed.committee)
    response = client.get(reverse("change-propose", args=["indicator", endorsed.indicator.code]))
    assert response.status_code == 403


def test_the_other_organisation_approves_through_the_page(client, endorsed):
    change = propose_target(endorsed)
    client.force_login(endorsed.interpol)
    response = client.post(reverse("change-approve", args=[change.pk]), follow=True)
    assert "the plan is at version 1.1 now" in response.content.decode()
    assert Indicator.objects.get(pk=endorsed.indicator.pk).target_value == Decimal(150)


def test_the_same_organisation_is_refused_through_the_page(client, endorsed):
    change = propose_target(endorsed)
    client.force_login(endorsed.colleague)
    response = client.post(reverse("change-approve", args=[change.pk]), follow=True)
    assert "an officer of the other organisation approves it" in response.content.decode()
    assert ChangeRequest.objects.get().state == ChangeRequest.State.PROPOSED


def test_an_officer_of_an_organisation_that_is_no_party_cannot_approve(endorsed):
    endorsed.plan.agreement.parties.add(*Organization.objects.filter(code__in=["UNODC", "INTERPOL"]))
    donor = _officer("officer.donor", "DONOR")
    change = propose_target(endorsed)
    with pytest.raises(NotAllowed, match="DONOR is not a party to the agreement"):
        change_requests.record_approval(change=change, by=donor)
    assert change_requests.record_approval(change=change, by=endorsed.interpol).number == "1.1"


def test_an_outdated_change_offers_its_proposer_a_rebase(client, endorsed):
    first, second = propose_target(endorsed), propose_target(endorsed, target="120")
    change_requests.record_approval(change=first, by=endorsed.interpol)
    client.force_login(endorsed.officer)
    response = client.get(reverse("change-detail", args=[second.pk]))
    assert response.context["outdated"] and reverse("change-rebase", args=[second.pk]) in response.content.decode()
    response = client.post(reverse("change-rebase", args=[second.pk]), follow=True)
    assert "made against version 1.1 now" in response.content.decode()


# Comparing versions.


def applied_changes(world):
    change = propose_target(world)
    change_requests.record_approval(change=change, by=world.interpol)
    title = change_requests.propose_change(
        by=world.officer, item=world.activity, values={"title": "Regional training on ransomware"}, reason="Focus."
    )
    change_requests.record_approval(change=title, by=world.interpol)


def test_comparing_versions_lists_each_changed_field(endorsed):
    applied_changes(endorsed)
    older, newer = PlanVersion.objects.in_order()[0], PlanVersion.objects.in_order()[2]
    differences = versions.compare(older.snapshot, newer.snapshot)
    found = {(d.kind, d.code, d.action): [(c.label, c.before, c.after) for c in d.changes] for d in differences}
    assert found == {
        ("activity", "CYB-1.1", "changed"): [("Title", "Regional training", "Regional training on ransomware")],
        ("indicator", "CYB-1.1-I1", "changed"): [("End target", "100.00", "150.00")],
    }


def test_comparing_versions_lists_what_was_added(endorsed):
    added = factories.IndicatorFactory(activity=endorsed.activity, code="CYB-1.1-I9")
    later = versions.record_version(plan=endorsed.plan, endorsement="Steering committee, Vienna")
    differences = versions.compare(endorsed.version.snapshot, later.snapshot)
    assert [(d.kind, d.code, d.action) for d in differences] == [("indicator", added.code, "added")]


def test_the_compare_page_shows_the_differences(client, endorsed):
    applied_changes(endorsed)
    client.force_login(endorsed.committee)
    page = client.get(reverse("plan-version-compare"), {"older": "1.0", "newer": "1.2"}).content.decode()
    assert "Regional training on ransomware" in page and "150.00" in page


def test_the_workbook_of_the_differences_opens_and_holds_the_rows(client, endorsed):
    applied_changes(endorsed)
    client.force_login(endorsed.officer)
    response = client.get(reverse("plan-version-compare-export", args=["xlsx"]), {"older": "1.0", "newer": "1.2"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert rows == [
        ["Activity", "CYB-1.1", "Changed", "Title", "Regional training", "Regional training on ransomware"],
        ["Indicator", "CYB-1.1-I1", "Changed", "End target", "100.00", "150.00"],
    ]


def test_the_csv_of_the_differences_holds_the_rows(client, endorsed):
    applied_changes(endorsed)
    client.force_login(endorsed.officer)
    response = client.get(reverse("plan-version-compare-export", args=["csv"]), {"older": "1.0", "newer": "1.1"})
    assert response.content.decode().splitlines()[1] == "Indicator,CYB-1.1-I1,Changed,End target,100.00,150.00"


def test_a_reporter_cannot_read_the_versions(client, endorsed):
    client.force_login(endorsed.reporter)
    assert client.get(reverse("plan-versions")).status_code == 403


def grow_plan(world, size):
    for _ in range(size):
        activity = factories.ActivityFactory(objective=world.objective)
        indicator = factories.IndicatorFactory(activity=activity)
        PeriodTarget.objects.create(indicator=indicator, period=world.period, value=5)


@pytest.mark.parametrize("size", [2, 20])
def test_the_versions_page_takes_the_same_queries_whatever_the_size(
    client, endorsed, django_assert_max_num_queries, size
):
    grow_plan(endorsed, size)
    for _ in range(size // 2):
        propose_target(endorsed, target=str(100 + size + _))
    client.force_login(endorsed.officer)
    # session, user, groups, unread notifications; the plan, its versions, its open and its decided change requests
    with django_assert_max_num_queries(8):
        assert client.get(reverse("plan-versions")).status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_the_compare_page_takes_the_same_queries_whatever_the_size(
    client, endorsed, django_assert_max_num_queries, size
):
    grow_plan(endorsed, size)
    versions.record_version(plan=endorsed.plan, endorsement="Vienna")
    client.force_login(endorsed.officer)
    # session, user, groups, unread notifications; the plan, the two versions, the version numbers
    with django_assert_max_num_queries(7):
        assert client.get(reverse("plan-version-compare"), {"older": "1.0", "newer": "1.1"}).status_code == 200


def test_the_admin_shows_governed_fields_read_only_once_a_version_holds_the_object(client, endorsed):
    admin = factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("admin:actionplan_activity_change", args=[endorsed.activity.pk])).content.decode()
    assert 'name="title"' not in page and 'name="status"' in page
    # Asked by the form, the fieldsets and the delete button, the version is read once.
    assert [query["sql"].startswith('SELECT "actionplan_planversion"."id"') for query in captured].count(True) == 1


def test_the_admin_edits_every_field_before_any_version(client, world):
    admin = factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:actionplan_activity_change", args=[world.activity.pk])).content.decode()
    assert 'name="title"' in page


def test_a_figure_as_at_a_version_is_measured_against_that_versions_target(endorsed):
    from actionplan import figures

    update = factories.ProgressUpdateFactory(
        activity=endorsed.activity, period=endorsed.period, office=endorsed.office, state="approved"
    )
    factories.MeasurementFactory(update=update, indicator=endorsed.indicator, value=30)
    Indicator.objects.filter(pk=endorsed.indicator.pk).update(target_value=200)
    PeriodTarget.objects.filter(indicator=endorsed.indicator).update(value=60)
    indicators = Indicator.objects.filter(pk=endorsed.indicator.pk)
    key = (endorsed.indicator.pk, endorsed.period.pk, figures.TOTAL)
    as_endorsed = figures.figures(indicators, [endorsed.period], version=endorsed.version)[key]
    now = figures.figures(indicators, [endorsed.period])[key]
    assert (as_endorsed.target, as_endorsed.share) == (Decimal(40), 75.0)
    assert (now.target, now.share) == (Decimal(60), 50.0)


# Version 1.0 of an existing plan, and of the demo.


def test_record_first_version_records_the_plan_as_1_0(world):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("record_first_version", "--plan", world.plan.code, stdout=out)
    version = PlanVersion.objects.get(plan=world.plan)
    assert (version.number, version.endorsed_at.date()) == ("1.0", datetime.date(2018, 6, 6))
    assert "Recorded version 1.0" in out.getvalue()


def test_record_first_version_refuses_a_plan_that_has_a_version(endorsed):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="has version 1.0 already"):
        call_command("record_first_version", "--plan", endorsed.plan.code)
    assert PlanVersion.objects.count() == 1


@pytest.mark.django_db
def test_the_demo_plan_is_at_version_1_0_as_agreed_in_lyon():
    from portal.demo import seed_demo
    from portal.reference import load_reference_data

    load_reference_data()
    seed_demo(scale="XS", seed=2018, password="pw")
    version = PlanVersion.objects.get()
    assert version.number == "1.0" and "Lyon" in version.endorsement
    assert len(version.snapshot["activities"]) == Activity.objects.count()


def test_a_long_reason_is_kept_whole_on_the_request_and_shortened_in_the_history(endorsed):
    reason = "The regional assessment of 2020 found twice the need. " * 6
    change = propose_target(endorsed, reason=reason)
    change_requests.record_approval(change=change, by=endorsed.interpol)
    assert ChangeRequest.objects.get().reason == reason.strip()
    latest = Indicator.history.filter(id=endorsed.indicator.pk).order_by("-history_date").first()
    assert latest.history_change_reason.startswith(f"Change request {change.pk}: The regional")


@pytest.mark.parametrize(
    ("kind", "code"),
    [("focus-area", "CYB"), ("objective", "CYB-1"), ("activity", "CYB-1.1"), ("indicator", "CYB-1.1-I1")],
)
def test_the_proposal_page_opens_for_each_kind(client, endorsed, kind, code):
    client.force_login(endorsed.officer)
    response = client.get(reverse("change-propose", args=[kind, code]))
    assert response.status_code == 200 and "reason" in response.context["form"].fields


def test_an_activitys_scope_is_proposed_through_the_page(client, endorsed):
    client.force_login(endorsed.officer)
    url = reverse("change-propose", args=["activity", endorsed.activity.code])
    data = {
        "title": endorsed.activity.title, "description": "", "objective": endorsed.objective.pk,
        "lead_organization": endorsed.activity.lead_organization.pk,
        "partner_organizations": [Organization.objects.get(code="INTERPOL").pk],
        "planned_start": "2021-01-01", "planned_end": "2020-12-31", "reason": "Joint delivery", "action": "submit",
    }  # fmt: skip
    refused = client.post(url, data)
    assert refused.context["form"].errors["planned_end"] == ["The end cannot be before the start."]
    response = client.post(url, {**data, "planned_end": "2021-06-30"})
    assert response.status_code == 302
    assert ChangeRequest.objects.get().proposed == {
        "partner_organizations": ["INTERPOL"], "planned_start": "2021-01-01", "planned_end": "2021-06-30",
    }  # fmt: skip


def test_the_edit_page_of_a_governed_object_points_to_a_change_request(client, endorsed):
    client.force_login(endorsed.officer)
    page = client.get(reverse("plan-item-edit", args=["activity", endorsed.activity.code])).content.decode()
    assert reverse("change-propose", args=["activity", endorsed.activity.code]) in page


def test_an_object_added_since_the_version_is_edited_directly(client, endorsed):
    added = factories.IndicatorFactory(activity=endorsed.activity, code="CYB-1.1-I8")
    client.force_login(endorsed.officer)
    proposal = client.get(reverse("change-propose", args=["indicator", added.code]))
    assert proposal.status_code == 302
    data = indicator_data(endorsed, code=added.code, target_value="150", change_reason="Set at launch")
    data["expected_version"] = added.version
    data.pop("target_2020-Q2")
    response = client.post(reverse("plan-item-edit", args=["indicator", added.code]), data)
    assert response.status_code == 302
    assert Indicator.objects.get(pk=added.pk).target_value == Decimal(150)
