"""/.well-known/security.txt tells a finder where to report a vulnerability (RFC 9116)."""

import datetime

from django.utils import timezone

from tests.portal.test_settings import manage


def test_security_txt_names_the_configured_contact_and_a_future_expiry(client, db, settings):
    settings.SECURITY_CONTACT = "mailto:security@example.org"

    response = client.get("/.well-known/security.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    fields = dict(line.split(": ", 1) for line in response.content.decode().splitlines())
    assert fields["Contact"] == "mailto:security@example.org"
    expires = datetime.datetime.fromisoformat(fields["Expires"])
    assert timezone.now() < expires < timezone.now() + datetime.timedelta(days=365)
    assert fields["Canonical"] == "http://testserver/.well-known/security.txt"


def test_without_a_contact_there_is_no_security_txt(client, db, settings):
    settings.SECURITY_CONTACT = ""

    assert client.get("/.well-known/security.txt").status_code == 404


def test_a_contact_that_is_no_address_stops_startup_naming_the_variable():
    result = manage("check", DEBUG="true", SECURITY_CONTACT="security@example.org")

    assert result.returncode != 0
    assert result.stderr.strip().startswith("Configuration error: SECURITY_CONTACT")
