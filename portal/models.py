"""Organisations, countries, offices and who belongs to which office."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from . import countries


class TimeStampedModel(models.Model):
    """Record when a row was created and last changed (``updated_since`` syncs use the latter)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    """The Django groups that grant the portal's roles."""

    PROGRAMME_OFFICER = "programme_officer", _("Programme officer")
    FIELD_REPORTER = "field_reporter", _("Field reporter")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    COMMITTEE_SECRETARY = "committee_secretary", _("Committee secretary")


class Organization(TimeStampedModel):
    """Hold a party to the agreement, a partner or a donor."""

    class Kind(models.TextChoices):
        PARTY = "party", _("Party to the agreement")
        PARTNER = "partner", _("Partner")
        DONOR = "donor", _("Donor")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PARTNER)

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation")

    def __str__(self):
        return self.code


class CountryQuerySet(models.QuerySet):
    def office_regions(self) -> list[tuple[str, str]]:
        """The UN M49 regions where an office sits (the dashboard's and register's region choices): each as
        its stored English name, which filters send, and its name in the active language, sorted by the latter."""
        rows = (
            self.filter(offices__isnull=False)
            .values("region")
            # One code per region; a country loaded without one (a made-up one) names its region as stored.
            .annotate(code=models.Max("region_code"))
            .values_list("region", "code")
            .order_by()
        )
        named = [(region, countries.region_name(code, default=region)) for region, code in rows]
        return sorted(named, key=lambda choice: countries.name_key(choice[1]))


class Country(TimeStampedModel):
    """Hold an ISO 3166-1 country with its UN M49 region."""

    iso3 = models.CharField(_("ISO 3166-1 alpha-3"), max_length=3, unique=True)
    iso2 = models.CharField(_("ISO 3166-1 alpha-2"), max_length=2, unique=True)
    m49 = models.CharField(_("UN M49 code"), max_length=3, blank=True)
    name = models.CharField(_("name"), max_length=200)
    # The region's English name as the UN gives it, which filters and the API use; its code names it
    # in each language (portal.countries).
    region = models.CharField(_("UN M49 region"), max_length=64, db_index=True)
    # A default in the database too: code that predates the column (a release still running during the
    # migration, older migrations' models) inserts countries without it.
    region_code = models.CharField(_("UN M49 region code"), max_length=3, blank=True, db_default="")
    continent = models.CharField(_("continent"), max_length=32)

    objects = CountryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(condition=models.Q(iso3__regex=r"^[A-Z]{3}$"), name="country_iso3_upper_alpha3"),
            models.CheckConstraint(
                condition=models.Q(region_code__regex=r"^([0-9]{3})?$"), name="country_region_code_m49"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """The country's name in the active language (CLDR's), or its stored name where CLDR has none."""
        return countries.country_name(self.iso2, default=self.name)

    @property
    def region_name(self) -> str:
        """The country's UN M49 region named in the active language, or as stored where it has no code."""
        return countries.region_name(self.region_code, default=self.region)


class Office(TimeStampedModel):
    """Hold an office that implements activities or reports on them."""

    class Kind(models.TextChoices):
        HEADQUARTERS = "headquarters", _("Headquarters")
        REGIONAL_OFFICE = "regional_office", _("Regional office")
        COUNTRY_OFFICE = "country_office", _("Country office")
        LIAISON_OFFICE = "liaison_office", _("Liaison office")
        NATIONAL_CENTRAL_BUREAU = "ncb", _("National Central Bureau")
        REGIONAL_BUREAU = "regional_bureau", _("Regional bureau")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="offices", verbose_name=_("organisation")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    country = models.ForeignKey(Country, models.PROTECT, related_name="offices", verbose_name=_("country"))
    city = models.CharField(_("city"), max_length=100, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="offices", verbose_name=_("members")
    )

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def is_headquarters(self) -> bool:
        return self.kind == self.Kind.HEADQUARTERS


class Membership(TimeStampedModel):
    """Attach a user to an office, with the part the user plays there."""

    class OfficeRole(models.TextChoices):
        REPORTER = "reporter", _("Reporter")
        FOCAL_POINT = "focal_point", _("Focal point")
        HEAD = "head", _("Head of office")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    office = models.ForeignKey(Office, models.CASCADE, related_name="memberships", verbose_name=_("office"))
    role = models.CharField(_("role"), max_length=16, choices=OfficeRole.choices, default=OfficeRole.REPORTER)

    class Meta:
        ordering = ["office__code", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "office"], name="membership_unique_user_office"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.office.code} ({self.get_role_display()})"


