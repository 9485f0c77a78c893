"""Django's sign-in and password pages, with the portal's limits and what a new password revokes."""

import hashlib

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import ratelimit
from .accounts import REVOKED_ATTRIBUTE


class LoginView(auth_views.LoginView):
    """Django's sign-in with a password, and a button per organisation that signs in through its provider."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_organisations"] = settings.SSO_ORGANISATIONS
        return context

    def dispatch(self, request, *args, **kwargs):
        origins = sorted({organisation.origin for organisation in settings.SSO_ORGANISATIONS})
        if not origins:
            return super().dispatch(request, *args, **kwargs)
        # A button's form is answered with a redirect to the provider, which the policy's form-action must allow.
        return csp_update({"form-action": ["'self'", *origins]})(super().dispatch)(request, *args, **kwargs)


login = ratelimit.limit("login")(LoginView.as_view())
admin_login = ratelimit.limit("login")(admin.site.login)


def locked_out(request, original_response=None, credentials=None):
    """The page django-axes answers a locked-out sign-in with: why, and for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def _tell_revoked(request, user):
    count = getattr(user, REVOKED_ATTRIBUTE, 0)
    message = _("Your other sessions were signed out.")
    if count:
        message += " " + ngettext(
            "Your API token was revoked: create a new one for the system that used it.",
            "Your %(count)d API tokens were revoked: create new ones for the systems that used them.",
            count,
        ) % {"count": count}
    messages.info(request, message)


class _TellRevoked:
    """After a new password is saved, tell the user what it revoked."""

    def form_valid(self, form):
        response = super().form_valid(form)
        _tell_revoked(self.request, form.user)
        return response


class PasswordChangeView(_TellRevoked, auth_views.PasswordChangeView):
    pass


class PasswordResetConfirmView(_TellRevoked, auth_views.PasswordResetConfirmView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset e-mail, limited per address and per e-mail address asked for."""

    def post(self, request, *args, **kwargs):
        verdict = ratelimit.hit("password_reset", ratelimit.identity(request))
        if verdict.allowed:
            email = request.POST.get("email", "").strip().lower()
            verdict = ratelimit.hit("password_reset", "email:" + hashlib.sha256(email.encode()).hexdigest())
        if not verdict.allowed:
            return ratelimit.too_many_requests_page(request, verdict)
        return super().post(request, *args, **kwargs)
