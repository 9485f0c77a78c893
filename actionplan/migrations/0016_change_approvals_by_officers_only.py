"""Change approvals are an officer's of the other organisation only: the co-chairs sign through steering.signoff.

The co-chairs' approvals of this table (a ``seat``, no organisation) had no data to carry over when the
co-chairs' path moved onto the sign-off (the demo makes none, and none were recorded): rather than drop
such rows silently, the migration stops and names them, to be turned into sign-off rounds by hand.
"""

import django.db.models.deletion
from django.db import migrations, models


def refuse_co_chair_approvals(apps, schema_editor):
    ChangeApproval = apps.get_model("actionplan", "ChangeApproval")
    found = list(ChangeApproval.objects.exclude(seat="").values_list("change_id", flat=True).distinct())
    found += list(ChangeApproval.objects.filter(organization__isnull=True).values_list("change_id", flat=True))
    if found:
        raise RuntimeError(
            "Co-chair approvals of change requests %s are recorded as approvals, not as sign-off rounds: "
            "record them as rounds of steering.signoff, then migrate again." % sorted(set(found))
        )


class Migration(migrations.Migration):
    dependencies = [
        ("actionplan", "0015_plan_versions_and_change_requests"),
        ("portal", "0009_email_failures"),
    ]

    operations = [
        migrations.RunPython(refuse_co_chair_approvals, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="changeapproval",
            name="change_approval_once_per_seat",
        ),
        migrations.RemoveField(
            model_name="changeapproval",
            name="seat",
        ),
        migrations.AlterField(
            model_name="changeapproval",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="portal.organization",
                verbose_name="organisation",
            ),
        ),
    ]
