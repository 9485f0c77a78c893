"""Signed-in sessions end after ``SESSION_COOKIE_AGE`` (8 hours) without a request.

Django counts a session's age from its last save. Saving on every request would write a row per
page; the session is instead saved again (and its expiry moved on) when a signed-in user's last
recorded request is more than ``REFRESH_SECONDS`` old, so an idle session ends between 8 hours and
8 hours less those minutes after its last request.
"""

import time

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

REFRESH_SECONDS = 300
SEEN_KEY = "_seen_at"


class InactivityExpiryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(SEEN_KEY, 0) > REFRESH_SECONDS:
                session[SEEN_KEY] = now
        return response


@receiver(user_logged_in, dispatch_uid="session-seen-at-login")
def _seen_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SEEN_KEY] = int(time.time())
