"""The dashboard's figures kept in the cache (Redis) until any of the data behind them changes.

A write to a watched model replaces the cache generation, which every key includes, so
all cached figures are dropped at once; an update or a measurement, reported in one focus
area, replaces that area's generation only, which the keys of its part of the figures
include (``figures``). A generation changes both at the write and again when its transaction
commits: a dashboard computed meanwhile from the data as it was before the commit is filed
under a generation that no one reads any more.

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


_AREA_GENERATIONS: dict[int, Generation] = {}


def area_generation(area_id) -> Generation:
    """The generation of one focus area's part of the figures: renewed by the updates reported there."""
    return _AREA_GENERATIONS.get(area_id) or _AREA_GENERATIONS.setdefault(
        area_id, Generation(f"dashboard:area:{area_id}:generation")
    )


def figures(filters, user) -> dict:
    """Return the figures for the filters as the user may see them, computing on a miss what is missing.

    The figures are composed of one part per focus area (``dashboard.build_parts``), each kept under its
    area's generation as well as the dashboard's: an approval drops the part of its own area only, and the
    next view computes that one part and reads the others here.
    """
    generation = GENERATION.current()
    areas = _focus_areas(filters, generation)
    generations = dict(
        zip(
            [area.pk for area in areas],
            Generation.current_of([area_generation(area.pk) for area in areas]),
            strict=True,
        )
    )
    key = _key(filters, user, generation, generations)

    def compute(_names) -> dict:
        # Filed with the figures: what is rendered from them is filed under it too (``rendered``).
        return {"figures": {**_compose(filters, user, areas, generation, generations), "cache_key": key}}

    return _computed_once({"figures": key}, compute)["figures"]


def _focus_areas(filters, generation: str) -> list:
    """The focus areas shown (``dashboard.focus_areas``), read once per generation: any write to them renews it."""
    from . import dashboard

    if filters.focus_area:
        return [filters.focus_area]
    key = f"dashboard:{generation}:areas:{filters.plan.pk}"
    areas = safely(cache.get, key)
    if areas is None:
        areas = dashboard.focus_areas(filters)
        safely(cache.set, key, areas, TIMEOUT)
    return areas


def _computed_once(keys: dict, compute) -> dict:
    """The values kept under ``keys`` (a name's cache key, by name), each computed by one request at a time.

    A request takes the lock of each value missing that no other request is computing, and computes those
    at once (``compute(names)`` gives them by name); the values other requests are computing it waits for,
    instead of running the same aggregates again. Should one of those fail, the next waiter takes its lock;
    should it take longer than ``COMPUTE_WAIT``, the lock expires and a waiter computes it too.
    """
    found, waiting = {}, dict(keys)
    token, deadline = uuid.uuid4().hex, time.monotonic() + COMPUTE_WAIT
    while waiting:
        kept = safely(cache.get_many, list(waiting.values()), unavailable={})
        found |= {name: kept[key] for name, key in waiting.items() if key in kept}
        waiting = {name: key for name, key in waiting.items() if name not in found}
        if not waiting:
            break
        # Without a reachable cache there is no one to wait for: everything is computed at once.
        late = time.monotonic() > deadline
        taken = {
            name: key
            for name, key in waiting.items()
            if late or safely(cache.add, f"{key}:computing", token, COMPUTE_WAIT, unavailable=True)
        }
        if not taken:
            time.sleep(0.05)
            continue
        try:
            computed = compute(list(taken))
            safely(cache.set_many, {taken[name]: value for name, value in computed.items()}, TIMEOUT)
        finally:
            for key in taken.values():
                if safely(cache.get, f"{key}:computing") == token:
                    safely(cache.delete, f"{key}:computing")
        found |= computed
        waiting = {name: key for name, key in waiting.items() if name not in taken}
    return found


