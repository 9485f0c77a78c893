"""django-allauth's hooks, turned to the portal's rules: every sign-in through a provider ends here.

allauth would otherwise connect, create or sign up accounts and show its own pages; here a verified
identity goes to ``services.sign_in_user`` and the person is signed in (or told why not) on the portal's
login page. allauth's local account flows are closed: the portal's own login page signs in with passwords.
"""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import AuthError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from audit.models import AccessEvent
from audit.services import record

from . import services

logger = logging.getLogger(__name__)

# The portal's own backend: the one a password sign-in ends with, so sessions look the same.
BACKEND = "django.contrib.auth.backends.ModelBackend"


class AccountAdapter(DefaultAccountAdapter):
    """No sign-up through allauth: administrators create accounts."""

    def is_open_for_signup(self, request):
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Sign in existing accounts only, by the portal's rules; answer every outcome on the login page."""

    def is_open_for_signup(self, request, sociallogin):
        return False

    def list_apps(self, request, provider=None, client_id=None):
        # The environment (settings.SSO_ORGANISATIONS) is the only configuration: no apps in the database.
        apps = []
        for organisation in settings.SSO_ORGANISATIONS:
            config = organisation.allauth_app()
            app = SocialApp(
                provider="openid_connect",
                provider_id=config["provider_id"],
                name=config["name"],
                client_id=config["client_id"],
                secret=config["secret"],
                settings=config["settings"],
            )
            if provider not in (None, app.provider, app.provider_id) or client_id not in (None, app.client_id):
                continue
            apps.append(app)
        return apps

    def pre_social_login(self, request, sociallogin):
        organisation = services.configured(sociallogin.provider.app.provider_id)
        data = sociallogin.account.extra_data
        identity = services.Identity.from_claims(data.get("id_token") or {}, data.get("userinfo"))
        try:
            user = services.sign_in_user(organisation=organisation, identity=identity)
        except services.Refused as refusal:
            raise ImmediateHttpResponse(_refuse(request, organisation.code, refusal)) from refusal
        # Django's own login, as the password form ends: a new session key, the signals (the lockout's and
        # the access log's records, the user's language) and the session's start time.
        login(request, user, backend=BACKEND)
        record(
            request,
            AccessEvent.Kind.SSO_SIGN_IN,
            object_type="organization",
            object_id=organisation.code,
            label=f"{organisation.code}: {identity.email}",
            user=user,
        )
        next_url = sociallogin.state.get("next")
        if not next_url or not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
        raise ImmediateHttpResponse(redirect(next_url))

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        code = provider.app.name if provider is not None and provider.app is not None else "?"
        if error == AuthError.CANCELLED:
            refusal = services.Refused(
                f"{code}: cancelled at the provider",
                _("Sign-in with %(organisation)s was cancelled.") % {"organisation": code},
            )
        else:
            refusal = services.Refused(
                f"{code}: {exception or error or 'the answer is not valid'}",
                _(
                    "Sign-in with %(organisation)s failed: the answer of its sign-in service could not be "
                    "verified. Try again; if it fails again, tell an administrator."
                )
                % {"organisation": code},
            )
        raise ImmediateHttpResponse(_refuse(request, code, refusal))


def refuse_unreachable(request, organisation, error: Exception):
    """The answer when the provider cannot be reached to start a sign-in."""
    refusal = services.Refused(
        f"{organisation.code}: the provider cannot be reached ({error})",
        _("The sign-in service of %(organisation)s does not answer. Try again later, or sign in with your password.")
        % {"organisation": organisation.code},
    )
    return _refuse(request, organisation.code, refusal)


def _refuse(request, code: str, refusal: services.Refused):
    """Log the refusal, record it in the access log and show its message on the login page."""
    logger.warning("Single sign-on refused: %s", refusal.reason)
    record(
        request,
        AccessEvent.Kind.SSO_REFUSED,
        object_type="organization",
        object_id=code,
        label=refusal.reason,
        user=refusal.user,
    )
    messages.error(request, refusal.message)
    return redirect(settings.LOGIN_URL)
