"""A moved baseline or target says why: the form asks for a reason, the history keeps it, the page shows it."""

import pytest
from django.urls import reverse

from actionplan.models import Indicator, PeriodTarget

EDIT = reverse("plan-item-edit", args=["indicator", "CYB-1.1-I9"])


@pytest.fixture
def officer(client, world):
    client.force_login(world.officer)
    return client


def indicator_data(world, **extra):
    data = {
        "activity": world.activity.pk,
        "code": "CYB-1.1-I9",
        "name": "Officers trained in digital forensics",
        "unit": "officers",
        "measure": "number",
        "direction": "increase",
        "office_rule": "sum",
        "period_rule": "cumulative",
        "baseline_value": "40",
        "target_value": "80",
        "target_2020-Q2": "60",
        "plausible_share_of_target": "150",
        "plausible_growth": "3",
    }
    return {**data, **extra}


@pytest.fixture
def defined(officer, world):
    """The indicator as an officer defined it (version 1): a new indicator needs no reason."""
    response = officer.post(reverse("plan-item-new", args=["indicator"]), indicator_data(world))
    assert response.status_code == 302
    return Indicator.objects.get(code="CYB-1.1-I9")


def test_changing_the_baseline_without_a_reason_is_refused_naming_the_field_and_keeping_the_input(
    officer, world, defined
):
    response = officer.post(EDIT, indicator_data(world, expected_version=1, baseline_value="45"))

    assert response.status_code == 200
    assert response.context["form"].errors["change_reason"] == [
        "Give a reason for changing Baseline: it is kept with the indicator's history."
    ]
    assert 'name="baseline_value" value="45"' in response.content.decode()
    defined.refresh_from_db()
    assert (defined.baseline_value, defined.version) == (40, 1)


def test_changing_the_end_or_a_period_target_without_a_reason_is_refused(officer, world, defined):
    response = officer.post(
        EDIT, indicator_data(world, expected_version=1, target_value="90", **{"target_2020-Q2": ""})
    )

    assert response.context["form"].errors["change_reason"] == [
        "Give a reason for changing End target, Target for 2020-Q2: it is kept with the indicator's history."
    ]
    assert PeriodTarget.objects.get(indicator=defined).value == 60


def test_a_blank_reason_is_no_reason(officer, world, defined):
    response = officer.post(EDIT, indicator_data(world, expected_version=1, target_value="90", change_reason="   "))
    assert "change_reason" in response.context["form"].errors


def test_a_change_that_leaves_baseline_and_targets_alone_needs_no_reason(officer, world, defined):
    response = officer.post(EDIT, indicator_data(world, expected_version=1, name="Renamed", baseline_value="40.00"))
    assert response.status_code == 302
    assert Indicator.objects.get(pk=defined.pk).name == "Renamed"


def test_the_reason_is_kept_with_the_history_of_the_indicator_and_its_period_targets(officer, world, defined):
    response = officer.post(
        EDIT,
        indicator_data(world, expected_version=1, baseline_value="35", change_reason="Baseline survey corrected",
                       **{"target_2020-Q2": "70"}),
    )  # fmt: skip

    assert response.status_code == 302
    latest = defined.history.order_by("-history_date").first()
    assert (latest.baseline_value, latest.history_change_reason, latest.history_user) == (
        35, "Baseline survey corrected", world.officer
    )  # fmt: skip
    target = PeriodTarget.history.filter(indicator_id=defined.pk).order_by("-history_date").first()
    assert (target.value, target.history_type, target.history_change_reason) == (70, "~", "Baseline survey corrected")


