"""Issue and revoke API tokens. Keys are shown once: only their hash is stored (django-rest-knox).

Every token expires (``API_TOKEN_DAYS``, 90 days unless configured), and a user's tokens are revoked
when its password changes: a password that leaked may have been used to create one.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import InvalidInput

from .models import ApiToken


def issue_token(*, user, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for the user; return it with its key, which cannot be read again later.

    It expires after ``expires_in_days``, at most (and by default) ``API_TOKEN_DAYS``.
    """
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the token a name, e.g. the system that will use it."), field="name")
    longest = settings.API_TOKEN_DAYS
    if expires_in_days is None:
        expires_in_days = longest
    if not 1 <= expires_in_days <= longest:
        raise InvalidInput(_("Expiry must be between 1 and %(max)d days.") % {"max": longest}, field="expires_in_days")
    return ApiToken.objects.create(user=user, expiry=datetime.timedelta(days=expires_in_days), name=name)


def revoke_token(*, user, digest: str) -> ApiToken | None:
    """Delete one of the user's tokens; return it (for the access log), or None when there was none."""
    token = ApiToken.objects.filter(user=user, digest=digest).first()
    if token is not None:
        token.delete()
    return token


def revoke_all_tokens(user) -> int:
    """Delete every token of the user; return how many there were."""
    deleted, _count = ApiToken.objects.filter(user=user).delete()
    return deleted


def purge_expired_tokens() -> int:
    """Delete every expired token; return how many (a call with one deletes that one at once)."""
    deleted, _count = ApiToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
