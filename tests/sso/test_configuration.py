"""Single sign-on is configured per organisation by environment variables; a bad one stops startup in one line."""

import pytest

from sso import config
from tests.portal.test_settings import manage, settings_read_with

UNODC = {
    "OIDC_ORGANISATIONS": "UNODC",
    "OIDC_UNODC_ISSUER": "https://login.unodc.example/realms/staff",
    "OIDC_UNODC_CLIENT_ID": "portal",
    "OIDC_UNODC_CLIENT_SECRET": "s3cret",
    "OIDC_UNODC_EMAIL_DOMAINS": "unodc.org, UN.org",
}


def test_an_organisation_is_read_from_its_variables():
    [organisation] = config.read(UNODC)

    assert organisation == config.Organisation(
        code="UNODC",
        issuer="https://login.unodc.example/realms/staff",
        client_id="portal",
        client_secret="s3cret",
        email_domains=("unodc.org", "un.org"),
    )


def test_no_organisation_listed_is_no_single_sign_on():
    assert config.read({"PATH": "/usr/bin"}) == []


@pytest.mark.parametrize(
    ("changes", "variable", "problem"),
    [
        ({"OIDC_UNODC_CLIENT_SECRET": ""}, "OIDC_UNODC_CLIENT_SECRET", "must be set: UNODC is listed"),
        ({"OIDC_UNODC_ISSUER": "http://login.unodc.example"}, "OIDC_UNODC_ISSUER", "must be an https:// URL"),
        (
            {"OIDC_UNODC_ISSUER": "https://login.unodc.example/.well-known/openid-configuration"},
            "OIDC_UNODC_ISSUER",
            "must be the provider's issuer",
        ),
        ({"OIDC_UNODC_EMAIL_DOMAINS": "unodc.org,@un"}, "OIDC_UNODC_EMAIL_DOMAINS", "'@un' is not one"),
        ({"OIDC_ORGANISATIONS": "UNODC,unodc"}, "OIDC_ORGANISATIONS", "lists unodc twice"),
        ({"OIDC_ORGANISATIONS": "UN ODC"}, "OIDC_ORGANISATIONS", "lists 'UN ODC'"),
        ({"OIDC_INTERPOL_CLIENT_ID": "portal"}, "OIDC_INTERPOL_CLIENT_ID", "is set but is not a setting of"),
        ({"OIDC_UNODC_CLIENTID": "portal"}, "OIDC_UNODC_CLIENTID", "is set but is not a setting of"),
    ],
)
def test_a_bad_or_half_given_setting_names_its_variable(changes, variable, problem):
    with pytest.raises(config.ConfigurationError) as raised:
        config.read({**UNODC, **changes})

    assert raised.value.variable == variable
    assert problem in raised.value.problem


def test_an_http_issuer_on_this_machine_is_allowed_only_when_asked():
    local = {**UNODC, "OIDC_UNODC_ISSUER": "http://127.0.0.1:8080/realms/staff"}

    assert config.read(local, allow_http_loopback=True)[0].issuer == "http://127.0.0.1:8080/realms/staff"
    with pytest.raises(config.ConfigurationError):
        config.read(local)


def test_a_code_with_a_hyphen_takes_variables_with_an_underscore():
    variables = {key.replace("UNODC", "UN_ODC"): value for key, value in UNODC.items()}

    [organisation] = config.read({**variables, "OIDC_ORGANISATIONS": "UN-ODC"})

    assert (organisation.code, organisation.provider_id) == ("UN-ODC", "un-odc")


def test_startup_with_a_half_given_organisation_stops_with_one_line_naming_the_variable(monkeypatch):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{**UNODC, "OIDC_UNODC_CLIENT_ID": ""})

    assert str(stopped.value) == (
        "Configuration error: OIDC_UNODC_CLIENT_ID must be set: UNODC is listed in OIDC_ORGANISATIONS"
    )


def test_startup_with_complete_organisations_passes_the_checks():
    assert manage("check", DEBUG="true", **UNODC).returncode == 0
