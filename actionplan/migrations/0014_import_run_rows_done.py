from django.db import migrations, models
from django.db.models import F


def rows_done(apps, schema_editor):
    """Count the rows done from the share kept so far: every row of a finished run."""
    ImportRun = apps.get_model("actionplan", "ImportRun")
    ImportRun.objects.exclude(state__in=["checking", "importing"]).update(done=F("rows"))
    ImportRun.objects.filter(state__in=["checking", "importing"]).update(done=F("rows") * F("progress") / 100)


class Migration(migrations.Migration):

    dependencies = [
        ("actionplan", "0013_import_run"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="done",
            field=models.PositiveIntegerField(default=0, verbose_name="rows done"),
        ),
        migrations.RunPython(rows_done, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(
            model_name="importrun",
            name="progress",
        ),
    ]