def _compose(filters, user, areas, generation, generations) -> dict:
    """The figures from the areas' parts kept in the cache; the parts missing that no other request is
    computing are computed at once, the others waited for."""
    from . import dashboard

    keys = {area.code: _key(filters, user, generation, {area.pk: generations[area.pk]}, part=True) for area in areas}
    parts = _computed_once(
        keys, lambda codes: dashboard.build_parts(filters, user, [area for area in areas if area.code in codes])
    )
    return dashboard.compose(filters, [parts[area.code] for area in areas])


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


def invalidate_areas(area_ids) -> None:
    """Drop the parts of these focus areas (and every dashboard showing one), now and again at the commit;
    an area unknown (``None``: a row whose activity is gone) drops every cached dashboard."""
    for area_id in set(area_ids):
        if area_id is None:
            invalidate()
        else:
            area_generation(area_id).renew()


def _key(filters, user, generation: str, generations: dict, part=False) -> str:
    # Everyone who sees the whole plan sees the same figures; a reporter's depend on its offices.
    scope = "plan" if sees_whole_plan(user) else f"user-{user.pk}"
    chosen = {
        "plan": filters.plan.pk,
        "period": filters.period.pk if filters.period else None,
        # A part is one area's whatever area is chosen: the whole plan and one area's dashboard share it.
        "focus_area": None if part else filters.focus_area.pk if filters.focus_area else None,
        "organization": filters.organization.pk if filters.organization else None,
        "region": filters.region,
        # Indicators measured against a version's targets: a version never changes, its id is enough.
        "version": filters.version.pk if filters.version else None,
        "areas": sorted(generations.items()),
    }
    digest = hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:32]
    return f"dashboard:{generation}:{scope}:{'part' if part else 'figures'}:{digest}"


# The states in which an update counts in a figure: received (compliance), approved (RAG, indicators).
# A draft's or a returned update's rows count in none, whatever is written in them.
COUNTED_STATES = ("submitted", "approved")
_UNKNOWN = object()


def _remember_state(instance, **signal_arguments) -> None:
    # The state the update had when read (or made); a deferred state is not read for this.
    instance._dashboard_state = instance.__dict__.get("state", _UNKNOWN)
    # And its activity: an update moved to another activity changes the figures of the area it leaves too.
    instance._dashboard_activity = instance.__dict__.get("activity_id")


def _if_counted(instance, **signal_arguments) -> None:
    # An update entering, leaving or in a counted state changes figures; saving a draft or a
    # returned update (text, measurements) does not: reporters saving them all day long,
    # however often, leave the committee's cached dashboards alone.
    was = getattr(instance, "_dashboard_state", _UNKNOWN)
    if was is _UNKNOWN or was in COUNTED_STATES or instance.state in COUNTED_STATES:
        # An update read without its activity may have left any area: every part is dropped.
        left = getattr(instance, "_dashboard_activity", None)
        invalidate_areas([None] if left is None else _areas_of({left, instance.activity_id}))
    instance._dashboard_state = instance.state
    instance._dashboard_activity = instance.activity_id


def _unless_unapproved(instance, **signal_arguments) -> None:
    # A reporter saving a draft or a returned update rewrites its measurements: no figure counts them.
    from actionplan.measurements import writing_unapproved_measurements
    from actionplan.models import ProgressUpdate

    if not writing_unapproved_measurements():
        updates = ProgressUpdate.objects.filter(pk=instance.update_id)
        invalidate_areas([updates.values_list("activity__objective__focus_area_id", flat=True).first()])


def _if_any_counted(updates, **signal_arguments) -> None:
    # Updates created in bulk, which sent no model signal: new, so counted only when created submitted.
    invalidate_areas(_areas_of({update.activity_id for update in updates if update.state in COUNTED_STATES}))


def _areas_of(activity_ids) -> list:
    """The focus areas of the activities (``None`` for an activity not found: gone, or deleted with it)."""
    from actionplan.models import Activity

    ids = set(activity_ids) - {None}
    found = dict(Activity.objects.filter(pk__in=ids).values_list("pk", "objective__focus_area_id")) if ids else {}
    return [found.get(activity_id) for activity_id in set(activity_ids)]


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
