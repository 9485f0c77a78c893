import contextlib
import gc
import os
import signal
import socket
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

# The garbage collector's young generation collected every 10,000 allocations, not every 700: a test process
# holds Django, the apps and the shared world (hundreds of thousands of objects), and the full passes the
# frequent young collections lead to walked them all again some 45 times in tests/steering and tests/actionplan
# run alone (19 s of the two workers' 190): those run in 79 s instead of 94, 390 MB a worker. The whole suite
# gained nothing measurable (291 s before, 291 and 296 after): its workers' GC was not where its time went.
GC_THRESHOLDS = (10_000, 10, 10)


def pytest_configure(config):
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The production hasher takes half a second per password by design; tests hash many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Each test database copied from one migrated template (tests/template_database.py) on PostgreSQL."""
    from tests.template_database import migrated_template

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql" and (template := migrated_template(database)):
        database.setdefault("TEST", {})["TEMPLATE"] = template


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete():
    """Empty the tables after a transactional test with DELETE, not TRUNCATE.

    TRUNCATE of the project's 73 tables takes PostgreSQL 0.2 s whatever they hold (it makes new
    files for every table and index); a test's few rows go with DELETE in a hundredth of that. The
    flush runs in one transaction and every foreign key is deferred to its commit, so the order of
    the tables does not matter; the access log's append-only trigger lets this one transaction delete,
    as it lets the purge (``audit.services``). Sequences are restarted by TRUNCATE when asked for, as before.
    """
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences:
            return truncate(self, style, tables, reset_sequences=True, allow_cascade=allow_cascade)
        allow_purge = "SELECT set_config('audit.purge', 'on', true);"
        # Table names quoted by the backend, as its TRUNCATE quotes them.
        return [allow_purge, *(f"DELETE FROM {self.quote_name(table)};" for table in tables)]  # noqa: S608

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def rate_windows_held_still(monkeypatch):
    """Count each test's rate-limited requests in the windows of the moment it starts.

    The limits count in fixed windows of the clock (``portal.ratelimit``): a test whose requests straddled the
    turn of a minute saw the count start again, and a third export allowed where the limit was two (seen in a
    run of the whole suite). Between tests the clock runs on as before.
    """
    from portal import ratelimit

    held = time.time()
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: held))


@pytest.fixture(autouse=True)
def fresh_country_codes():
    # Made-up countries take two-letter codes counting down from ZZ: each test counts from ZZ again, so
    # that a whole run in one process does not use them up.
    from tests.factories import CountryFactory

    CountryFactory.reset_sequence()


def require_service(reason: str):
    """Skip a test whose service is missing, or fail it where CI promised every service."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def read_yaml(content: bytes):
    """Parse YAML (the API's schema) with libyaml's parser: PyYAML's own, in Python, takes a third of a
    second for the schema, which a dozen tests read."""
    import yaml

    return yaml.load(content, Loader=yaml.CSafeLoader)  # noqa: S506  # nosec B506  # the safe loader, in C


def sign_in(client, username: str, password: str) -> bool:
    """Sign in through the login form, as a person does (django-axes needs the request); tell whether it worked."""
    from django.contrib.auth import SESSION_KEY
    from django.urls import reverse

    client.post(reverse("login"), {"username": username, "password": password})
    return SESSION_KEY in client.session


# The password of `amina`, a person who signs in through the forms.
AMINA_PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def amina(db):
    from tests import factories

    user = factories.UserFactory(username="amina", email="amina@example.org")
    user.set_password(AMINA_PASSWORD)
    user.save()
    return user


@pytest.fixture
def fresh_counters():
    """Start and end with no rate-limit or lockout counts in the cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def assert_refused(build):
    """Assert that the database refuses the row ``build`` writes, leaving the transaction usable."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        build()


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        require_service("REDIS_URL is not set: this test needs Redis")
    if not _redis_answers(settings.REDIS_URL):
        require_service(f"Redis does not answer at {settings.REDIS_URL}")
    return settings.REDIS_URL


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: this test needs PostgreSQL")


@pytest.fixture
def groups_read_apart() -> int:
    """The statements an API call spends on its user's groups: none on PostgreSQL, which reads them with the
    token (``roles.with_group_names``); one on SQLite, which has no arrays."""
    return 0 if connection.vendor == "postgresql" else 1


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def queue(redis_url, postgres, transactional_db):
    """A Celery queue of this test's own, so that no other worker takes its tasks."""
    return f"test-{uuid.uuid4().hex[:12]}"


def database_url_of_tests() -> str:
    """The address of the test database, for a process this test starts (a worker, a web node)."""
    settings_dict = connection.settings_dict
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


