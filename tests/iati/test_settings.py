"""The IATI settings: read from the environment, a bad value stopping startup with one line naming it."""

import pytest

from tests.portal.test_settings import settings_read_with


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
def test_a_malformed_iati_setting_stops_startup_naming_the_variable(monkeypatch, variable, value, line):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{variable: value})

    assert str(stopped.value) == line


def test_the_sectors_are_read_per_focus_area_from_the_environment(monkeypatch):
    read = settings_read_with(monkeypatch, IATI_SECTORS="TER=15220,15130;CYB=15130")

    assert read["IATI_SECTORS"] == {"TER": ["15220", "15130"], "CYB": ["15130"]}
