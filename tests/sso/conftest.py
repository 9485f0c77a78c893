"""Two organisations' identity providers on 127.0.0.1, and the portal configured for them as in production."""

from urllib.parse import urlsplit

import pytest
import requests

from sso import config
from tests import factories
from tests.sso.identity_provider import IdentityProvider

TEST_SERVER = "http://testserver"
DOMAINS = {"UNODC": "unodc.org,un.org", "INTERPOL": "interpol.int"}


@pytest.fixture(scope="session")
def identity_providers():
    """A running provider per organisation, for the whole session (each test resets what it changes)."""
    providers = {code: IdentityProvider(code.lower()) for code in DOMAINS}
    yield providers
    for provider in providers.values():
        provider.stop()


@pytest.fixture
def providers(identity_providers):
    for provider in identity_providers.values():
        provider.person = None
        provider.fault = None
        provider.authorisation_requests.clear()
    return identity_providers


def environment(providers):
    """The variables an operator would set for these providers."""
    variables = {"OIDC_ORGANISATIONS": ",".join(providers)}
    for code, provider in providers.items():
        variables.update(
            {
                f"OIDC_{code}_ISSUER": provider.issuer,
                f"OIDC_{code}_CLIENT_ID": f"portal-{code.lower()}",
                f"OIDC_{code}_CLIENT_SECRET": f"secret-of-{code.lower()}",
                f"OIDC_{code}_EMAIL_DOMAINS": DOMAINS[code],
            }
        )
    return variables


def configure(settings, providers, base_url=TEST_SERVER):
    """Configure the portal from the variables (read by sso.config, as at startup); register it at each provider."""
    settings.SSO_ORGANISATIONS = config.read(environment(providers), allow_http_loopback=True)
    for organisation in settings.SSO_ORGANISATIONS:
        callback = f"{base_url}/accounts/sso/{organisation.provider_id}/callback/"
        providers[organisation.code].register(organisation.client_id, organisation.client_secret, callback)


@pytest.fixture
def sso(settings, providers, db, fresh_counters):
    """The portal with single sign-on for UNODC and INTERPOL, both organisations in its database."""
    configure(settings, providers)
    factories.OrganizationFactory(code="UNODC", name="United Nations Office on Drugs and Crime")
    factories.OrganizationFactory(code="INTERPOL", name="International Criminal Police Organization")
    return providers


def sign_in_through(client, provider, code, **form):
    """Press the organisation's button and follow every redirect, over real HTTP to the provider and back.

    Returns the portal's last answer (after its redirects), or the provider's when it answers with no redirect.
    """
    start = client.post(f"/accounts/sso/{code.lower()}/login/", form)
    if start.status_code != 302 or not start["Location"].startswith(provider.issuer):
        return start
    answer = requests.get(start["Location"], allow_redirects=False, timeout=10)
    if answer.status_code != 302:
        return answer
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == TEST_SERVER
    return client.get(f"{back.path}?{back.query}", follow=True)
