"""Issue and revoke API tokens. Keys are shown once: only their hash is stored (django-rest-knox)."""

import datetime

from django.utils.translation import gettext as _

from portal.errors import InvalidInput

from .models import ApiToken

MAX_EXPIRY_DAYS = 3650


def issue_token(*, user, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for the user; return it with its key, which cannot be read again later."""
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the token a name, e.g. the system that will use it."), field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(
            _("Expiry must be between 1 and %(max)d days.") % {"max": MAX_EXPIRY_DAYS}, field="expires_in_days"
        )
    expiry = datetime.timedelta(days=expires_in_days) if expires_in_days else None
    return ApiToken.objects.create(user=user, expiry=expiry, name=name)


def revoke_token(*, user, digest: str) -> bool:
    """Delete one of the user's tokens; return whether there was one."""
    deleted, _count = ApiToken.objects.filter(user=user, digest=digest).delete()
    return bool(deleted)
