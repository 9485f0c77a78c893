"""Stored files go through the file store: two web nodes and a worker share an S3-compatible bucket (moto's
server on 127.0.0.1), a store that refuses a write leaves no row, and one that is down fails only downloads."""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from moto.server import ThreadedMotoServer

from actionplan.models import Evidence, ProgressUpdate
from portal import storage
from portal.tokens import issue_token
from steering.models import ProgressReport
from tests.conftest import database_url_of_tests
from tests.factories import EvidenceFactory, ProgressReportFactory, ProgressUpdateFactory
from tests.portal.test_settings import settings_read_with

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def s3_variables(endpoint: str, bucket: str) -> dict:
    return {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "portal-tests",
        "AWS_SECRET_ACCESS_KEY": "portal-tests-secret",
    }


@pytest.fixture
def s3():
    """A real S3-compatible server on a free port of 127.0.0.1, with an empty bucket of this test's own."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint, bucket = f"http://127.0.0.1:{port}", f"portal-{uuid.uuid4().hex[:12]}"
    variables = s3_variables(endpoint, bucket)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket)
    yield SimpleNamespace(variables=variables, client=client, bucket=bucket, endpoint=endpoint)
    server.stop()


def stored_in(s3, key: str) -> bytes:
    return s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()


def use_store(settings, monkeypatch, **variables):
    """Point this process's file store where the portal's settings would, given the variables."""
    settings.STORAGES = settings_read_with(monkeypatch, **variables)["STORAGES"]


@pytest.fixture
def start_node(tmp_path):
    """Start a web node (gunicorn, as in production) on the test database; stop every one at the end."""
    nodes = []

    def start(**extra_env):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT, env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url_of_tests(), **extra_env},
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"node-{port}.log", "wb"),  # noqa: SIM115
        )  # fmt: skip
        nodes.append(process)
        return SimpleNamespace(process=process, url=f"http://127.0.0.1:{port}")

    yield start
    for process in nodes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_up(node):
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            if requests.get(f"{node.url}/healthz", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still loading Django
            pass
        assert node.process.poll() is None and time.monotonic() < deadline, "the web node did not start"
        time.sleep(0.2)


def test_what_one_web_node_stores_is_read_and_downloaded_through_the_other_and_a_workers_report_through_both(
    world, queue, s3, start_node, start_worker, tmp_path
):
    # Each process has a MEDIA_ROOT of its own that must stay empty: the bucket is all they share.
    shared = {**s3.variables, "CELERY_QUEUE_PREFIX": f"{queue}-"}
    media = {name: tmp_path / name for name in ("a", "b", "worker")}
    node_a, node_b = (start_node(**shared, MEDIA_ROOT=str(media[name])) for name in ("a", "b"))
    start_worker(queues=[f"{queue}-reports"], **shared, MEDIA_ROOT=str(media["worker"]))
    reporter, officer = (
        {"Authorization": f"Token {issue_token(user=user, name='tests')[1]}"}
        for user in (world.reporter, world.officer)
    )
    browser = Client()
    browser.force_login(world.reporter)
    session = {django_settings.SESSION_COOKIE_NAME: browser.cookies[django_settings.SESSION_COOKIE_NAME].value}
    wait_until_up(node_a)
    wait_until_up(node_b)

    # An update and its evidence, through node A.
    body = {"activity": world.activity.code, "period": world.period.code, "rag": "on_track", "percent_complete": 50,
            "narrative": "Two workshops delivered.", "submit": False}  # fmt: skip
    created = requests.post(f"{node_a.url}/api/v1/updates/", json=body, headers=reporter, timeout=30)
    assert created.status_code == 201, created.text
    update_id = created.json()["id"]
    attached = requests.post(
        f"{node_a.url}/api/v1/updates/{update_id}/evidence/",
        files={"file": ("minutes.pdf", PDF, "application/pdf")}, headers=reporter, timeout=30,
    )  # fmt: skip
    assert attached.status_code == 201, attached.text
    # A report, asked for through node A and compiled by the worker.
    asked = requests.post(
        f"{node_a.url}/api/v1/reports/", json={"period": world.period.code}, headers=officer, timeout=30
    )
    assert asked.status_code == 201, asked.text

    # Read and downloaded through node B.
    read = requests.get(f"{node_b.url}/api/v1/updates/{update_id}/", headers=reporter, timeout=30)
    assert [(file["original_name"], file["sha256"]) for file in read.json()["evidence"]] == [
        ("minutes.pdf", hashlib.sha256(PDF).hexdigest())
    ]
    evidence = Evidence.objects.get(update=update_id)
    downloaded = requests.get(f"{node_b.url}/evidence/{evidence.pk}/", cookies=session, timeout=30)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == PDF == stored_in(s3, evidence.file.name)

    deadline = time.monotonic() + TIMEOUT
    while ProgressReport.objects.filter(pk=asked.json()["id"], state__in=["queued", "running"]).exists():
        assert time.monotonic() < deadline, "the worker did not compile the report"
        time.sleep(0.2)
    report = ProgressReport.objects.get(pk=asked.json()["id"])
    assert report.state == "succeeded", report.error
    for kind in ("pdf", "xlsx"):
        from_a, from_b = (
            requests.get(f"{node.url}/api/v1/reports/{report.pk}/{kind}/", headers=officer, timeout=30)
            for node in (node_a, node_b)
        )
        assert (from_a.status_code, from_b.status_code) == (200, 200)
        assert from_a.content == from_b.content == stored_in(s3, getattr(report, kind).name)

    # Everything is in the bucket, private; nothing on any process's disk.
    keys = {entry["Key"] for entry in s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]}
    assert keys == {evidence.file.name, report.pdf.name, report.xlsx.name}
    for key in keys:
        grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=key)["Grants"]
        assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"], grants
    assert not [path for folder in media.values() if folder.exists() for path in folder.rglob("*") if path.is_file()]


def test_evidence_a_bucket_refuses_answers_503_naming_the_problem_and_leaves_no_row(
    world, api, s3, settings, monkeypatch
):
    use_store(settings, monkeypatch, **{**s3.variables, "AWS_STORAGE_BUCKET_NAME": "no-such-bucket"})
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office,
                                   author=world.reporter)  # fmt: skip

    response = api(world.reporter).post(
        f"/api/v1/updates/{update.pk}/evidence/",
        {"file": SimpleUploadedFile("minutes.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    )

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "storage_unavailable"
    assert "the file store refused it (NoSuchBucket)" in response.json()["detail"]
    assert not Evidence.objects.exists()


def test_an_update_written_with_evidence_the_disk_refuses_is_not_saved_and_the_page_says_why(
    world, as_user, settings, tmp_path
):
    # A folder that cannot be made (under a file) refuses every write, even for root.
    (tmp_path / "a-file").write_text("")
    settings.MEDIA_ROOT = tmp_path / "a-file" / "media"

    response = as_user(world.reporter).post(
        f"/activities/{world.activity.code}/report/",
        {"period": world.period.code, "office": world.office.code, "rag": "on_track", "percent_complete": "10",
         "narrative": "Delivered.", "save": "", "evidence": SimpleUploadedFile("minutes.pdf", PDF)},
    )  # fmt: skip

    assert response.status_code == 200
    assert "The file could not be stored: the file store refused it (Not a directory)." in response.text
    assert not ProgressUpdate.objects.exists() and not Evidence.objects.exists()


def test_while_the_store_is_down_pages_answer_and_downloads_say_503_with_a_message(
    world, as_user, api, settings, monkeypatch
):
    closed = f"http://127.0.0.1:{free_port()}"
    use_store(settings, monkeypatch, **s3_variables(closed, "portal-down"))
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office,
                                   author=world.reporter)  # fmt: skip
    evidence = EvidenceFactory(update=update, file="evidence/minutes.pdf", original_name="minutes.pdf")
    files = {"pdf": "reports/r/report.pdf", "xlsx": "reports/r/report.xlsx"}
    report = ProgressReportFactory(plan=world.plan, period=world.period, state="succeeded", snapshot={},
                                   content_hash="0" * 64, **files)  # fmt: skip
    reporter = as_user(world.reporter)

    assert reporter.get(f"/updates/{update.pk}/").status_code == 200
    page = reporter.get(f"/evidence/{evidence.pk}/")
    assert page.status_code == 503
    assert "The file cannot be read from the file store for now (the file store does not answer)." in page.text
    answer = api(world.officer).get(f"/api/v1/reports/{report.pk}/pdf/")
    assert answer.status_code == 503
    assert answer.json()["code"] == "storage_unavailable"
    assert answer["Retry-After"]


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        ({"AWS_S3_ENDPOINT_URL": "https://s3.example.org"}, "AWS_STORAGE_BUCKET_NAME must be set when "
         "AWS_S3_ENDPOINT_URL is"),
        ({"AWS_STORAGE_BUCKET_NAME": "portal", "AWS_ACCESS_KEY_ID": "key"}, "AWS_SECRET_ACCESS_KEY must be set with "
         "the other key"),
        ({"AWS_STORAGE_BUCKET_NAME": "Portal_Files"}, "AWS_STORAGE_BUCKET_NAME is 'Portal_Files'; expected an S3 "
         "bucket name"),
        ({"AWS_STORAGE_BUCKET_NAME": "portal", "AWS_S3_ENDPOINT_URL": "minio:9000"}, "AWS_S3_ENDPOINT_URL is "
         "'minio:9000'; expected an http:// or https:// address"),
        ({"AWS_STORAGE_BUCKET_NAME": "portal", "AWS_S3_ADDRESSING_STYLE": "sideways"}, "AWS_S3_ADDRESSING_STYLE is "
         "'sideways'; expected auto, path or virtual"),
    ],
)  # fmt: skip
def test_a_half_given_or_malformed_object_store_stops_startup_naming_the_variable(monkeypatch, variables, line):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **variables)
    assert str(stopped.value).startswith(f"Configuration error: {line}")


def test_files_stay_on_the_local_disk_unless_a_bucket_is_named(monkeypatch):
    assert settings_read_with(monkeypatch)["STORAGES"]["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    options = settings_read_with(monkeypatch, AWS_STORAGE_BUCKET_NAME="portal-files")["STORAGES"]["default"]
    assert options["BACKEND"] == "storages.backends.s3.S3Storage"
    # Private objects, never overwritten by a second upload of the same name.
    assert (options["OPTIONS"]["default_acl"], options["OPTIONS"]["file_overwrite"]) == (None, False)


def test_the_agreements_document_is_sent_from_the_store_to_a_signed_in_user(world, as_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agreement = world.plan.agreement
    agreement.document = storage.save("agreements/agreement.pdf", ContentFile(PDF))
    agreement.save(update_fields=["document"])
    client = as_user(world.reporter)

    assert 'href="/plan/agreement/document/"' in client.get("/plan/agreement/").text
    response = client.get("/plan/agreement/document/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def _store_tree(default_storage):
    for name in ("top.txt", "a/one.txt", "a/b/two.txt", "c/three.txt"):
        default_storage.save(name, ContentFile(name.encode()))


@pytest.fixture(params=["disk", "bucket"])
def any_store(request, settings, monkeypatch, tmp_path):
    """The local disk, then a bucket: the file store of this process, empty."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    if request.param == "bucket":
        use_store(settings, monkeypatch, **request.getfixturevalue("s3").variables)
    from django.core.files.storage import default_storage

    return default_storage


