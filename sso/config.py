"""Read the organisations' OpenID Connect providers from the environment.

``OIDC_ORGANISATIONS=UNODC,INTERPOL`` lists the organisations (``portal.models.Organization.code``) that
sign their people in through their own identity provider; each then needs ``OIDC_<CODE>_ISSUER``,
``OIDC_<CODE>_CLIENT_ID``, ``OIDC_<CODE>_CLIENT_SECRET`` and ``OIDC_<CODE>_EMAIL_DOMAINS``. Read by
``portal/settings.py`` before Django starts: nothing here may import models.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

PREFIX = "OIDC_"
LIST_VARIABLE = "OIDC_ORGANISATIONS"
FIELDS = ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "EMAIL_DOMAINS")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ConfigurationError(Exception):
    """A variable that is missing or wrong; ``variable`` names it, the message says what is wrong."""

    def __init__(self, variable: str, problem: str):
        super().__init__(problem)
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Organisation:
    """One organisation's identity provider, as the portal is registered there."""

    code: str
    issuer: str
    client_id: str
    client_secret: str
    email_domains: tuple[str, ...]

    @property
    def provider_id(self) -> str:
        """The provider's name in the portal's URLs (/accounts/sso/<provider_id>/…)."""
        return self.code.lower()

    @property
    def origin(self) -> str:
        """The issuer's scheme, host and port: where the browser is sent to sign in."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def allauth_app(self) -> dict:
        """The app django-allauth's openid_connect provider is configured with."""
        return {
            "provider_id": self.provider_id,
            "name": self.code,
            "client_id": self.client_id,
            "secret": self.client_secret,
            "settings": {
                "server_url": self.issuer,
                # Proof Key for Code Exchange (S256): a stolen authorisation code is useless without it.
                "oauth_pkce_enabled": True,
                "scope": ["openid", "email", "profile"],
            },
        }


def variable(code: str, field: str) -> str:
    """The name of an organisation's variable: ``OIDC_UNODC_ISSUER``; a hyphen in a code becomes ``_``."""
    return f"{PREFIX}{code.upper().replace('-', '_')}_{field}"


def read(environ: Mapping[str, str], *, allow_http_loopback: bool = False) -> list[Organisation]:
    """The configured organisations, in the order listed; raise ConfigurationError for a bad or missing value.

    An issuer must be https://, except one on this machine (127.0.0.1, localhost) when
    ``allow_http_loopback`` (DEBUG, and the tests' own provider).
    """
    codes = [code.strip() for code in environ.get(LIST_VARIABLE, "").split(",") if code.strip()]
    expected = {LIST_VARIABLE}
    organisations = []
    seen = set()
    for code in codes:
        if not _CODE.fullmatch(code):
            raise ConfigurationError(
                LIST_VARIABLE, f"lists {code!r}: an organisation code is letters, digits, - and _ (e.g. UNODC)"
            )
        if code.upper() in seen:
            raise ConfigurationError(LIST_VARIABLE, f"lists {code} twice")
        seen.add(code.upper())
        names = {field: variable(code, field) for field in FIELDS}
        expected.update(names.values())
        values = {field: environ.get(name, "").strip() for field, name in names.items()}
        for field, name in names.items():
            if not values[field]:
                raise ConfigurationError(name, f"must be set: {code} is listed in {LIST_VARIABLE}")
        organisations.append(
            Organisation(
                code=code,
                issuer=_issuer(names["ISSUER"], values["ISSUER"], allow_http_loopback=allow_http_loopback),
                client_id=values["CLIENT_ID"],
                client_secret=values["CLIENT_SECRET"],
                email_domains=_domains(names["EMAIL_DOMAINS"], values["EMAIL_DOMAINS"]),
            )
        )
    # A variable for an organisation that is not listed (or misspelt) would silently do nothing.
    for name in sorted(environ):
        if name.startswith(PREFIX) and name not in expected:
            raise ConfigurationError(
                name,
                f"is set but is not a setting of an organisation listed in {LIST_VARIABLE} "
                f"(each listed CODE takes {', '.join(variable('CODE', field) for field in FIELDS)})",
            )
    return organisations


def _issuer(name: str, value: str, *, allow_http_loopback: bool) -> str:
    parts = urlsplit(value)
    loopback = parts.hostname in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback and allow_http_loopback):
        raise ConfigurationError(name, f"must be an https:// URL (the provider's issuer), not {value!r}")
    if not parts.hostname or parts.query or parts.fragment or "/.well-known/" in parts.path:
        raise ConfigurationError(
            name,
            f"must be the provider's issuer (e.g. https://login.example.org/realms/unodc), whose "
            f"/.well-known/openid-configuration the portal reads; not {value!r}",
        )
    return value.rstrip("/")


def _domains(name: str, value: str) -> tuple[str, ...]:
    domains = tuple(dict.fromkeys(domain.strip().lower() for domain in value.split(",") if domain.strip()))
    wrong = [domain for domain in domains if not _DOMAIN.fullmatch(domain)]
    if not domains:
        raise ConfigurationError(name, "must list e-mail domains separated by commas (e.g. unodc.org,un.org)")
    if wrong:
        raise ConfigurationError(
            name, f"must list e-mail domains separated by commas (e.g. unodc.org,un.org); {wrong[0]!r} is not one"
        )
    return domains
