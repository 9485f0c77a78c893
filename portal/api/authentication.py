"""API token authentication: django-rest-knox's, in one statement a call where it took four.

knox deletes the user's expired tokens whenever one of them is used: a read of all of them, on every call
a field office's system makes. Here a call checks the expiry of the token it presents alone (an expired one is
deleted and refused, as knox does), and the others are deleted by the daily purge (``purge_expired_tokens``).
The token is read with its user, the names of the user's groups and the ids of the user's offices, which every
call asks next (what may the user read and write: ``portal.roles``).

On PostgreSQL that statement is written here once, from the models' tables and columns: every API call
runs it, and building it with the ORM (a join, the groups and the offices as subqueries) took about a
millisecond of the processor a call, the twelfth part of creating an update. Who may read what is not decided
here: the roles and the visibility rules take what it read.
"""

import binascii
import functools
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from portal import roles
from portal.models import ApiToken, Membership
from portal.statements import instance_from_row


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        # knox's, but for the query.
        token = token.decode("utf-8")
        for auth_token in tokens_of_key(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
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
                if auth_token.user_office_ids is None:
                    roles.remember_membership(auth_token.user, auth_token.user_belongs_to_an_office)
                else:
                    roles.remember_offices(auth_token.user, auth_token.user_office_ids)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(_("Invalid token."))

    def _cleanup_token(self, auth_token) -> bool:
        if not auth_token.expired:
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


def tokens_of_key(key: str) -> list[ApiToken]:
    """The tokens whose key is ``key`` (the digest tells which one was presented), each with its user, the
    names of the user's groups (``_group_names``), the ids of the user's offices (``user_office_ids``; None where
    the database has no arrays) and whether the user belongs to an office (``user_belongs_to_an_office``); in
    any order."""
    if connection.vendor != "postgresql":
        # Unordered: the digest picks the token among those of its key.
        tokens = ApiToken.objects.filter(token_key=key).select_related("user").order_by()
        tokens = list(
            roles.with_group_names(tokens, "user").annotate(
                user_belongs_to_an_office=Exists(Membership.objects.filter(user=OuterRef("user")))
            )
        )
        for token in tokens:
            token.user_office_ids = None
        return tokens
    statement, token_fields, user_fields = _token_statement()
    with connection.cursor() as cursor:
        cursor.execute(statement, [key])
        rows = cursor.fetchall()
    tokens = []
    for row in rows:
        token = instance_from_row(ApiToken, token_fields, row[: len(token_fields)])
        token.user = instance_from_row(get_user_model(), user_fields, row[len(token_fields) : -2])
        token._group_names, token.user_office_ids = row[-2:]
        token.user_belongs_to_an_office = bool(token.user_office_ids)
        tokens.append(token)
    return tokens


@functools.cache
def _token_statement() -> tuple[str, list, list]:
    """The statement of ``tokens_of_key`` on PostgreSQL, and the fields its columns hold, in order.

    Every name in it is a table or column of the models, quoted; the key is its one parameter."""
    user_model, name = get_user_model(), connection.ops.quote_name
    token_fields, user_fields = ApiToken._meta.concrete_fields, user_model._meta.concrete_fields
    user_id = f"token.{name(ApiToken._meta.get_field('user').column)}"
    groups = user_model._meta.get_field("groups")
    group_table = name(groups.related_model._meta.db_table)
    user_groups = name(groups.remote_field.through._meta.db_table)
    group_id, group_user = name(groups.m2m_reverse_name()), name(groups.m2m_column_name())
    membership = name(Membership._meta.db_table)
    member, office = (name(Membership._meta.get_field(field).column) for field in ("user", "office"))
    columns = [f"token.{name(field.column)}" for field in token_fields]
    columns += [f"member.{name(field.column)}" for field in user_fields]
    statement = (
        f"SELECT {', '.join(columns)}, "  # noqa: S608  # nosec B608
        f"ARRAY(SELECT g.{name('name')} FROM {group_table} g JOIN {user_groups} ug ON g.{name('id')} = ug.{group_id} "
        f"WHERE ug.{group_user} = {user_id}), "
        f"ARRAY(SELECT m.{office} FROM {membership} m WHERE m.{member} = {user_id}) "
        f"FROM {name(ApiToken._meta.db_table)} token "
        f"JOIN {name(user_model._meta.db_table)} member ON member.{name(user_model._meta.pk.column)} = {user_id} "
        f"WHERE token.{name(ApiToken._meta.get_field('token_key').column)} = %s"
    )
    return statement, list(token_fields), list(user_fields)


class TokenScheme(KnoxTokenScheme):
    """The schema's security scheme of these tokens: knox's, under its name."""

    target_class = TokenAuthentication
