"""API token authentication: django-rest-knox's, in one statement a call where it took three.

knox deletes the user's expired tokens whenever one of them is used: a read of all of them, on every call
a field office's system makes. Here a call checks the expiry of the token it presents alone (an expired one is
deleted and refused, as knox does), and the others are deleted by the daily purge (``purge_expired_tokens``).
The token is read with its user and, on PostgreSQL, the names of the user's groups, which every call asks
next (what may the user read: ``portal.roles``).
"""

import binascii
from hmac import compare_digest

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from portal import roles
from portal.models import ApiToken


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        # knox's, but for the query.
        token = token.decode("utf-8")
        candidates = roles.with_group_names(
            ApiToken.objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user")
            .order_by(),  # the digest picks the token among those of its key: their order does not matter
            "user",
        )
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                roles.remember_group_names(auth_token.user, auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(_("Invalid token."))

    def _cleanup_token(self, auth_token) -> bool:
        if not auth_token.expired:
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenScheme(KnoxTokenScheme):
    """The schema's security scheme of these tokens: knox's, under its name."""

    target_class = TokenAuthentication