class HealthPing(models.Model):
    """Record that a Celery worker ran the health-ping task."""

    note = models.CharField(_("note"), max_length=200, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return (
            f"ping {self.note or self.pk} by {self.worker or 'unknown worker'} at {self.created_at:%Y-%m-%d %H:%M:%S}"
        )


class ApiToken(AbstractAuthToken):
    """Hold a user's API token, hashed (django-rest-knox), with a name to recognise it by."""

    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")

    def __str__(self):
        return f"{self.name} ({self.token_key}…) of {self.user}"

    @property
    def expired(self) -> bool:
        """Whether the token is past its expiry: refused, and deleted when presented or by the daily purge."""
        return self.expiry is not None and self.expiry < timezone.now()


class IdempotencyKey(models.Model):
    """Remember the first successful answer to a POST sent with an ``Idempotency-Key``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("user"))
    key = models.CharField(_("key"), max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    body = models.JSONField(_("response body"), null=True)
    headers = models.JSONField(_("response headers"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self):
        return f"{self.key} of {self.user_id}"


class Profile(TimeStampedModel):
    """Keep a user's preferences: the language of the portal, and which e-mails to receive and when."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    # Set by single sign-on or an administrator; when empty, the organisation of the user's offices
    # stands (portal.organisations.organisation_of).
    organization = models.ForeignKey(
        Organization,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="profiles",
        verbose_name=_("organisation"),
    )
    language = models.CharField(_("preferred language"), max_length=8, blank=True, choices=settings.LANGUAGES)
    # Per kind of notification (portal.notifications.KINDS): "immediate", "daily" or "none".
    email_choices = models.JSONField(_("e-mails to receive"), default=dict, blank=True)

    def __str__(self):
        return f"Profile of {self.user}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Tell a user of an event in the portal: listed in the portal, and e-mailed as the user chose."""

    class Delivery(models.TextChoices):
        NOW = "now", _("E-mailed at once")
        HOURLY = "hourly", _("E-mailed within the hour, with others")
        DAILY = "daily", _("E-mailed in the daily digest")
        NONE = "none", _("Not e-mailed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=32)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    # A path in the portal, e.g. /updates/<id>/.
    url = models.CharField(_("link"), max_length=300, blank=True)
    # How it is e-mailed, as the recipient chose when it was made.
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["delivery", "emailed_at"], name="notification_to_email_idx"),
        ]

    def __str__(self):
        return f"{self.subject} → {self.recipient}"


class EmailFailure(models.Model):
    """Record that an e-mail did not go (the mail server refused it or was down), for the metrics.

    Workers send the e-mails and web nodes answer /metrics: a row, unlike a counter in the worker's
    memory, is seen from every node. Rows older than ``KEEP`` are removed when a new one is written.
    """

    KEEP = datetime.timedelta(days=7)

    # The notification's delivery (now, hourly, daily) or the scheduled job's kind (steering.SentNotification).
    kind = models.CharField(_("kind"), max_length=32)
    failed_at = models.DateTimeField(_("failed at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-failed_at"]
        verbose_name = _("e-mail failure")
        verbose_name_plural = _("e-mail failures")

    def __str__(self):
        return f"{self.kind} e-mail not sent at {self.failed_at:%Y-%m-%d %H:%M:%S}"


class TombstoneQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the deletions of rows the user could read when they were deleted.

        As the rows' own ``visible_to``: officers and the committee learn of every deletion; anyone
        signed in, of the rows every signed-in user reads (focus areas, periods, offices, objectives'
        indicators); a field reporter, besides, of an activity or an activity's indicator one of its
        offices implemented, and of an update (or its file) of one of its offices on such an activity.
        """
        from .roles import sees_whole_plan

        if sees_whole_plan(user):
            return self
        if not user.is_authenticated:
            return self.none()
        implemented_by_users_office = Tombstone.activity_offices.through.objects.filter(
            tombstone=models.OuterRef("pk"), office__memberships__user=user
        )
        # An update's (or its file's) office must be the user's too; one whose office is gone, nobody's.
        of_users_office = models.Exists(Membership.objects.filter(office=models.OuterRef("office"), user=user))
        own_office = ~models.Q(kind__in=Tombstone.OF_AN_OFFICE) | models.Q(of_users_office)
        return self.filter(
            models.Q(everyone=True) | (models.Q(models.Exists(implemented_by_users_office)) & own_office)
        )


class Tombstone(models.Model):
    """Record that a row the API lists was deleted, so that a partner's copy can delete it too.

    Written by the ``post_delete`` receivers of ``actionplan.tombstones`` and
    ``steering.tombstones``, in the transaction of the delete; kept ``TOMBSTONE_DAYS`` days.
    Who may learn of it is decided by what the row was when deleted: ``everyone`` (any signed-in
    user read it), else the offices that implemented its activity (``activity_offices``) and, for
    an update or its file, the update's ``office``.
    """

    class Kind(models.TextChoices):
        ACTIVITY = "activity", _("Activity")
        INDICATOR = "indicator", _("Indicator")
        UPDATE = "update", _("Update")
        EVIDENCE = "evidence", _("Evidence")
        FOCUS_AREA = "focus_area", _("Focus area")
        PERIOD = "period", _("Reporting period")
        OFFICE = "office", _("Office")
        REPORT = "report", _("Progress report")

    # The kinds a field reporter reads only when they are of one of its offices.
    OF_AN_OFFICE = (Kind.UPDATE, Kind.EVIDENCE)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The row's key as the API shows it: a code, or an id.
    identifier = models.CharField(_("identifier"), max_length=64)
    deleted_at = models.DateTimeField(_("deleted at"), db_index=True)
    everyone = models.BooleanField(_("any signed-in user read it"), default=False)
    office = models.ForeignKey(
        Office, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("office")
    )
    activity_offices = models.ManyToManyField(
        Office, blank=True, related_name="+", verbose_name=_("offices implementing the activity")
    )

    objects = TombstoneQuerySet.as_manager()

    class Meta:
        ordering = ["deleted_at", "id"]

    def __str__(self):
        return f"{self.kind} {self.identifier} deleted at {self.deleted_at:%Y-%m-%d %H:%M}"