def test_the_walk_lists_each_folder_before_the_folders_in_it_or_after_them(any_store):
    _store_tree(any_store)
    assert list(storage.walk()) == [("", ["top.txt"]), ("a", ["one.txt"]), ("a/b", ["two.txt"]), ("c", ["three.txt"])]
    assert [folder for folder, _ in storage.walk("a", deepest_first=True)] == ["a/b", "a"]


def test_a_folder_is_removed_with_the_folders_in_it_and_nothing_else(any_store, settings):
    _store_tree(any_store)
    storage.delete_folder("a")
    assert list(storage.walk()) == [("", ["top.txt"]), ("c", ["three.txt"])]
    if not settings.STORAGES["default"]["BACKEND"].endswith("S3Storage"):
        assert sorted(os.listdir(settings.MEDIA_ROOT)) == ["c", "top.txt"]


def test_a_folder_never_written_to_is_removed_without_a_word(any_store, caplog):
    storage.delete_folder("never")
    assert [record for record in caplog.records if record.name == "portal.storage"] == []


def test_a_folder_the_store_cannot_list_is_logged_and_the_others_are_removed(any_store, monkeypatch, caplog):
    _store_tree(any_store)
    listed = any_store.listdir

    def failing(path):
        if path == "a/b":
            raise OSError("the store timed out")
        return listed(path)

    with monkeypatch.context() as failing_store:
        failing_store.setattr(any_store._wrapped, "listdir", failing)
        storage.delete_folder("a")
    assert [folder for folder, _names in storage.walk()] == ["", "a", "a/b", "c"]
    assert [names for folder, names in storage.walk("a")] == [[], ["two.txt"]]
    assert "did not list a/b for removal: the store timed out" in caplog.text
