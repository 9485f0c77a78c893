"""Every API token expires: those issued to last until revoked now expire API_TOKEN_DAYS from today."""

import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def give_every_token_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("portal", "ApiToken")
    expiry = timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS)
    ApiToken.objects.filter(expiry__isnull=True).update(expiry=expiry)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_profiles_and_notifications")]

    operations = [migrations.RunPython(give_every_token_an_expiry, migrations.RunPython.noop)]