@pytest.fixture
def start_worker(queue, tmp_path):
    """Start a worker on the test database; stop it, and every other one started, at the end."""
    database_url = database_url_of_tests()
    workers = []

    def start(queues=(queue,), **extra_env):
        log = tmp_path / f"worker-{len(workers)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", ",".join(queues), "--pool", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
             "--hostname", f"{queue}-{len(workers)}@%h", "--logfile", str(log)],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url, **extra_env},
            start_new_session=True,
        )  # fmt: skip
        workers.append(process)
        return process, log

    yield start
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_line(log: Path, text: str, timeout: float = 60):
    """Wait until a worker's log holds the text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the worker log:\n{log.read_text() if log.exists() else ''}")


# The shared world ------------------------------------------------------------------------------
# Building the world takes some 120 ms (40 rows, each with its history row and its signals), and
# some 900 tests ask for it. Each test process builds it once, in a transaction it leaves open;
# a test that asks for it runs in a savepoint of that transaction, rolled back after the test, as
# Django's TestCase runs its tests over ``setUpTestData``. Each test gets fresh instances of the
# world's rows, and the cache as a new world would find it (empty: its keys hold row ids).
# A test that uses the database but not the world first rolls the world back (the next one that
# asks for it builds it again); a transactional test (transactional_db, live_server) builds a world
# of its own and commits it, as every test did before.


class _SharedWorld:
    atomic = None  # the open transaction that holds the world
    rows = None  # the world's rows as read back from the database once built, each test given a copy
    countries = 0  # countries the world's offices made: CountryFactory counts on from there


_shared = _SharedWorld()
_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences") or marker.args[:1] == (True,)
    ):
        return True
    return not {"transactional_db", "live_server", "django_db_reset_sequences"}.isdisjoint(item.fixturenames)


def _shares_world(item) -> bool:
    return "world" in item.fixturenames and not _transactional(item)


def _uses_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or not _DATABASE_FIXTURES.isdisjoint(item.fixturenames)


def _world_held() -> bool:
    return _shared.atomic is not None and connection.atomic_blocks[:1] == [_shared.atomic]


def _release_world(config):
    """Roll the shared world back, as Django's TestCase rolls back its class's data."""
    from django.db import transaction
    from pytest_django.plugin import blocking_manager_key

    atomic, _shared.atomic, _shared.rows = _shared.atomic, None, None
    if atomic is None or connection.atomic_blocks[:1] != [atomic]:
        return  # the connection was closed or reset meanwhile: nothing of the world is left
    with config.stash[blocking_manager_key].unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any fixture: a test that uses the database without the world must not see it.
    if _shared.atomic is not None and _uses_database(item) and not _shares_world(item):
        _release_world(item.config)


@pytest.fixture(scope="session")
def _shared_world_session(request, django_db_setup):
    yield
    _release_world(request.config)


@pytest.fixture(autouse=True)
def _shared_world(request, fast_password_hashing, fresh_country_codes):
    """Hold the world in its open transaction before the test's own transaction begins, for a test that asks for it.

    After the password hasher of the tests is set and the country codes count from the start, as
    for a world built in the test.
    """
    from django.core.cache import cache
    from django.db import transaction
    from redis.exceptions import RedisError

    if not _shares_world(request.node):
        return
    # Nothing in the cache under the world's ids (rate-limit counts, dashboards of an earlier test's
    # data), as for a world of new rows; cleared before the test's own fixtures change the cache.
    with contextlib.suppress(RedisError):  # an unreachable Redis holds nothing to read
        cache.clear()
    if _world_held():
        return
    _shared.atomic = _shared.rows = None
    if connection.in_atomic_block:
        return  # the test's transaction began first (a django_db mark): its world is built in it
    request.getfixturevalue("_shared_world_session")
    with request.getfixturevalue("django_db_blocker").unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True  # as TestCase marks its own: a durable atomic block may follow
        atomic.__enter__()
        _shared.atomic = atomic
        try:
            _shared.rows, _shared.countries = _build_world_rows()
        except BaseException:
            _release_world(request.config)
            raise


def _build_world_rows():
    """Build the world and read its rows back, as a test reading them afresh would find them."""
    from types import SimpleNamespace

    from tests.factories import CountryFactory

    countries_before = CountryFactory._meta.model.objects.count()
    built = vars(_build_world())
    by_model = {}
    for row in built.values():
        by_model.setdefault(type(row), []).append(row.pk)
    loaded = {model: model._default_manager.in_bulk(pks) for model, pks in by_model.items()}
    rows = SimpleNamespace(**{name: loaded[type(row)][row.pk] for name, row in built.items()})
    return rows, CountryFactory._meta.model.objects.count() - countries_before


def _fresh_world():
    """A copy of the shared world's rows as read back once built: a test changes its instances, and Django
    caches on them; the rows themselves are as built again, each test's changes rolled back."""
    import copy

    from tests.factories import CountryFactory

    # As after building the world in the test: the countries of its offices counted.
    CountryFactory.reset_sequence(_shared.countries)
    return copy.deepcopy(_shared.rows)


