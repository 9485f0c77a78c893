import pytest
from django.core.management import call_command


@pytest.fixture
def executor(transactional_db):
    """A MigrationExecutor on a database the test may migrate anywhere, left as the next test expects it.

    On PostgreSQL, an empty database of the test's own, dropped after it: migrated forwards to the state
    the test starts from, it spares migrating the test database backwards, then forwards again to the
    latest state (Django renders the models again for each field a migration adds). Elsewhere, the test
    database, migrated to the latest state again after the test.
    """
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if connection.vendor != "postgresql":
        yield MigrationExecutor(connection)
        latest = MigrationExecutor(connection)
        latest.migrate(latest.loader.graph.leaf_nodes())
        return
    from psycopg2 import sql

    from tests.template_database import server_connection

    settings_dict = connection.settings_dict
    test_database, own = settings_dict["NAME"], f"{settings_dict['NAME']}_migrating"
    server = server_connection(settings_dict)
    server.autocommit = True
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(own))
    with server.cursor() as cursor:
        cursor.execute(drop)
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(own)))
    connection.close()
    settings_dict["NAME"] = own
    try:
        yield MigrationExecutor(connection)
    finally:
        connection.close()
        settings_dict["NAME"] = test_database
        with server.cursor() as cursor:
            cursor.execute(drop)
        server.close()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # makemigrations --check exits non-zero when a model changed without a migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_existing_indicators_get_rules_and_breakdowns_without_a_total_get_one(executor):
    import datetime
    from decimal import Decimal

    before, after = [("actionplan", "0004_activity_search_index")], [("actionplan", "0005_indicator_figure_rules")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    get = old.get_model
    org = get("portal", "Organization").objects.create(code="ORG", name="Org")
    country = get("portal", "Country").objects.create(iso3="XKE", iso2="XK", name="K", region="R", continent="C")
    office = get("portal", "Office").objects.create(code="OFF", name="Office", organization=org, country=country)
    user = get("auth", "User").objects.create(username="old")
    agreement = get("actionplan", "Agreement").objects.create(code="A", title="A")
    day = datetime.date(2020, 1, 1)
    plan = get("actionplan", "ActionPlan").objects.create(
        agreement=agreement, code="P", title="P", starts_on=day, ends_on=day
    )
    area = get("actionplan", "FocusArea").objects.create(plan=plan, code="F", name="F")
    objective = get("actionplan", "Objective").objects.create(focus_area=area, code="F-1", statement="S")
    activity = get("actionplan", "Activity").objects.create(
        objective=objective, code="F-1.1", title="T", lead_organization=org
    )
    indicator = lambda code, unit: get("actionplan", "Indicator").objects.create(  # noqa: E731
        activity=activity, code=code, name=code, unit=unit, target_value=100
    )
    trained, share = indicator("F-1.1-I1", "officers"), indicator("F-1.1-I2", "%")
    period = get("actionplan", "ReportingPeriod").objects.create(
        plan=plan, code="Q", starts_on=day, ends_on=day, due_on=day
    )
    update = get("actionplan", "ProgressUpdate").objects.create(
        activity=activity, period=period, office=office, author=user, rag="on_track", state="approved"
    )
    measurement = get("actionplan", "Measurement").objects
    measurement.create(update=update, indicator=trained, value=12, sex="female")
    measurement.create(update=update, indicator=trained, value=18, sex="male")
    measurement.create(update=update, indicator=share, value=80)

    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    indicators = new.get_model("actionplan", "Indicator").objects
    assert indicators.filter(code="F-1.1-I1").values_list(
        "measure", "office_rule", "period_rule", "dimensions"
    ).get() == (
        "number",
        "sum",
        "cumulative",
        ["sex"],
    )
    assert indicators.filter(code="F-1.1-I2").values_list("measure", "office_rule", "period_rule").get() == (
        "percentage",
        "mean",
        "latest",
    )
    total = new.get_model("actionplan", "Measurement").objects.get(indicator__code="F-1.1-I1", sex="")
    assert total.value == Decimal(30)


def test_tokens_issued_to_last_until_revoked_get_an_expiry(executor, settings):
    import datetime

    from django.utils import timezone

    settings.API_TOKEN_DAYS = 90
    before, after = [("portal", "0003_profiles_and_notifications")], [("portal", "0004_tokens_expire")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="old")
    old.get_model("portal", "ApiToken").objects.create(
        user=user, name="forever", digest="a" * 128, token_key="a" * 15, expiry=None
    )
    executor.loader.build_graph()
    executor.migrate(after)
    token = executor.loader.project_state(after).apps.get_model("portal", "ApiToken").objects.get()
    assert token.expiry - timezone.now() > datetime.timedelta(days=89)


def test_countries_loaded_before_get_their_region_codes_without_a_reload(executor):
    before, after = [("portal", "0005_six_languages")], [("portal", "0006_country_region_code")]
    executor.migrate(before)
    country = executor.loader.project_state(before).apps.get_model("portal", "Country").objects
    # As country_converter had them: Nauru in Polynesia, the Americas' continent "America".
    country.create(iso3="NRU", iso2="NR", name="Nauru", region="Polynesia", continent="Oceania")
    country.create(iso3="PER", iso2="PE", name="Peru", region="South America", continent="America")
    country.create(iso3="XAA", iso2="ZY", name="Made up", region="Marker region", continent="Nowhere")
    executor.loader.build_graph()
    executor.migrate(after)
    country = executor.loader.project_state(after).apps.get_model("portal", "Country").objects
    assert list(country.order_by("iso3").values_list("iso3", "region", "region_code", "continent")) == [
        ("NRU", "Micronesia", "057", "Oceania"),
        ("PER", "South America", "005", "Americas"),
        ("XAA", "Marker region", "", "Nowhere"),
    ]


def test_import_runs_made_before_count_their_rows_done(executor):
    import datetime

    before, after = [("actionplan", "0013_import_run")], [("actionplan", "0014_import_run_rows_done")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="old")
    organization = old.get_model("portal", "Organization").objects.create(code="UNODC", name="UNODC")
    country = old.get_model("portal", "Country").objects.create(iso3="THA", iso2="TH", name="Thailand")
    office = old.get_model("portal", "Office").objects.create(
        code="UNODC-ROSEAP", name="ROSEAP", organization=organization, kind="regional_office", country=country
    )
    agreement = old.get_model("actionplan", "Agreement").objects.create(code="A", title="Agreement")
    day = datetime.date(2020, 4, 1)
    plan = old.get_model("actionplan", "ActionPlan").objects.create(
        agreement=agreement, code="JAP", title="Plan", starts_on=day, ends_on=day
    )
    period = old.get_model("actionplan", "ReportingPeriod").objects.create(
        plan=plan, code="2020-Q2", starts_on=day, ends_on=day, due_on=day
    )
    runs = old.get_model("actionplan", "ImportRun").objects
    for state, progress in (("checked", 100), ("importing", 40)):
        runs.create(user=user, office=office, period=period, file="x.xlsx", rows=600, state=state, progress=progress)
    executor.loader.build_graph()
    executor.migrate(after)
    runs = executor.loader.project_state(after).apps.get_model("actionplan", "ImportRun").objects
    assert sorted(runs.values_list("state", "done")) == [("checked", 600), ("importing", 240)]


@pytest.mark.django_db
def test_every_foreign_key_is_checked_at_commit(postgres):
    # The tests empty the tables with one DELETE each, in any order (tests/conftest.py:flush_by_delete).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype = 'f' AND NOT (condeferrable AND condeferred)"
        )
        assert cursor.fetchall() == []
