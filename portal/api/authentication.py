"""API token authentication: django-rest-knox's, without its reading of every token of the user at each call.

knox deletes the user's expired tokens whenever one of them is used: a read of all of them, on every call
a field office's system makes. Here a call checks the expiry of the token it presents alone (an expired one is
deleted and refused, as knox does), and the others are deleted by the daily purge (``purge_expired_tokens``).
"""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired


class TokenAuthentication(KnoxTokenAuthentication):
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