@pytest.fixture
def world(db):
    """A small plan: two offices, each with an activity and a restricted one, an open and a locked period.

    Personas: a reporter of each office, a programme officer, a committee member, and an
    outsider with no role.
    """
    if _world_held():
        return _fresh_world()
    return _build_world()


def _build_world():
    import datetime
    from types import SimpleNamespace

    from django.contrib.auth.models import Group

    from actionplan.models import Activity, ReportingPeriod
    from portal.models import Role
    from tests import factories

    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    plan = factories.ActionPlanFactory(code="JAP-TEST")
    area = factories.FocusAreaFactory(plan=plan, code="CYB", name="Cybercrime")
    objective = factories.ObjectiveFactory(focus_area=area, code="CYB-1")
    office = factories.OfficeFactory(code="UNODC-ROSEAP")
    other_office = factories.OfficeFactory(code="INTERPOL-RB-NBO")

    def activity(code, office, **extra):
        made = factories.ActivityFactory(objective=objective, code=code, **extra)
        made.implementing_offices.add(office)
        return made

    world = SimpleNamespace(plan=plan, area=area, objective=objective, office=office, other_office=other_office)
    world.activity = activity("CYB-1.1", office)
    world.restricted = activity("CYB-1.2", office, sensitivity=Activity.Sensitivity.RESTRICTED)
    world.other_activity = activity("CYB-1.3", other_office)
    world.other_restricted = activity("CYB-1.4", other_office, sensitivity=Activity.Sensitivity.RESTRICTED)
    world.indicator = factories.IndicatorFactory(activity=world.activity, code="CYB-1.1-I1")
    world.second_indicator = factories.IndicatorFactory(activity=world.activity, code="CYB-1.1-I2")
    world.other_indicator = factories.IndicatorFactory(activity=world.other_activity, code="CYB-1.3-I1")
    world.locked_period = factories.ReportingPeriodFactory(
        plan=plan,
        code="2020-Q1",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2020, 3, 31),
        due_on=datetime.date(2020, 4, 15),
        state=ReportingPeriod.State.LOCKED,
    )
    world.period = factories.ReportingPeriodFactory(
        plan=plan,
        code="2020-Q2",
        starts_on=datetime.date(2020, 4, 1),
        ends_on=datetime.date(2020, 6, 30),
        due_on=datetime.date(2020, 7, 15),
    )

    def person(username, role=None, office=None):
        user = factories.UserFactory(username=username)
        if role:
            user.groups.add(groups[role])
        if office:
            factories.MembershipFactory(user=user, office=office)
        return user

    world.reporter = person("reporter.roseap", Role.FIELD_REPORTER, office)
    world.other_reporter = person("reporter.nbo", Role.FIELD_REPORTER, other_office)
    world.officer = person("officer", Role.PROGRAMME_OFFICER)
    world.committee = person("committee", Role.COMMITTEE_MEMBER)
    world.outsider = person("outsider")
    return world


@pytest.fixture
def as_user(client):
    """Return the test client logged in as the given user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api():
    """Return an API client authenticated with a real token of the given user (or anonymous)."""
    from rest_framework.test import APIClient

    from portal.tokens import issue_token

    def client_for(user=None):
        client = APIClient()
        if user is not None:
            _token, key = issue_token(user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return client_for


@pytest.fixture
def committee_world(world):
    """The world's plan with its committee: co-chairs, a member, a secretary, and a meeting."""
    import datetime

    from django.contrib.auth.models import Group

    from portal.models import Role
    from steering.models import CommitteeMember
    from tests import factories

    committee = factories.CommitteeFactory(plan=world.plan)
    world.secretary = factories.UserFactory(username="secretary", email="secretary@example.org")
    world.secretary.groups.add(Group.objects.get_or_create(name=Role.COMMITTEE_SECRETARY.value)[0])
    world.cochair = factories.UserFactory(username="cochair", email="cochair@example.org")
    world.cochair.groups.add(Group.objects.get_or_create(name=Role.COMMITTEE_MEMBER.value)[0])
    for user, role in [
        (world.cochair, CommitteeMember.Role.CO_CHAIR_INTERPOL),
        (world.committee, CommitteeMember.Role.MEMBER),
        (world.secretary, CommitteeMember.Role.SECRETARY),
    ]:
        CommitteeMember.objects.create(committee=committee, user=user, role=role)
    world.committee_body = committee
    world.meeting = factories.MeetingFactory(committee=committee, date=datetime.date(2020, 9, 1), place="Lyon")
    world.next_meeting = factories.MeetingFactory(committee=committee, date=datetime.date(2021, 3, 1), place="Vienna")
    return world
