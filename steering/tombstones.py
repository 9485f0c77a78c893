"""The deletions of reports that the change feed reports (``portal.tombstones``): to officers and the
committee only, who alone read reports."""

from portal.models import Tombstone
from portal.tombstones import Key, watch

from .models import ProgressReport


def watch_deletions():
    """Connect the receiver that records the deletion of reports."""
    watch(ProgressReport, lambda report, memo: Key(Tombstone.Kind.REPORT, str(report.pk)))
