"""Browser pages: the plan, the activity register and its exports, the activity page."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from actionplan.models import Activity
from tests.factories import (
    ActivityFactory,
    CountryFactory,
    EvidenceFactory,
    IndicatorFactory,
    MeasurementFactory,
    ProgressUpdateFactory,
    grow_plan,
)


def test_every_page_needs_a_login(client, world):
    for url in [reverse("plan"), reverse("activity-list"), reverse("activity-detail", args=["CYB-1.1"])]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_plan_page_leads_to_focus_area_and_objective(as_user, world):
    client = as_user(world.officer)
    assert "Cybercrime" in client.get(reverse("plan")).content.decode()
    assert "CYB-1" in client.get(reverse("focus-area", args=["CYB"])).content.decode()
    page = client.get(reverse("objective", args=["CYB-1"])).content.decode()
    assert "CYB-1.1" in page and "CYB-1.4" in page


def test_objective_page_lists_only_visible_activities(as_user, world):
    page = as_user(world.reporter).get(reverse("objective", args=["CYB-1"])).content.decode()
    assert "CYB-1.1" in page and "CYB-1.2" in page
    assert "CYB-1.3" not in page and "CYB-1.4" not in page


def register(client, **query):
    response = client.get(reverse("activity-list"), query)
    assert response.status_code == 200
    return [activity.code for activity in response.context["page"].object_list]


def test_register_lists_what_the_reporter_may_see(as_user, world):
    assert register(as_user(world.reporter)) == ["CYB-1.1", "CYB-1.2"]


def test_register_searches_titles(as_user, world):
    Activity.objects.filter(code="CYB-1.3").update(title="Darknet investigations workshop")
    assert register(as_user(world.officer), q="darknet") == ["CYB-1.3"]


@pytest.mark.parametrize(
    "sort, ordering",
    [("title", ("title", "code")), ("-title", ("-title", "-code")), ("-start", ("-planned_start", "-code")),
     ("rag", ("latest_rag", "code")), ("-code", ("-code",))],
)  # fmt: skip
def test_a_sort_by_a_column_then_orders_equal_rows_by_code_in_the_same_direction(world, sort, ordering):
    # Rows of equal titles (starts, statuses) keep one order from page to page: none shown twice, none skipped.
    from actionplan.filters import ActivityRegisterFilter

    register_filter = ActivityRegisterFilter({"sort": sort}, queryset=Activity.objects.for_register())

    assert register_filter.qs.query.order_by == ordering


def test_search_understands_web_search_syntax_and_keeps_the_visible_rows_only(world, postgres):
    Activity.objects.filter(code="CYB-1.1").update(title="Border control training")
    Activity.objects.filter(code="CYB-1.2").update(title="Maritime border patrols")
    Activity.objects.filter(code="CYB-1.3").update(title="Border management and maritime law")

    def found(text, rows=Activity.objects):
        return list(rows.search(text).order_by("code").values_list("code", flat=True))

    assert found("border") == ["CYB-1.1", "CYB-1.2", "CYB-1.3"]
    assert found("border -maritime") == ["CYB-1.1"]
    assert found('"maritime border"') == ["CYB-1.2"]
    assert found("border", Activity.objects.visible_to(world.other_reporter)) == ["CYB-1.3"]


def test_search_finds_stemmed_words_of_the_description(world):
    Activity.objects.filter(code="CYB-1.3").update(description="Investigators trained in darknet markets.")
    assert list(Activity.objects.search("darknet market").values_list("code", flat=True)) == ["CYB-1.3"]


def test_search_is_answered_from_its_index_on_postgresql(postgres, world):
    from django.db import connection

    sql, params = Activity.objects.search("border").values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "activity_search_idx" in plan


def test_register_filters_by_latest_approved_rag(as_user, world):
    ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, rag="off_track", state="approved"
    )
    assert register(as_user(world.officer), rag="off_track") == ["CYB-1.1"]


def test_register_filters_by_tag_and_office(as_user, world):
    from actionplan.models import Tag

    world.other_activity.tags.add(Tag.objects.create(name="SARTO"))
    assert register(as_user(world.officer), tag="SARTO") == ["CYB-1.3"]
    assert register(as_user(world.officer), office="UNODC-ROSEAP") == ["CYB-1.1", "CYB-1.2"]


def test_register_sorts_by_title_descending(as_user, world):
    for code, title in [("CYB-1.1", "Alpha"), ("CYB-1.2", "Charlie"), ("CYB-1.3", "Bravo"), ("CYB-1.4", "Delta")]:
        Activity.objects.filter(code=code).update(title=title)
    assert register(as_user(world.officer), sort="-title") == ["CYB-1.4", "CYB-1.2", "CYB-1.3", "CYB-1.1"]


def test_register_keeps_the_filter_in_page_links(as_user, world):
    ActivityFactory.create_batch(30, objective=world.objective)
    response = as_user(world.officer).get(reverse("activity-list"), {"focus_area": "CYB", "page": 1})
    assert "focus_area=CYB&amp;page=2" in response.content.decode()


@pytest.mark.parametrize("sort", ["code", "-rag"])
@pytest.mark.parametrize("page", ["3", "99999999999999999999"])
def test_a_register_page_past_the_last_shows_the_last(as_user, world, sort, page):
    # Sorted by a field or by how the activities stand: read in two steps, counted and cut apart or together.
    ActivityFactory.create_batch(30, objective=world.objective)
    response = as_user(world.officer).get(reverse("activity-list"), {"sort": sort, "page": page})
    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert len(response.context["page"]) == 34 - 25


def test_a_review_queue_page_past_the_last_shows_the_last(as_user, world):
    response = as_user(world.officer).get(reverse("review-queue"), {"page": "99999999999999999999"})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_register_with_an_unknown_status_says_so(as_user, world):
    response = as_user(world.officer).get(reverse("activity-list"), {"status": "sleeping"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_csv_export_has_the_filtered_rows_and_neutralises_formulas(as_user, world):
    Activity.objects.filter(code="CYB-1.1").update(title='=HYPERLINK("http://evil")')
    response = as_user(world.reporter).get(reverse("activity-list"), {"export": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == ["CYB-1.1", "CYB-1.2"]
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'


def test_xlsx_export_opens_with_typed_cells_and_neutralised_formulas(as_user, world):
    import datetime

    Activity.objects.filter(code="CYB-1.2").update(title="+cmd|' /C calc'!A0", planned_start=datetime.date(2020, 1, 2))
    response = as_user(world.reporter).get(reverse("activity-list"), {"export": "xlsx", "q": "CYB"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Code"
    assert [row[0] for row in rows[1:]] == ["CYB-1.1", "CYB-1.2"]
    assert rows[2][1] == "'+cmd|' /C calc'!A0"
    assert rows[2][11].date() == datetime.date(2020, 1, 2)  # a real date cell, not text
    assert sheet.freeze_panes == "A2"


def test_activity_page_shows_indicators_updates_and_history(as_user, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    MeasurementFactory(update=update, indicator=world.indicator, value=42)
    response = as_user(world.reporter).get(reverse("activity-detail", args=["CYB-1.1"]))
    page = response.content.decode()
    assert "CYB-1.1-I1" in page and "2020-Q2" in page
    assert response.context["chart_data"]["CYB-1.1-I1"] == {
        "periods": ["2020-Q2"],
        "actuals": [42.0],
        "carried": [0],
        "targets": [None],
        "baseline": 0.0,
        "target": 100.0,
        "unit": "number",
        "measure": "number",
        "breakdown": {},
    }
    assert 'id="indicator-chart-data"' in page


def test_activity_page_lists_each_update_with_its_period_office_author_and_files(as_user, world):
    # The timeline reads these alone (not the values, which the figures and the update's page show).
    world.reporter.first_name, world.reporter.last_name = "Amina", "Diallo"
    world.reporter.save()
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter, state="approved",
        narrative="Trained 40 investigators.",
    )  # fmt: skip
    MeasurementFactory(update=update, indicator=world.indicator, value=40)
    evidence = EvidenceFactory(update=update, original_name="attendance.pdf")

    page = as_user(world.officer).get(reverse("activity-detail", args=["CYB-1.1"])).content.decode()

    timeline = page[page.index('<ol class="timeline">') :]
    assert f"2020-Q2</bdi> · {world.office.code}" in timeline
    assert "Amina Diallo" in timeline and "Trained 40 investigators." in timeline
    assert reverse("evidence-download", args=[evidence.pk]) in timeline and "attendance.pdf" in timeline


@pytest.mark.parametrize(
    "state, badge",
    [("draft", "text-bg-secondary"), ("submitted", "text-bg-primary"), ("returned", "text-bg-warning"),
     ("approved", "text-bg-success")],
)  # fmt: skip
def test_an_updates_state_shows_as_its_coloured_badge_on_each_row(as_user, world, state, badge):
    # A template tag, not an included template per row.
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state=state)

    response = as_user(world.officer).get(reverse("activity-detail", args=["CYB-1.1"]))

    page = response.content.decode()
    label = {"draft": "Draft", "submitted": "Submitted", "returned": "Returned", "approved": "Approved"}[state]
    assert f'<span class="badge state-badge {badge}">{label}</span>' in page
    assert "actionplan/includes/state.html" not in {template.name for template in response.templates}


def test_activity_of_another_office_answers_404(as_user, world):
    assert as_user(world.reporter).get(reverse("activity-detail", args=["CYB-1.3"])).status_code == 404


def test_hostile_titles_are_escaped(as_user, world):
    Activity.objects.filter(code="CYB-1.1").update(title="<script>alert(1)</script>")
    page = as_user(world.reporter).get(reverse("activity-list")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "url, budget",
    [
        # session, user, the user's groups, the user's unread notifications (the navigation's badge), then
        # the page's own reads (measured, equal at both sizes).
        # Indicator figures add six: the plan's periods, the figures, the period targets, the values
        # behind them and their updates, and the breakdowns (every dimension at once).
        # Each page listing activities with their latest RAG: + the last period of each plan, where it stands now.
        # the officer's: + whether it has updates of its own waiting, those in locked periods, the period due,
        # and which of the activities needing attention miss its update
        (reverse("home"), 14),
        (reverse("plan"), 10),  # + the plan's current version
        # the plan pages: + the access-log insert of the restricted activities listed (CYB-1.2, CYB-1.4)
        (reverse("focus-area", args=["CYB"]), 21),
        (reverse("objective", args=["CYB-1"]), 18),
        (reverse("activity-list"), 18),  # + the access-log insert of the restricted rows shown (CYB-1.2, CYB-1.4)
        (reverse("activity-detail", args=["CYB-1.1"]), 17),
        (reverse("activity-detail", args=["CYB-1.2"]), 18),  # restricted: + the access-log insert
        (reverse("my-updates"), 5),
        # + whether the officer has its own updates waiting ("mine"), the counts of every filter's choices (one),
        # and the updates waiting in locked periods (their count and the oldest)
        (reverse("review-queue"), 9),
        ("update-detail", 9),  # + the conversation
        # the form's indicators, then the activity's countries for breakdowns
        ("update-edit", 9),
    ],
)
@pytest.mark.parametrize("size", [2, 20])
def test_page_query_count_does_not_grow_with_the_rows(as_user, world, django_assert_max_num_queries, url, budget, size):
    grow_plan(world, size)
    # An objective's indicator too, with an approved value, so that every figure query runs.
    objective_indicator = IndicatorFactory(activity=None, objective=world.objective, dimensions=["sex"])
    approved = ProgressUpdateFactory(activity=world.activity, period=world.locked_period, office=world.other_office,
                                     state="approved")  # fmt: skip
    MeasurementFactory(update=approved, indicator=objective_indicator, value=4)
    MeasurementFactory(update=approved, indicator=objective_indicator, value=4, sex="female")
    for period in (world.period, world.locked_period):
        update = ProgressUpdateFactory(activity=world.activity, period=period, office=world.office, state="draft")
    for indicator in (world.indicator, world.second_indicator):
        MeasurementFactory(update=update, indicator=indicator)
    if not url.startswith("/"):
        url = reverse(url, args=[update.pk])
    client = as_user(world.officer)
    with django_assert_max_num_queries(budget):
        assert client.get(url).status_code == 200


def test_focus_area_page_shows_its_activities_and_the_committees_reviews(as_user, world):
    from tests.factories import CommitteeFactory, MeetingFactory, ReviewFactory

    meeting = MeetingFactory(committee=CommitteeFactory(plan=world.plan), place="Lyon")
    ReviewFactory(meeting=meeting, focus_area=world.area, assessment="Good progress on electronic evidence.")
    page = as_user(world.reporter).get(reverse("focus-area", args=["CYB"])).content.decode()
    assert "CYB-1.1" in page and "CYB-1.3" not in page
    assert "Good progress on electronic evidence." in page


def test_focus_area_charts_its_objective_indicators_over_periods(as_user, world):
    objective_indicator = IndicatorFactory(activity=None, objective=world.objective, code="CYB-1-I1", target_value=50)
    for period, value in ((world.locked_period, 10), (world.period, 20)):
        update = ProgressUpdateFactory(activity=world.activity, period=period, office=world.office, state="approved")
        MeasurementFactory(update=update, indicator=objective_indicator, value=value)
    response = as_user(world.officer).get(reverse("focus-area", args=["CYB"]))
    assert response.context["chart_data"]["CYB-1-I1"]["periods"] == ["2020-Q1", "2020-Q2"]
    assert response.context["chart_data"]["CYB-1-I1"]["actuals"] == [10.0, 20.0]
    assert 'data-indicator-chart="CYB-1-I1"' in response.content.decode()


def test_agreement_page_shows_the_parties_and_plans(as_user, world):
    world.plan.agreement.parties.add(world.office.organization)
    page = as_user(world.reporter).get(reverse("agreement")).content.decode()
    assert world.office.organization.name in page and world.plan.title in page


def test_indicator_page_shows_its_actuals(as_user, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    MeasurementFactory(update=update, indicator=world.indicator, value=33)
    response = as_user(world.reporter).get(reverse("indicator", args=["CYB-1.1-I1"]))
    assert response.context["indicator"].figure.value == 33
    assert 'data-value="33.00"' in response.content.decode()


def test_indicator_of_an_invisible_activity_answers_404(as_user, world):
    assert as_user(world.reporter).get(reverse("indicator", args=["CYB-1.3-I1"])).status_code == 404


def test_register_shows_rag_as_it_stood_at_a_period(as_user, world):
    for period, rag in ((world.locked_period, "on_track"), (world.period, "off_track")):
        ProgressUpdateFactory(activity=world.activity, period=period, office=world.office, state="approved", rag=rag)
    client = as_user(world.officer)

    assert register(client, rag="on_track", as_of=world.locked_period.code) == ["CYB-1.1"]
    assert register(client, rag="on_track") == []
    assert register(client, rag="none", as_of=world.locked_period.code) == ["CYB-1.2", "CYB-1.3", "CYB-1.4"]


def test_register_with_an_unknown_as_of_period_says_so(as_user, world):
    page = as_user(world.officer).get(reverse("activity-list"), {"as_of": "1999-Q9"}).content.decode()
    assert "Unknown period 1999-Q9" in page


def test_register_filters_by_lead_organisation(as_user, world):
    Activity.objects.filter(code="CYB-1.3").update(lead_organization=world.activity.lead_organization)
    Activity.objects.exclude(code__in=["CYB-1.1", "CYB-1.3"]).update(lead_organization=world.other_office.organization)

    assert register(as_user(world.officer), organization=world.activity.lead_organization.code) == [
        "CYB-1.1",
        "CYB-1.3",
    ]


def test_register_filters_by_the_region_of_an_implementing_office(as_user, world):
    for office, region in ((world.office, "Asia"), (world.other_office, "Africa")):
        office.country.region = region
        office.country.save()

    assert register(as_user(world.officer), region="Africa") == ["CYB-1.3", "CYB-1.4"]


def test_register_names_regions_and_countries_in_the_language_and_filters_by_the_stored_region(as_user, world):
    world.office.country.region, world.office.country.region_code = "Eastern Africa", "014"
    world.office.country.save()
    world.activity.beneficiary_countries.add(
        CountryFactory(iso3="ETH", iso2="ET", name="Ethiopia", region="Eastern Africa", region_code="014")
    )

    page = as_user(world.officer).get(reverse("activity-list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<option value="Eastern Africa">Afrique orientale</option>' in page
    assert '<option value="ETH">Éthiopie</option>' in page
    assert register(as_user(world.officer), region="Eastern Africa") == ["CYB-1.1", "CYB-1.2"]


def test_activity_page_names_its_beneficiary_countries_in_the_language(as_user, world):
    world.activity.beneficiary_countries.add(CountryFactory(iso3="ETH", iso2="ET", name="Ethiopia"))

    page = (
        as_user(world.officer)
        .get(reverse("activity-detail", args=[world.activity.code]), HTTP_ACCEPT_LANGUAGE="ar")
        .content.decode()
    )

    assert "إثيوبيا" in page


def test_register_and_dashboard_name_the_same_latest_update_when_two_offices_tie(world):
    import datetime

    reviewed = datetime.datetime(2020, 7, 20, 10, tzinfo=datetime.UTC)
    world.activity.implementing_offices.add(world.other_office)
    for office, rag in ((world.other_office, "off_track"), (world.office, "on_track")):
        ProgressUpdateFactory(
            activity=world.activity, period=world.period, office=office, state="approved", rag=rag,
            reviewed_at=reviewed,
        )  # fmt: skip
    from actionplan.models import ProgressUpdate

    in_register = Activity.objects.with_latest_update().get(pk=world.activity.pk).latest_rag
    on_dashboard = ProgressUpdate.objects.filter(activity=world.activity).latest_approved_per_activity().get().rag

    first_office = "on_track"  # UNODC-ROSEAP, the world's first office
    assert in_register == on_dashboard == first_office


def test_a_reporter_sees_the_combined_figure_with_only_its_own_offices_values(as_user, world):
    world.activity.implementing_offices.add(world.other_office)
    for office, value in ((world.office, 30), (world.other_office, 20)):
        update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=office, state="approved")
        MeasurementFactory(update=update, indicator=world.indicator, value=value)
    response = as_user(world.reporter).get(reverse("activity-detail", args=["CYB-1.1"]))
    [indicator] = [i for i in response.context["indicators"] if i.code == "CYB-1.1-I1"]
    assert indicator.figure.value == 50
    assert [row["office_code"] for row in indicator.behind] == ["UNODC-ROSEAP"]
    page = response.content.decode()
    assert "and 1 value of other offices" in page
    assert (
        world.other_office.name not in page.split('class="table table-sm mb-0 figure-behind"')[1].split("</table>")[0]
    )


def test_the_page_says_how_the_figure_is_combined(as_user, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    MeasurementFactory(update=update, indicator=world.indicator, value=30)
    page = as_user(world.officer).get(reverse("indicator", args=["CYB-1.1-I1"])).content.decode()
    assert "sum of 1 approved value from 1 office; cumulative" in page


def test_the_page_says_which_offices_reported_and_whose_values_were_carried(as_user, world):
    world.activity.implementing_offices.add(world.other_office)
    for office, period in ((world.office, world.period), (world.other_office, world.locked_period)):
        update = ProgressUpdateFactory(activity=world.activity, period=period, office=office, state="approved")
        MeasurementFactory(update=update, indicator=world.indicator, value=10)
    page = as_user(world.officer).get(reverse("indicator", args=["CYB-1.1-I1"])).content.decode()
    assert "Reported for this period by: UNODC-ROSEAP · carried forward: INTERPOL-RB-NBO (2020-Q1)" in page


@pytest.fixture
def thirty_standing(world):
    """Thirty more activities, each with an approved update of its own progress (some equal: ties by code)."""
    ratings = ("on_track", "at_risk", "off_track")
    for number, activity in enumerate(ActivityFactory.create_batch(30, objective=world.objective)):
        ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state="approved",
                              percent_complete=number % 7 * 10, rag=ratings[number % 3])  # fmt: skip
    return world


def wide_reads(client, **query) -> list[str]:
    """The statements of one register view that read the activities' descriptions (their whole rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        register(client, **query)
    return [query["sql"] for query in queries if '"actionplan_activity"."description"' in query["sql"]]


def test_the_register_sorted_by_rag_sorts_the_ids_and_reads_the_pages_rows_alone_whole(as_user, thirty_standing):
    (wide,) = wide_reads(as_user(thirty_standing.officer), sort="-rag")

    assert "LIMIT" not in wide and " IN (" in wide


def test_the_registers_first_page_in_code_order_is_read_in_one_query(as_user, thirty_standing):
    (wide,) = wide_reads(as_user(thirty_standing.officer))

    assert "LIMIT" in wide


@pytest.mark.parametrize("query", [{"sort": "-progress", "page": 2}, {"sort": "rag"}, {"page": 2}])
def test_a_register_page_read_in_two_steps_lists_what_one_query_would(as_user, thirty_standing, query):
    from django.http import QueryDict

    from actionplan.filters import ActivityRegisterFilter

    officer = thirty_standing.officer
    listed = ActivityRegisterFilter(
        QueryDict(f"sort={query.get('sort', 'code')}"),
        queryset=Activity.objects.visible_to(officer).for_register().order_by("code"),
    ).qs
    page = query.get("page", 1)

    assert register(as_user(officer), **query) == [activity.code for activity in listed[(page - 1) * 25 : page * 25]]
