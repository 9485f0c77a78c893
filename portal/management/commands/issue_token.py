from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from audit import services as audit
from portal.errors import InvalidInput
from portal.management.translated import TranslatedCommand
from portal.tokens import issue_token


class Command(TranslatedCommand):
    help = "Create an API token for a user and print its key, alone, on standard output."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="days until the token expires (default and at most: API_TOKEN_DAYS)",
        )
        parser.add_argument("--name", default="issued from the command line", help="what the token is for")

    def handle(self, *args, username, expires_days, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("USERNAME: no user called “%(username)s”") % {"username": username})
        if not user.is_active:
            raise CommandError(_("USERNAME: user “%(username)s” is inactive") % {"username": username})
        try:
            token, key = issue_token(user=user, name=name, expires_in_days=expires_days)
        except InvalidInput as error:
            raise CommandError(f"--expires-days: {error.message}") from error
        audit.record_token(None, audit.Kind.TOKEN_CREATED, token, label=f"{token.name} (command line)")
        self.stdout.write(key)
