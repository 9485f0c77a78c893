"""Response headers: what a signed-in user is shown is never stored by a cache, the browser runs only the
portal's own files, and features the portal never uses are switched off."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actionplan.models import Evidence

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def directives(response) -> dict[str, set[str]]:
    policy = response["Content-Security-Policy"]
    return {name: set(sources) for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize(
    "address",
    [
        lambda world: reverse("home"),
        lambda world: reverse("plan"),
        lambda world: reverse("activity-list"),
        lambda world: reverse("activity-list") + "?export=csv",
        lambda world: reverse("activity-detail", args=[world.restricted.code]),
        lambda world: reverse("tokens"),
        lambda world: reverse("notifications"),
        # A refusal is as private as a page: it tells what the user may not see.
        lambda world: reverse("review-queue"),
    ],
    ids=["home", "plan", "register", "register-csv", "restricted-activity", "tokens", "notifications", "refusal"],
)
def test_every_page_of_a_signed_in_user_is_private_and_never_stored(as_user, world, address):
    response = as_user(world.reporter).get(address(world))

    assert response["Cache-Control"] == "private, no-store"


def test_an_evidence_download_is_never_stored(as_user, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = as_user(world.reporter)
    client.post(
        reverse("update-create", args=[world.activity.code]),
        {"period": world.period.code, "office": world.office.code, "rag": "on_track", "percent_complete": "10",
         "narrative": "Held.", "challenges": "", "next_steps": "", "evidence": SimpleUploadedFile("list.pdf", PDF)},
    )  # fmt: skip

    response = client.get(reverse("evidence-download", args=[Evidence.objects.get().pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_every_api_answer_to_a_token_is_never_stored(api, world):
    client = api(world.reporter)

    assert client.get("/api/v1/activities/")["Cache-Control"] == "private, no-store"
    assert client.get(f"/api/v1/activities/{world.activity.code}/")["Cache-Control"] == "private, no-store"


def test_an_api_answer_to_a_refused_token_is_never_stored(api, db):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = client.get("/api/v1/activities/")

    assert response.status_code == 401
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/schema/"])
def test_every_answer_switches_off_the_features_the_portal_never_uses(client, path):
    policy = client.get(path)["Permissions-Policy"]

    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/docs/"])
def test_the_content_security_policy_lets_pages_run_the_portals_own_files_only(client, path):
    policy = directives(client.get(path))

    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["base-uri"] == {"'none'"}


def test_the_redoc_page_alone_allows_inline_styles_and_still_no_inline_script(client):
    policy = directives(client.get("/api/v1/redoc/"))

    assert policy["style-src"] == {"'self'", "'unsafe-inline'"}
    assert policy["script-src"] == {"'self'"}


def test_a_signed_in_page_runs_under_the_same_policy(as_user, world):
    policy = directives(as_user(world.officer).get(reverse("dashboard")))

    assert policy["script-src"] == {"'self'"} and policy["style-src"] == {"'self'"}


def test_no_page_template_holds_an_inline_script_or_style():
    # The PDF templates are read by WeasyPrint only, never served to a browser.
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        if template.name.endswith("_pdf.html"):
            continue
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.relative_to(TEMPLATES)}: {tag}")
        if re.search(r"<style\b", text) or re.search(r"""\sstyle=["']""", text):
            offenders.append(f"{template.relative_to(TEMPLATES)}: inline style")
    assert offenders == []


def test_the_api_docs_page_loads_its_script_from_a_file_of_the_portal(client):
    html = client.get("/api/v1/docs/").content.decode()

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert b"SwaggerUIBundle(" in script.content


def test_the_redoc_page_loads_no_font_from_elsewhere(client):
    html = client.get("/api/v1/redoc/").content.decode()

    assert "fonts.googleapis.com" not in html and "<style" not in html


@pytest.mark.parametrize(("percent", "css_class"), [(0, "bar-0"), (42.6, "bar-43"), (100, "bar-100"), (180, "bar-100"),
                                                   (-5, "bar-0"), (None, "bar-0")])  # fmt: skip
def test_a_progress_bar_width_is_a_class_from_0_to_100(percent, css_class):
    from portal.templatetags.bars import bar_width

    assert bar_width(percent) == css_class


def test_the_stylesheet_defines_every_progress_bar_width():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "portal.css").read_text()

    assert all(f".bar-{width} {{ width: {width}%; }}" in css for width in range(101))


def test_a_progress_bar_is_drawn_with_its_class(as_user, world):
    from tests.factories import ProgressUpdateFactory

    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, percent_complete=37
    )

    html = as_user(world.reporter).get(reverse("update-detail", args=[update.pk])).content.decode()

    assert 'class="progress-bar bar-37"' in html


def test_the_browsable_api_page_holds_no_inline_style(as_user, world):
    html = as_user(world.reporter).get("/api/v1/activities/", HTTP_ACCEPT="text/html").content.decode()

    assert "<html" in html
    assert "<style" not in html and not re.search(r"""\sstyle=["']""", html)
    assert "css/browsable-api.css" in html


def test_djangos_debugging_pages_alone_go_without_the_policy(as_user, world, settings):
    client = as_user(world.reporter)
    assert "Content-Security-Policy" in client.get("/activities/NO-SUCH-CODE/")

    settings.DEBUG = True
    debugging = client.get("/activities/NO-SUCH-CODE/")

    assert debugging.status_code == 404 and "Content-Security-Policy" not in debugging
    assert "Content-Security-Policy" in client.get(reverse("home"))
