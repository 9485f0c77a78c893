"""The dashboard's figures kept in the cache (Redis) until any of the data behind them changes.

A write to a watched model replaces the cache generation, which every key includes, so
all cached figures are dropped at once. The generation changes both at the write and
again when its transaction commits: a dashboard computed meanwhile from the data as it
was before the commit is filed under a generation that no one reads any more.

Invalidation is wired to model signals on purpose: services, the API, the admin and
the shell all write, and a signal follows every ``save`` and ``delete`` wherever it is
called. Bulk loads (``load_reference``, ``seed_demo``) invalidate explicitly, the bulk create of
updates sends a signal of its own (``actionplan.bulk.updates_created``); any other write that
sends no signal (``QuerySet.update``, raw SQL) is bounded by ``TIMEOUT``.
Without Redis the cache is per process, so only that process's writes invalidate it.
"""

import hashlib
import json
import time
import uuid

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.utils.safestring import mark_safe

from portal.cache import Generation, safely
from portal.roles import sees_whole_plan

GENERATION = Generation("dashboard:generation")
TIMEOUT = 600
# How long a request waits for another one computing the same figures before computing them itself.
COMPUTE_WAIT = 10


def figures(filters, user, compute) -> dict:
    """Return the figures for the filters as the user may see them, computing them on a miss.

    After a write, the first request takes a lock and computes the figures; those
    arriving meanwhile wait for its result instead of all running the same second-long
    aggregates at once. Should it fail, the next waiter takes the lock; should it take
    longer than ``COMPUTE_WAIT``, the lock expires and a waiter computes too.
    """
    key = _key(filters, user)
    lock, token = f"{key}:computing", uuid.uuid4().hex
    deadline = time.monotonic() + COMPUTE_WAIT
    while True:
        cached = safely(cache.get, key)
        if cached is not None:
            return cached
        # Without a reachable cache there is no one to wait for: compute at once.
        if safely(cache.add, lock, token, COMPUTE_WAIT, unavailable=True) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    try:
        # Filed with the figures: what is rendered from them is filed under it too (``rendered``).
        cached = {**compute(filters, user), "cache_key": key}
        safely(cache.set, key, cached, TIMEOUT)
    finally:
        if safely(cache.get, lock) == token:
            safely(cache.delete, lock)
    return cached


def rendered(figures: dict, name: str, render) -> str:
    """The HTML ``render()`` makes of the figures, kept beside them under ``name`` (e.g. a language): built
    once per generation, as the figures are, instead of once per view. Figures from before it was kept
    (or with no reachable cache) are rendered each time."""
    if "cache_key" not in figures:
        return render()
    key = f"{figures['cache_key']}:html:{name}"
    html = safely(cache.get, key)
    if html is None:
        html = render()
        safely(cache.set, key, str(html), TIMEOUT)
    return mark_safe(html)  # noqa: S308  # nosec B308 B703  # HTML the portal's own template rendered, escaped there


def invalidate(**_signal_arguments) -> None:
    """Drop every cached dashboard, now and again when the current transaction commits."""
    GENERATION.renew()


def _key(filters, user) -> str:
    # Everyone who sees the whole plan sees the same figures; a reporter's depend on its offices.
    scope = "plan" if sees_whole_plan(user) else f"user-{user.pk}"
    chosen = {
        "plan": filters.plan.pk,
        "period": filters.period.pk if filters.period else None,
        "focus_area": filters.focus_area.pk if filters.focus_area else None,
        "organization": filters.organization.pk if filters.organization else None,
        "region": filters.region,
        # Indicators measured against a version's targets: a version never changes, its id is enough.
        "version": filters.version.pk if filters.version else None,
    }
    digest = hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:32]
    return f"dashboard:{GENERATION.current()}:{scope}:{digest}"


# The states in which an update counts in a figure: received (compliance), approved (RAG, indicators).
# A draft's or a returned update's rows count in none, whatever is written in them.
COUNTED_STATES = ("submitted", "approved")
_UNKNOWN = object()


def _remember_state(instance, **signal_arguments) -> None:
    # The state the update had when read (or made); a deferred state is not read for this.
    instance._dashboard_state = instance.__dict__.get("state", _UNKNOWN)


def _if_counted(instance, **signal_arguments) -> None:
    # An update entering, leaving or in a counted state changes figures; saving a draft or a
    # returned update (text, measurements) does not: reporters saving them all day long,
    # however often, leave the committee's cached dashboards alone.
    was = getattr(instance, "_dashboard_state", _UNKNOWN)
    if was is _UNKNOWN or was in COUNTED_STATES or instance.state in COUNTED_STATES:
        invalidate()
    instance._dashboard_state = instance.state


def _unless_unapproved(instance, **signal_arguments) -> None:
    # A reporter saving a draft or a returned update rewrites its measurements: no figure counts them.
    from actionplan.measurements import writing_unapproved_measurements

    if not writing_unapproved_measurements():
        invalidate()


def _if_any_counted(updates, **signal_arguments) -> None:
    # Updates created in bulk, which sent no model signal: new, so counted only when created submitted.
    if any(update.state in COUNTED_STATES for update in updates):
        invalidate()


def watch_data_behind_the_figures() -> None:
    """Invalidate the cached figures on any write to the rows they are computed from."""
    from actionplan.bulk import updates_created
    from actionplan.models import (
        ActionPlan,
        Activity,
        FocusArea,
        Indicator,
        Measurement,
        Objective,
        PeriodTarget,
        PlanVersion,
        ProgressUpdate,
        ReportingPeriod,
    )
    from portal.models import Country, Membership, Office, Organization

    from .models import ActionItem

    # Plan versions: the dashboard's figures can be measured against each, and its filters offer them.
    watched = (
        ActionPlan, FocusArea, Objective, Activity, Indicator, PeriodTarget, ReportingPeriod, ProgressUpdate,
        Measurement, ActionItem, Organization, Office, Country, Membership, PlanVersion,
    )  # fmt: skip
    for model in watched:
        receiver = {ProgressUpdate: _if_counted, Measurement: _unless_unapproved}.get(model, invalidate)
        post_save.connect(receiver, sender=model, dispatch_uid=f"dashboard-save-{model._meta.label}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"dashboard-delete-{model._meta.label}")
    post_init.connect(_remember_state, sender=ProgressUpdate, dispatch_uid="dashboard-init-update")
    for relation in (Activity.implementing_offices, Activity.beneficiary_countries):
        m2m_changed.connect(invalidate, sender=relation.through, dispatch_uid=f"dashboard-m2m-{relation.field.name}")
    updates_created.connect(_if_any_counted, sender=ProgressUpdate, dispatch_uid="dashboard-bulk-updates")
