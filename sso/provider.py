"""django-allauth's OpenID Connect provider, with the checks of the ID token it leaves out.

allauth (65.x) discovers the provider, sends the user there with a state and PKCE, exchanges the code
and checks the ID token's issuer, audience and expiry. It sends no nonce and, when the ID token comes
straight from the token endpoint, does not check its signature (the specification allows that over
TLS). The portal checks both: the nonce it sent (kept in the sign-in's state in the session) and the
RS256 signature against the provider's published keys (JWKS); also that the discovery document is the
configured issuer's and that the user info describes the ID token's subject.

allauth's registry loads this module as the sso app's ``provider`` and registers the class under its
id, ``openid_connect``, the one allauth's own URL names and app settings use.
"""

import hmac
import secrets

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

# The signature algorithm asked of providers; anything else (none, HS256 with the public key) is refused.
ALGORITHM = "RS256"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat"]


class OrganisationOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    """allauth's exchange with one organisation's provider, checking the ID token fully."""

    # The sign-in's state, as the callback found it in the session (sso.views.CallbackView).
    state: dict | None = None

    @property
    def openid_config(self):
        config = super().openid_config
        issuer = self.get_provider().app.settings["server_url"]
        if str(config.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            raise OAuth2Error(f"the discovery document names the issuer {config.get('issuer')!r}, not {issuer!r}")
        missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not config.get(key)]
        if missing:
            raise OAuth2Error(f"the discovery document gives no {', '.join(missing)}")
        return config

    def complete_login(self, request, app, token, **kwargs):
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise OAuth2Error("the token endpoint sent no ID token")
        claims = self._decode_id_token(app, id_token)
        data = {"id_token": claims}
        if self.openid_config.get("userinfo_endpoint"):
            userinfo = self._fetch_user_info(token.token)
            # OpenID Connect Core 5.3.2: the user info is only to be used if it is of the ID token's subject.
            if not isinstance(userinfo, dict) or userinfo.get("sub") != claims["sub"]:
                raise OAuth2Error("the user info describes another subject than the ID token")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)

    def _decode_id_token(self, app, id_token: str) -> dict:
        """Check the ID token's signature, issuer, audience, expiry and nonce; return its claims."""
        try:
            header = jwt.get_unverified_header(id_token)
            if header.get("alg") != ALGORITHM:
                raise OAuth2Error(f"the ID token is signed with {header.get('alg')!r}, not {ALGORITHM}")
            claims = jwt.decode(
                id_token,
                key=self._signing_key(header.get("kid")),
                algorithms=[ALGORITHM],
                audience=app.client_id,
                issuer=self.openid_config["issuer"],
                options={"require": REQUIRED_CLAIMS},
                leeway=60,
            )
        except jwt.PyJWTError as error:
            raise OAuth2Error(f"the ID token is not valid: {error}") from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # Core 3.1.3.7: a token for several audiences names the one it was issued to.
        if len(audiences) > 1 and claims.get("azp") != app.client_id:
            raise OAuth2Error("the ID token is for several audiences and was not issued to the portal (azp)")
        expected = (self.state or {}).get("nonce")
        if not expected or not hmac.compare_digest(str(claims.get("nonce", "")), expected):
            raise OAuth2Error("the ID token's nonce is not the one the portal sent")
        return claims

    def _signing_key(self, kid):
        """The provider's published key (JWKS) the token names, fetched each time (keys rotate)."""
        with get_adapter().get_requests_session() as session:
            response = session.get(self.openid_config["jwks_uri"])
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json())
        for key in keys.keys:
            if (kid is None or key.key_id == kid) and key.key_type == "RSA" and key.public_key_use in (None, "sig"):
                return key.key
        raise OAuth2Error(f"the provider publishes no RSA signing key {kid!r}")


class OrganisationProvider(OpenIDConnectProvider):
    """An organisation's provider: always a sign-in, with a nonce, and nothing taken from the request's query."""

    oauth2_adapter_class = OrganisationOAuth2Adapter

    def get_auth_params_from_request(self, request, action):
        # allauth lets ?auth_params= add parameters to the authorisation request (a nonce among them): not here.
        return self.get_auth_params()

    def get_scope_from_request(self, request):
        return self.get_scope()

    def get_redirect_from_request_kwargs(self, request):
        kwargs = super().get_redirect_from_request_kwargs(request)
        # Connecting accounts or merely redirecting (allauth's other processes) is not offered.
        kwargs["process"] = AuthProcess.LOGIN
        return kwargs

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = {**(kwargs.pop("auth_params", None) or self.get_auth_params()), "nonce": nonce}
        # What allauth passes on beside its own arguments is kept in the sign-in's state: the nonce too.
        return super().redirect(
            request, AuthProcess.LOGIN, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


provider_classes = [OrganisationProvider]