def test_the_indicator_page_shows_each_change_with_who_when_and_why(officer, world, defined):
    world.officer.first_name, world.officer.last_name = "Ana", "Officer"
    world.officer.save()
    officer.post(
        EDIT, indicator_data(world, expected_version=1, target_value="90", change_reason="Donor raised the bar")
    )
    officer.post(EDIT, indicator_data(world, expected_version=2, target_value="90", change_reason="Quarter dropped",
                                      **{"target_2020-Q2": ""}))  # fmt: skip

    response = officer.get(reverse("indicator", args=["CYB-1.1-I9"]))

    changes = response.context["figure_changes"]
    assert [(c.what, c.before, c.after, c.reason) for c in changes] == [
        ("Target for 2020-Q2", 60, None, "Quarter dropped"),
        ("End target", 80, 90, "Donor raised the bar"),
        ("Target for 2020-Q2", None, 60, ""),
    ]
    section = response.content.decode().split('id="figure-changes"')[1]
    assert "Donor raised the bar" in section and "Quarter dropped" in section and "Ana Officer" in section


@pytest.mark.parametrize("changes", [0, 5])
def test_the_indicator_page_reads_its_changes_in_the_same_queries_however_many(
    officer, world, defined, django_assert_max_num_queries, changes
):
    for version in range(1, changes + 1):
        changed = {"target_value": str(80 + version), "target_2020-Q2": str(60 + version)}
        data = indicator_data(world, expected_version=version, change_reason=f"Change {version}", **changed)
        assert officer.post(EDIT, data).status_code == 302
    # Session, user, groups; the indicator; its history and its period targets' history (one query each,
    # however long); the plan's periods, the figures (at the period and over the periods), the period
    # targets listed, and the rest of the layout: twelve, with no change as with five.
    with django_assert_max_num_queries(12):
        response = officer.get(reverse("indicator", args=["CYB-1.1-I9"]))
    # Each change moves two targets; the period target set at creation is listed too.
    assert len(response.context["figure_changes"]) == 2 * changes + 1


@pytest.fixture
def admin_client(db):
    from django.test import Client

    from tests import factories

    # A client of its own: the officer's signs in as the officer.
    client = Client()
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def admin_form(model, obj, data):
    from django.contrib import admin
    from django.test import RequestFactory

    from tests import factories

    request = RequestFactory().get("/")
    request.user = factories.UserFactory(username="root-form", is_staff=True, is_superuser=True)
    form_class = admin.site._registry[model].get_form(request, obj)
    return form_class(data, instance=obj)


def test_the_admin_keeps_a_saved_indicators_baseline_and_targets(world, defined):
    from django.forms.models import model_to_dict

    data = {**model_to_dict(defined), "dimensions": "[]", "baseline_value": "1", "target_value": "2",
            "name": "Renamed in the admin"}  # fmt: skip
    form = admin_form(Indicator, defined, data)

    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.name, saved.baseline_value, saved.target_value) == ("Renamed in the admin", 40, 80)
    assert "a reason is asked for" in str(form["baseline_value"].help_text)


def test_the_admin_keeps_a_saved_period_target_and_cannot_delete_it(admin_client, world, defined):
    target = PeriodTarget.objects.get(indicator=defined)
    form = admin_form(PeriodTarget, target, {"indicator": defined.pk, "period": world.locked_period.pk, "value": "1"})

    assert form.is_valid(), form.errors
    form.save()
    target.refresh_from_db()
    assert (target.period, target.value) == (world.period, 60)
    assert admin_client.get(reverse("admin:actionplan_periodtarget_delete", args=[target.pk])).status_code == 403


def test_the_admin_adds_an_indicator_with_its_figures(world):
    data = {**indicator_data(world, code="CYB-1.1-I8"), "dimensions": "[]", "version": 1}
    form = admin_form(Indicator, None, data)
    assert form.is_valid(), form.errors
    assert form.save().baseline_value == 40


