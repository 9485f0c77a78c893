import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from actionplan import versions
from actionplan.models import ActionPlan, PlanVersion
from portal.management.translated import TranslatedCommand


class Command(TranslatedCommand):
    help = (
        "Record the plan as it stands now as its version 1.0, endorsed on the date given (the plan of 2018: "
        "as agreed by the steering committee in Lyon on 6 June 2018). Refused when the plan has a version "
        "already; nothing else is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", help="the plan's code (default: the current plan)")
        parser.add_argument("--endorsed-on", default="2018-06-06", help="the date of the endorsement, YYYY-MM-DD")
        parser.add_argument(
            "--endorsement",
            default="As agreed by the steering committee, Lyon, 6 June 2018",
            help="how and by whom it was endorsed",
        )

    def handle(self, *args, **options):
        plans = ActionPlan.objects.filter(code=options["plan"]) if options["plan"] else ActionPlan.objects.current()
        plan = plans.first()
        if plan is None:
            raise CommandError(_("No plan %(code)s.") % {"code": options["plan"] or ""})
        try:
            day = datetime.date.fromisoformat(options["endorsed_on"])
        except ValueError as error:
            raise CommandError(_("--endorsed-on: give a date as YYYY-MM-DD.")) from error
        existing = PlanVersion.objects.latest_of(plan).first()
        if existing is not None:
            raise CommandError(
                _("%(plan)s has version %(version)s already: nothing recorded.")
                % {"plan": plan.code, "version": existing.number}
            )
        endorsed_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        version = versions.record_version(
            plan=plan, endorsement=options["endorsement"], endorsed_at=endorsed_at, number=(1, 0)
        )
        self.stdout.write(
            _("Recorded version %(version)s of %(plan)s: %(counts)s.")
            % {
                "version": version.number,
                "plan": plan.code,
                "counts": ", ".join(f"{len(rows)} {section}" for section, rows in version.snapshot.items()),
            }
        )
