"""Compile a progress report now, in this process (for operators and benchmarks; the portal queues them).

The report is asked for through the service like any other: when an identical one is
already queued, that one is compiled here (a worker's delivery of it then finds it done).
"""

import resource
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from actionplan.models import FocusArea, ReportingPeriod
from steering.models import ProgressReport
from steering.reports import languages, services


class Command(BaseCommand):
    help = "Compile a progress report of a period (whole plan, or --focus-area CODE) synchronously."

    def add_arguments(self, parser):
        parser.add_argument("period", help="reporting period code, e.g. 2021-Q1")
        parser.add_argument("--focus-area", help="focus area code; the whole plan when left out")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            help="language of the PDF and XLSX: en, fr, es, ar, ru, zh-hans",
        )

    def handle(self, *args, period, focus_area, language, **options):
        if language not in languages.codes():
            raise CommandError(f"No language {language}: one of {', '.join(languages.codes())}.")
        found = ReportingPeriod.objects.select_related("plan").filter(code=period).first()
        if found is None:
            raise CommandError(f"No reporting period {period}.")
        area = None
        if focus_area:
            area = FocusArea.objects.filter(code=focus_area, plan=found.plan).first()
            if area is None:
                raise CommandError(f"No focus area {focus_area} in {found.plan.code}.")
        report, created = services.queue_report(
            plan=found.plan, period=found, focus_area=area, send=False, language=language
        )
        if not created:
            self.stdout.write(f"An identical report is already {report.state}: compiling report {report.pk}.")
        started = time.monotonic()
        outcome = services.compile_report(report_id=report.pk)
        # What this command says of it; not the frozen snapshot, some 19 MB of JSON at scale L.
        report.refresh_from_db(fields=["state", "error", "pdf", "xlsx"])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        self.stdout.write(
            f"Report {report.pk}: {outcome} in {time.monotonic() - started:.1f} s, peak memory {peak} MB"
            + (f"\n{report.error}" if report.error else f"\n{report.pdf.name}\n{report.xlsx.name}")
        )
        if outcome != ProgressReport.State.SUCCEEDED:
            raise CommandError("The report did not compile.")