def test_the_admin_cannot_change_or_delete_an_approved_figure(admin_client, world):
    from tests import factories

    approved = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved"
    )
    measurement = factories.MeasurementFactory(update=approved, indicator=world.indicator, value=7)
    change = reverse("admin:actionplan_measurement_change", args=[measurement.pk])

    assert (
        admin_client.post(change, {"update": approved.pk, "indicator": world.indicator.pk, "value": "9"}).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:actionplan_measurement_delete", args=[measurement.pk])).status_code == 403
    update_page = admin_client.get(
        reverse("admin:actionplan_progressupdate_change", args=[approved.pk])
    ).content.decode()
    assert 'name="measurements-0-value"' not in update_page
    measurement.refresh_from_db()
    assert measurement.value == 7


def test_the_admin_still_corrects_a_figure_of_a_draft(admin_client, world):
    from tests import factories

    draft = factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    measurement = factories.MeasurementFactory(update=draft, indicator=world.indicator, value=7)
    assert admin_client.get(reverse("admin:actionplan_measurement_change", args=[measurement.pk])).status_code == 200
    page = admin_client.get(reverse("admin:actionplan_progressupdate_change", args=[draft.pk])).content.decode()
    assert 'name="measurements-0-value"' in page


@pytest.fixture
def approved(world):
    from tests import factories

    update = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved", rag="on_track"
    )
    factories.MeasurementFactory(update=update, indicator=world.indicator, value=7)
    return update


def test_the_admin_refuses_to_add_a_measurement_to_an_approved_update_saying_why(admin_client, world, approved):
    from actionplan.models import Measurement

    add = reverse("admin:actionplan_measurement_add")
    response = admin_client.post(add, {"update": approved.pk, "indicator": world.indicator.pk, "value": "9"})

    assert response.status_code == 200
    assert "is approved: its figures count in the dashboard and the reports, and never change" in (
        response.content.decode()
    )
    assert list(approved.measurements.values_list("value", flat=True)) == [7]
    assert Measurement.objects.filter(value=9).count() == 0


def test_the_admin_refuses_to_move_a_drafts_measurement_to_an_approved_update(admin_client, world, approved):
    from tests import factories

    draft = factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    measurement = factories.MeasurementFactory(update=draft, indicator=world.indicator, value=3)
    change = reverse("admin:actionplan_measurement_change", args=[measurement.pk])

    response = admin_client.post(change, {"update": approved.pk, "indicator": world.indicator.pk, "value": "3"})

    assert response.status_code == 200 and "is approved" in response.content.decode()
    measurement.refresh_from_db()
    assert measurement.update_id == draft.pk
    assert approved.measurements.count() == 1


def test_the_admin_shows_an_approved_update_read_only_and_cannot_flip_it_back_to_draft(admin_client, approved):
    change = reverse("admin:actionplan_progressupdate_change", args=[approved.pk])

    page = admin_client.get(change)
    assert page.status_code == 200
    content = page.content.decode()
    for field in ("state", "rag", "percent_complete", "narrative"):
        assert f'name="{field}"' not in content
    assert 'name="_save"' not in content

    data = {
        "activity": approved.activity_id, "period": approved.period_id, "office": approved.office_id,
        "author": approved.author_id, "state": "draft", "rag": "off_track", "percent_complete": "5", "source": "web",
        "measurements-TOTAL_FORMS": "0", "measurements-INITIAL_FORMS": "0",
        "evidence-TOTAL_FORMS": "0", "evidence-INITIAL_FORMS": "0",
        "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0",
    }  # fmt: skip
    assert admin_client.post(change, data).status_code == 403
    assert admin_client.get(reverse("admin:actionplan_progressupdate_delete", args=[approved.pk])).status_code == 403
    approved.refresh_from_db()
    assert (approved.state, approved.rag, approved.percent_complete) == ("approved", "on_track", 50)


def test_the_admin_still_changes_a_draft_update(admin_client, world):
    from tests import factories

    draft = factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    page = admin_client.get(reverse("admin:actionplan_progressupdate_change", args=[draft.pk])).content.decode()
    assert 'name="state"' in page and 'name="rag"' in page and 'name="_save"' in page


