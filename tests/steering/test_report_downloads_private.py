"""A progress report's files cover restricted activities: no cache may keep them, in the browser or the API."""

from django.urls import reverse


def test_a_reports_files_are_never_stored(client, compiled, reported):
    report = compiled()
    client.force_login(reported.officer)

    for name in ("report-pdf", "report-xlsx"):
        response = client.get(reverse(name, args=[report.pk]))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"


def test_a_reports_files_through_the_api_are_never_stored(api, compiled, reported):
    report = compiled()
    client = api(reported.officer)

    for kind in ("pdf", "xlsx"):
        response = client.get(f"/api/v1/reports/{report.pk}/{kind}/")
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
