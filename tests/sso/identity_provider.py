"""A small but real OpenID Connect provider on 127.0.0.1, for the single sign-on tests.

It speaks the protocol over HTTP in a thread of its own: discovery, the authorisation endpoint (which
signs in whoever the test chose, as if the person had typed their password there), the token endpoint
(client secret, single-use codes, redirect URI and PKCE checked), the user info endpoint and its
signing keys (JWKS). ID tokens are RS256 JSON Web Tokens made with PyJWT and a key of its own.

A test chooses the person (``provider.person = Person(email=...)``) and may make the provider
misbehave: ``provider.fault`` set to one of FAULTS.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

FAULTS = {
    "wrong_nonce": "the ID token carries another nonce than the one asked for",
    "wrong_audience": "the ID token is for another client",
    "wrong_issuer": "the ID token names another issuer",
    "foreign_key": "the ID token is signed with a key the provider does not publish",
    "other_subject": "the user info describes another person than the ID token",
    "expired": "the ID token expired an hour ago",
    "cancel": "the person cancels at the provider",
    "discovery_issuer": "the discovery document names another issuer than the one configured",
}


@dataclass
class Person:
    """Who signs in at the provider."""

    email: str
    email_verified: bool = True
    sub: str = field(default_factory=lambda: secrets.token_hex(8))
    # Where the e-mail claims are given: in the ID token and the user info, or only in the user info.
    email_in_id_token: bool = True


@dataclass
class Client:
    secret: str
    redirect_uris: set[str]


class IdentityProvider:
    """An OpenID Connect provider at ``issuer``, serving until ``stop()``."""

    def __init__(self, realm: str):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(4)
        self.clients: dict[str, Client] = {}
        self.person: Person | None = None
        self.fault: str | None = None
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, Person] = {}
        # Every authorisation request's parameters, in order.
        self.authorisation_requests: list[dict] = []
        self.token_errors: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/{realm}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def register(self, client_id: str, secret: str, redirect_uri: str):
        self.clients.setdefault(client_id, Client(secret, set())).redirect_uris.add(redirect_uri)

    # The protocol ------------------------------------------------------------------------------

    def discovery(self):
        return {
            "issuer": "http://127.0.0.1:1/another-issuer" if self.fault == "discovery_issuer" else self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    def jwks(self):
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.key_id, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict) -> tuple[int, dict]:
        """Answer an authorisation request: (status, headers), a redirect back to the client when it is valid."""
        self.authorisation_requests.append(query)
        client = self.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        # An unknown client or redirect URI is never redirected to (RFC 6749 4.1.2.1).
        if client is None or redirect_uri not in client.redirect_uris:
            return 400, {}
        back = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return 302, {"Location": f"{redirect_uri}?{urlencode({**back, 'error': 'unsupported_response_type'})}"}
        if self.fault == "cancel" or self.person is None:
            return 302, {"Location": f"{redirect_uri}?{urlencode({**back, 'error': 'access_denied'})}"}
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "client_id": query["client_id"],
            "redirect_uri": redirect_uri,
            "nonce": query.get("nonce"),
            "code_challenge": query.get("code_challenge"),
            "code_challenge_method": query.get("code_challenge_method"),
            "person": self.person,
        }
        return 302, {"Location": f"{redirect_uri}?{urlencode({**back, 'code': code})}"}

    def token(self, form: dict, authorization: str | None) -> tuple[int, dict]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        client = self.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client.secret, secret or ""):
            return self._token_error(401, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return self._token_error(400, "unsupported_grant_type")
        grant = self.codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant["client_id"] != client_id or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._token_error(400, "invalid_grant")
        if grant["code_challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant["code_challenge_method"] != "S256" or digest != grant["code_challenge"]:
                return self._token_error(400, "invalid_grant")
        person = grant["person"]
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = person
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(person, client_id, grant["nonce"]),
        }

    def id_token(self, person: Person, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": person.sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if person.email_in_id_token:
            claims.update(email=person.email, email_verified=person.email_verified)
        key, key_id = self.key, self.key_id
        if self.fault == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(32)
        elif self.fault == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.fault == "wrong_issuer":
            claims["iss"] = "http://127.0.0.1:1/another-issuer"
        elif self.fault == "expired":
            claims.update(iat=now - 7200, exp=now - 3600, auth_time=now - 7200)
        elif self.fault == "foreign_key":
            # Same key id, another key: only checking the signature against the published key catches it.
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})

    def userinfo(self, authorization: str | None) -> tuple[int, dict]:
        token = (authorization or "").removeprefix("Bearer ")
        person = self.access_tokens.get(token)
        if person is None:
            return 401, {"error": "invalid_token"}
        sub = secrets.token_hex(8) if self.fault == "other_subject" else person.sub
        return 200, {"sub": sub, "email": person.email, "email_verified": person.email_verified}

    def _token_error(self, status, error):
        self.token_errors.append(error)
        return status, {"error": error}


def _handler(provider: IdentityProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 -- the standard library's signature
            pass

        def _route(self):
            path = urlsplit(self.path).path
            prefix = urlsplit(provider.issuer).path
            return path[len(prefix) :] if path.startswith(prefix) else None

        def _answer(self, status, body=None, headers=None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            data = json.dumps(body).encode() if body is not None else b""
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            route = self._route()
            query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
            if route == "/.well-known/openid-configuration":
                self._answer(200, provider.discovery())
            elif route == "/jwks":
                self._answer(200, provider.jwks())
            elif route == "/authorize":
                status, headers = provider.authorize(query)
                self._answer(status, None, headers)
            elif route == "/userinfo":
                self._answer(*provider.userinfo(self.headers.get("Authorization")))
            else:
                self._answer(404, {"error": "not_found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            if self._route() == "/token":
                self._answer(*provider.token(form, self.headers.get("Authorization")))
            else:
                self._answer(404, {"error": "not_found"})

    return Handler
