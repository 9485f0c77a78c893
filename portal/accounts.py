"""What follows a change of password: the user's API tokens are revoked, as a password that leaked
may have been used to create one. Its other sessions end by Django's own rule (a session remembers
the password hash it was opened with)."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete

from .models import ApiToken
from .tokens import revoke_all_tokens

# Set on the user by the revocation, for the page that tells the user.
REVOKED_ATTRIBUTE = "revoked_api_tokens"


def _tokens_of(user) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).only("token_key", "name", "user_id"))


def _revoke_tokens_on_password_change(sender, instance, created, **kwargs):
    # set_password() leaves the new password on _password until the save is done; a hash upgraded at
    # login (same password, another hasher) clears it first, and so revokes nothing.
    if created or getattr(instance, "_password", None) is None:
        return
    # Imported here: portal's base loads before the apps above it, audit among them.
    from audit.services import record_tokens_revoked

    # Listed before they go, for the access log (with the address of the request being answered, if any).
    tokens = _tokens_of(instance)
    setattr(instance, REVOKED_ATTRIBUTE, revoke_all_tokens(instance))
    record_tokens_revoked(tokens, user=instance, why="password changed")


def _log_tokens_of_deleted_user(sender, instance, **kwargs):
    # Before the cascade deletes them (the tokens go with their user, in the same transaction).
    from audit.services import record_tokens_revoked

    tokens = _tokens_of(instance)
    record_tokens_revoked(tokens, user=instance, why="user deleted")


def connect() -> None:
    post_save.connect(
        _revoke_tokens_on_password_change, sender=get_user_model(), dispatch_uid="revoke-tokens-on-password-change"
    )
    pre_delete.connect(_log_tokens_of_deleted_user, sender=get_user_model(), dispatch_uid="log-tokens-of-deleted-user")
