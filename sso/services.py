"""Decide whom an organisation's identity provider signs in: an existing account, matched by e-mail.

No account is ever created or linked here: an administrator creates accounts (with the person's
e-mail address), and single sign-on only lets that account in, recording its organisation.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import Organization, Profile
from portal.organisations import organisation_of

from .config import Organisation


class Refused(Exception):
    """A sign-in refused: ``reason`` for the access log (English), ``message`` for the person (translated)."""

    def __init__(self, reason: str, message: str, user=None):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.user = user


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the e-mail address and whether the provider verified it."""

    email: str
    email_verified: bool

    @classmethod
    def from_claims(cls, id_token: dict, userinfo: dict | None) -> "Identity":
        """Take the e-mail address from the ID token, else from the user info; verified if that source says so.

        A source that gives the same address but no flag leaves the flag to the other one.
        """
        sources = [source for source in (id_token, userinfo or {}) if source.get("email")]
        if not sources:
            return cls(email="", email_verified=False)
        email = str(sources[0]["email"]).strip()
        flags = [
            source["email_verified"]
            for source in sources
            if "email_verified" in source and str(source["email"]).strip().lower() == email.lower()
        ]
        # Some providers send the flag as the string "true".
        return cls(email=email, email_verified=bool(flags) and str(flags[0]).lower() == "true")


def configured(provider_id: str) -> Organisation | None:
    """The organisation configured under this provider id (its code in lower case), or None."""
    return next((org for org in settings.SSO_ORGANISATIONS if org.provider_id == provider_id), None)


def sign_in_user(*, organisation: Organisation, identity: Identity):
    """Return the active account the organisation's provider signs in, its organisation recorded; else refuse.

    Refused: no e-mail address, an unverified one, one outside the organisation's domains, one no active
    account uses (or several do), and an account whose organisation is another one.
    """
    code = organisation.code
    email = identity.email
    if not email or "@" not in email:
        raise Refused(
            f"{code}: the provider sent no e-mail address",
            _(
                "%(organisation)s did not send your e-mail address, by which the portal finds your account. "
                "Ask your organisation's help desk, or sign in with your password."
            )
            % {"organisation": code},
        )
    if not identity.email_verified:
        raise Refused(
            f"{code}: {email} is not verified by the provider",
            _(
                "%(organisation)s has not verified the e-mail address %(email)s. "
                "Ask your organisation's help desk, or sign in with your password."
            )
            % {"organisation": code, "email": email},
        )
    domain = email.rsplit("@", 1)[1].lower()
    if domain not in organisation.email_domains:
        raise Refused(
            f"{code}: {email} is not in the organisation's domains ({', '.join(organisation.email_domains)})",
            _(
                "%(email)s is not an e-mail address of %(organisation)s (%(domains)s). "
                "Sign in with your own organisation, or with your password."
            )
            % {"email": email, "organisation": code, "domains": ", ".join(organisation.email_domains)},
        )
    organization = Organization.objects.filter(code=code).first()
    if organization is None:
        raise Refused(
            f"{code}: no organisation of the portal has this code",
            _("%(organisation)s is not an organisation of the portal yet: ask an administrator.")
            % {"organisation": code},
        )
    users = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
    if not users:
        raise Refused(
            f"{code}: no active account uses {email}",
            _(
                "No portal account uses %(email)s. An administrator creates accounts: "
                "ask one to create yours with this e-mail address."
            )
            % {"email": email},
        )
    if len(users) > 1:
        raise Refused(
            f"{code}: several active accounts use {email}",
            _("Several portal accounts use %(email)s: ask an administrator to keep it on one account only.")
            % {"email": email},
        )
    user = users[0]
    with transaction.atomic():
        current = organisation_of(user)
        if current is not None and current != organization:
            raise Refused(
                f"{code}: the account {user.get_username()} belongs to {current.code}",
                _("Your portal account belongs to %(account_organisation)s: sign in with %(account_organisation)s.")
                % {"account_organisation": current.code},
                user=user,
            )
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        if profile.organization_id != organization.pk:
            profile.organization = organization
            profile.save(update_fields=["organization", "updated_at"])
    return user
