import argparse
import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from actionplan.models import ActionPlan
from portal.demo import DEFAULT_PASSWORD, SCALES, DemoDataExists, seed_demo
from portal.reference import load_reference_data


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


class Command(BaseCommand):
    help = "Load deterministic demo data (offices, users, activities, updates, meetings) on the reference data."

    def add_arguments(self, parser):
        parser.add_argument("--scale", default="S", help=f"data size: {', '.join(SCALES)} (default S)")
        parser.add_argument("--seed", default="2018", help="random seed; the same seed gives the same rows")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of every demo user")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing, successfully, when demo data is already loaded"
        )
        parser.add_argument(
            "--today",
            type=_day,
            default=None,
            help="the date the demo's reporting runs up to, YYYY-MM-DD (default: today)",
        )

    def handle(self, *args, scale, seed, password, if_empty, today, verbosity, **options):
        scale = scale.upper()
        if scale not in SCALES:
            raise CommandError(f"--scale: unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        if not seed.lstrip("-").isdigit():
            raise CommandError(f"--seed: expected a whole number, got {seed!r}")
        if not password:
            raise CommandError("--password: must not be empty")
        started = time.monotonic()
        if not ActionPlan.objects.exists():
            # The demo hangs on the agreement's plan, its areas, offices and countries: load_reference's rows.
            self.stdout.write("Reference data: not loaded yet, loading it first (as load_reference does).")
            load_reference_data()
        log = self.stdout.write if verbosity > 1 else (lambda message: None)
        try:
            counts = seed_demo(scale=scale, seed=int(seed), password=password, today=today, log=log)
        except DemoDataExists as error:
            if if_empty:
                self.stdout.write("Demo data: already loaded, nothing added.")
                return
            raise CommandError(f"{error}; load it into an empty database") from error
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Demo data (scale {scale}, seed {seed}) in {time.monotonic() - started:.1f} s: {summary}.")
