"""Which language the portal speaks to a request.

In order: the signed-in user's choice (kept in the profile, copied into the session at sign-in
and whenever it changes), then the language cookie set by the switcher, then the browser's
``Accept-Language``, then English. API clients with a token have no session: their
``Accept-Language`` decides. Anything that is not one of ``settings.LANGUAGES`` counts as no
choice, so an unknown or malformed code ends in English without an error.
"""

import os

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

SESSION_KEY = "language"


def supported(code) -> str | None:
    """The portal's language for ``code`` (``fr``, ``fr-CA`` → fr; ``zh-Hans`` → zh-hans), or None."""
    if not isinstance(code, str) or not code or len(code) > 16:
        return None
    try:
        found = translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None
    return found if found in dict(settings.LANGUAGES) else None


def user_language(user) -> str:
    """The language a user reads e-mails in: the profile's choice, else the portal's default."""
    profile = getattr(user, "profile", None) if user is not None else None
    return supported(getattr(profile, "language", "")) or settings.LANGUAGE_CODE


def remember(request, language: str | None) -> None:
    """Keep the chosen language for the rest of the session (none: the browser's language again)."""
    if not hasattr(request, "session"):
        return
    if language:
        request.session[SESSION_KEY] = language
    else:
        request.session.pop(SESSION_KEY, None)


class UserLanguageMiddleware:
    """After Django's LocaleMiddleware: the signed-in user's choice wins over cookie and browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        chosen = supported(session.get(SESSION_KEY)) if session is not None else None
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="language-at-login")
def _language_at_login(sender, request, user, **kwargs):
    if request is not None:
        remember(request, supported(getattr(getattr(user, "profile", None), "language", "")))


def of_environment() -> str:
    """The operator's language for a command: ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (fr_FR.UTF-8 → fr)."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return supported(value.split(".")[0].replace("_", "-")) or settings.LANGUAGE_CODE
    return settings.LANGUAGE_CODE


def isolated(text: str) -> str:
    """Text of another direction kept in its own order inside a right-to-left sentence (Unicode's
    first-strong isolate), where no markup can go: a form's label, an option, a chart's label."""
    return f"\u2068{text}\u2069" if translation.get_language_bidi() else text


def writing() -> str:
    """The language a user is taken to write in: the one the portal speaks to them now (their choice,
    else their browser's, else the API client's ``Accept-Language``)."""
    return supported(translation.get_language()) or settings.LANGUAGE_CODE