def test_no_code_changes_or_deletes_a_saved_figure_of_an_approved_update(approved, world):
    from actionplan.models import Measurement
    from portal.errors import WrongState
    from tests import factories

    measurement = approved.measurements.get()
    measurement.value = 9
    with pytest.raises(WrongState):
        measurement.save()
    with pytest.raises(WrongState):
        Measurement.objects.get(pk=measurement.pk).delete()

    # Nor is a draft's figure moved into it.
    draft = factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    moved = factories.MeasurementFactory(update=draft, indicator=world.indicator, value=3)
    moved.update = approved
    with pytest.raises(WrongState):
        moved.save()
    assert list(approved.measurements.values_list("value", flat=True)) == [7]


def test_the_admin_cannot_revert_an_approved_update_to_an_earlier_version(admin_client, world):
    from tests import factories

    update = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, rag="on_track"
    )
    draft_version = update.history.get()
    update.state = "approved"
    update.save()
    revert = reverse("admin:actionplan_progressupdate_simple_history", args=[update.pk, draft_version.history_id])

    page = admin_client.get(revert)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    data = {
        "activity": update.activity_id, "period": update.period_id, "office": update.office_id,
        "author": update.author_id, "state": "draft", "rag": "off_track", "percent_complete": "5", "source": "web",
    }  # fmt: skip
    assert admin_client.post(revert, data).status_code == 403
    update.refresh_from_db()
    assert (update.state, update.rag, update.percent_complete) == ("approved", "on_track", 50)


def test_the_measurements_of_an_approved_update_are_never_replaced(approved, world):
    from actionplan import measurements
    from actionplan.measurements import MeasurementInput
    from portal.errors import WrongState

    with pytest.raises(WrongState):
        measurements.replace(approved, [MeasurementInput(indicator=world.indicator, value=9)], {})
    assert list(approved.measurements.values_list("value", flat=True)) == [7]


def test_the_admin_does_not_approve_an_update_past_the_review(admin_client, world):
    from tests import factories

    draft = factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    measurement = factories.MeasurementFactory(update=draft, indicator=world.indicator, value=7)
    change = reverse("admin:actionplan_progressupdate_change", args=[draft.pk])
    data = {
        "activity": draft.activity_id, "period": draft.period_id, "office": draft.office_id,
        "author": draft.author_id, "state": "approved", "rag": "on_track", "percent_complete": "50", "source": "web",
        "measurements-TOTAL_FORMS": "1", "measurements-INITIAL_FORMS": "1",
        "measurements-0-id": measurement.pk, "measurements-0-update": draft.pk,
        "measurements-0-indicator": world.indicator.pk, "measurements-0-value": "9",
        "measurements-0-sex": "", "measurements-0-age_band": "",
        "evidence-TOTAL_FORMS": "0", "evidence-INITIAL_FORMS": "0",
        "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0",
    }  # fmt: skip

    response = admin_client.post(change, data)

    assert response.status_code == 200
    assert "Approve an update on its page in the portal" in response.content.decode()
    draft.refresh_from_db()
    measurement.refresh_from_db()
    assert (draft.state, measurement.value) == ("draft", 7)
    # A draft is still corrected there.
    corrected = admin_client.post(change, {**data, "state": "draft"})
    assert corrected.status_code == 302, (
        corrected.context["adminform"].form.errors,
        [f.formset.errors for f in corrected.context["inline_admin_formsets"]],
    )
    measurement.refresh_from_db()
    assert measurement.value == 9


def test_the_admin_cannot_revert_an_indicator_to_its_baseline_before_a_reasoned_change(
    officer, admin_client, world, defined
):
    from django.forms.models import model_to_dict

    first = defined.history.earliest()
    officer.post(EDIT, indicator_data(world, expected_version=1, baseline_value="45", change_reason="Recount"))
    revert = reverse("admin:actionplan_indicator_simple_history", args=[defined.pk, first.history_id])

    page = admin_client.get(revert)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    data = {name: value for name, value in model_to_dict(first.instance).items() if value is not None}
    assert admin_client.post(revert, {**data, "dimensions": "[]"}).status_code == 403
    assert Indicator.objects.get(pk=defined.pk).baseline_value == 45
