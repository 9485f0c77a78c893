"""The IATI settings: read from the environment, a bad value stopping startup with one line naming it."""

import pytest

from tests.portal.test_settings import manage


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        (
            "IATI_ORGANISATION_ID",
            "UNODC",
            "Configuration error: IATI_ORGANISATION_ID must be an IATI organisation identifier: a registration "
            "agency, then a number",
        ),
        (
            "IATI_ORGANISATION_TYPE",
            "multilateral",
            "Configuration error: IATI_ORGANISATION_TYPE must be a two-digit IATI organisation type code, e.g. 40",
        ),
        (
            "IATI_SECTORS",
            "TER=1522",
            "Configuration error: IATI_SECTORS must give each focus area code 5-digit DAC codes, "
            "e.g. TER=15220,15130;CYB=15130",
        ),
    ],
)
def test_a_malformed_iati_setting_stops_startup_naming_the_variable(variable, value, line):
    result = manage("check", DEBUG="true", **{variable: value})

    assert result.returncode != 0
    assert result.stderr.strip() == line


def test_the_sectors_are_read_per_focus_area_from_the_environment():
    shown = "from django.conf import settings; print(settings.IATI_SECTORS)"
    result = manage("shell", "-c", shown, DEBUG="true", IATI_SECTORS="TER=15220,15130;CYB=15130")

    assert result.stdout.strip().splitlines()[-1] == "{'TER': ['15220', '15130'], 'CYB': ['15130']}"
