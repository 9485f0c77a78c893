"""The dashboard's figures kept in the cache (Redis) until any of the data behind them changes.

A write to a watched model replaces the cache generation, which every key includes, so
all cached figures are dropped at once; an update or a measurement, reported in one focus
area, replaces that area's generation only, which the keys of its part of the figures
include (``figures``); an approval, or a measurement, changes how the area's work stands but not
what was asked and received there, and replaces its standing generation only, which only that
half of the part includes; a submission (or a withdrawal, a return, a removal) of an update never
approved changes what was received there but not how the work stands, and replaces its reporting
generation only, which only the other half includes. A generation changes both at the write and
again when its transaction commits: a dashboard computed meanwhile from the data as it was before
the commit is filed under a generation that no one reads any more.

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
from django.http import Http404
from django.utils.safestring import mark_safe

from portal.cache import Generation, safely
from portal.roles import sees_whole_plan

GENERATION = Generation("dashboard:generation")
TIMEOUT = 600
# How long a request waits for another one computing the same figures before computing them itself.
COMPUTE_WAIT = 10


_AREA_GENERATIONS: dict[tuple[int, str], Generation] = {}
# The halves of an area's part (``dashboard.build_reporting``, ``build_standing``), and the generations each
# is kept under: the reporting half also under the one that submissions renew, the standing half under the one
# that approvals renew.
HALVES = {"reporting": ("area", "reporting"), "standing": ("area", "standing")}
KINDS = ("area", "reporting", "standing")


def area_generation(area_id, kind="area") -> Generation:
    """The generation of one focus area's part of the figures: renewed by the updates reported there
    (``kind`` "area"), or that of its reporting half only (``kind`` "reporting"): renewed by the submissions
    of updates never approved, or that of its standing half only (``kind`` "standing"): renewed by approvals."""
    key = (area_id, kind)
    return _AREA_GENERATIONS.get(key) or _AREA_GENERATIONS.setdefault(
        key, Generation(f"dashboard:{kind}:{area_id}:generation")
    )


def figures(filters, user) -> dict:
    """Return the figures for the filters as the user may see them, computing on a miss what is missing.

    The figures are composed of one part per focus area (``dashboard.build_parts``), each kept in two halves
    under its area's generations as well as the dashboard's: an approval drops the standing half of its own
    area's part only, and the next view computes that half and reads the rest here.
    """
    from . import dashboard

    generation = GENERATION.current()
    areas = dashboard.focus_areas(filters)
    kept = [(area.pk, kind) for area in areas for kind in KINDS]
    generations = dict(zip(kept, Generation.current_of([area_generation(*pair) for pair in kept]), strict=True))
    key = _key(filters, user, generation, generations)

    def compute(_names) -> dict:
        # Filed with the figures: what is rendered from them is filed under it too (``rendered``), what is
        # rendered from what was received alone (compliance, countries) under a key that approvals do not
        # renew, and what is rendered from the plan alone (the filters' choices) under one that no update renews.
        received = {pair: value for pair, value in generations.items() if pair[1] in HALVES["reporting"]}
        return {"figures": {**_compose(filters, user, areas, generation, generations), "cache_key": key,
                            "reporting_key": f"{_key(filters, user, generation, received)}:reporting",
                            "plan_key": _key(filters, user, generation, {}, part="plan")}}  # fmt: skip

    return _computed_once({"figures": key}, compute)["figures"]


def chosen_filters(query):
    """The dashboard's filters the query asks for, chosen among the current plan's periods and focus areas
    as read once per generation (any write to the plan, its periods or its areas renews it); 404 without a
    plan."""
    from . import dashboard

    plan, known = _current_plan(GENERATION.current())
    if plan is None:
        raise Http404("No action plan.")
    return dashboard.Filters.from_query(query, plan, known)


def _current_plan(generation: str) -> tuple:
    """The current plan and its choices (``dashboard.PlanChoices``), or ``(None, None)``, read once per generation."""
    from actionplan.models import ActionPlan

    from . import dashboard

    key = f"dashboard:{generation}:plan"
    kept = safely(cache.get, key)
    if kept is None:
        plan = ActionPlan.objects.current().first()
        kept = (plan, dashboard.PlanChoices.of(plan) if plan else None)
        safely(cache.set, key, kept, TIMEOUT)
    return kept


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
    """The figures from the halves of the areas' parts kept in the cache; the halves missing that no other
    request is computing are computed at once, the others waited for."""
    from . import dashboard

    keys = _half_keys(filters, user, areas, generation, generations)
    build = {"reporting": dashboard.build_reporting, "standing": dashboard.build_standing}

    def compute(names) -> dict:
        computed = {}
        for half, builder in build.items():
            codes = {code for code, wanted in names if wanted == half}
            if codes:
                built = builder(filters, user, [area for area in areas if area.code in codes])
                computed |= {(code, half): value for code, value in built.items()}
        return computed

    halves = _computed_once(keys, compute)
    parts = [dashboard.joined(halves[area.code, "reporting"], halves[area.code, "standing"]) for area in areas]
    return dashboard.compose(filters, parts)


def _half_keys(filters, user, areas, generation: str, generations: dict) -> dict:
    """The cache key of each half of each area's part, by (area code, half): under the generations it is
    kept under (``HALVES``), and the dashboard's."""
    return {
        (area.code, half): _key(
            filters, user, generation, {(area.pk, kind): generations[area.pk, kind] for kind in kinds}, part=half
        )
        for area in areas
        for half, kinds in HALVES.items()
    }


def rendered(figures: dict, name: str, render, of="cache_key") -> str:
    """The HTML ``render()`` makes of the figures, kept beside them under ``name`` (e.g. a language): built
    once per generation, as the figures are, instead of once per view. With ``of`` "reporting_key", HTML made
    of the reporting halves alone, kept through approvals; with "plan_key", HTML made of the plan alone, kept
    until a write to the plan (not an update's). Figures from before it was kept (or
    with no reachable cache) are rendered each time."""
    if of not in figures:
        return render()
    key = f"{figures[of]}:html:{name}"
    html = safely(cache.get, key)
    if html is None:
        html = render()
        safely(cache.set, key, str(html), TIMEOUT)
    return mark_safe(html)  # noqa: S308  # nosec B308 B703  # HTML the portal's own template rendered, escaped there


def invalidate(**_signal_arguments) -> None:
    """Drop every cached dashboard, now and again when the current transaction commits."""
    GENERATION.renew()


def invalidate_areas(area_ids, kind="area") -> None:
    """Drop the parts of these focus areas (and every dashboard showing one), now and again at the commit;
    an area unknown (``None``: a row whose activity is gone) drops every cached dashboard. With ``kind``
    "standing" or "reporting", only those halves of their parts (``invalidate_standings``,
    ``invalidate_reporting``)."""
    for area_id in set(area_ids):
        if area_id is None:
            invalidate()
        else:
            area_generation(area_id, kind).renew()


def invalidate_standings(area_ids) -> None:
    """Drop the standing halves of these areas' parts: what an approval, or a measurement, changes."""
    invalidate_areas(area_ids, kind="standing")


def invalidate_reporting(area_ids) -> None:
    """Drop the reporting halves of these areas' parts: what the submission, withdrawal, return or removal of
    an update never approved changes."""
    invalidate_areas(area_ids, kind="reporting")


def _key(filters, user, generation: str, generations: dict, part="") -> str:
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
        "areas": sorted([*pair, value] for pair, value in generations.items()),
    }
    digest = hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:32]
    return f"dashboard:{generation}:{scope}:{part or 'figures'}:{digest}"


# The states in which an update counts in a figure: received (compliance), approved (RAG, indicators).
# A draft's or a returned update's rows count in none, whatever is written in them.
COUNTED_STATES = ("submitted", "approved")
APPROVED = "approved"
# What an update received is counted by (``dashboard._reporting``): while these stay as they were, moving
# between the counted states (an approval) leaves what was received as it was.
RECEIVED_BY = ("activity_id", "office_id", "period_id", "submitted_at")
_UNKNOWN = object()


def _remember_state(instance, **signal_arguments) -> None:
    # The state the update had when read (or made), and what it is received by (its activity: an update moved
    # to another activity changes the figures of the area it leaves too); a field deferred is not read for this.
    instance._dashboard_was = {name: instance.__dict__.get(name, _UNKNOWN) for name in ("state", *RECEIVED_BY)}


def _if_counted(instance, created=False, **signal_arguments) -> None:
    # An update entering, leaving or in a counted state changes figures; saving a draft or a
    # returned update (text, measurements) does not: reporters saving them all day long,
    # however often, leave the committee's cached dashboards alone.
    was = getattr(instance, "_dashboard_was", {})
    state = was.get("state", _UNKNOWN)
    if state is _UNKNOWN or state in COUNTED_STATES or instance.state in COUNTED_STATES:
        left = was.get("activity_id", _UNKNOWN)
        if left is _UNKNOWN:
            # An update read without its activity may have left any area: every part is dropped.
            invalidate()
        elif _received_as_before(instance, was, created, signal_arguments["signal"]):
            invalidate_standings(_areas_of({instance.activity_id}))
        elif state is not _UNKNOWN and APPROVED not in (state, instance.state):
            # Approved neither before this save nor after it: what was received changes, not how the work stands.
            invalidate_reporting(_areas_of({left, instance.activity_id}))
        else:
            invalidate_areas(_areas_of({left, instance.activity_id}))
    _remember_state(instance)


def _received_as_before(instance, was: dict, created: bool, signal) -> bool:
    """Whether the update saved was received before and still is, counted as it was: an approval."""
    return (
        signal is post_save
        and not created
        and was["state"] in COUNTED_STATES
        and instance.state in COUNTED_STATES
        and all(was[name] == getattr(instance, name) for name in RECEIVED_BY)
    )


def _unless_unapproved(instance, **signal_arguments) -> None:
    # A reporter saving a draft or a returned update rewrites its measurements: no figure counts them. An
    # approved update's are counted in how its area's work stands, never in what was received there.
    from actionplan.measurements import writing_unapproved_measurements
    from actionplan.models import ProgressUpdate

    if not writing_unapproved_measurements():
        updates = ProgressUpdate.objects.filter(pk=instance.update_id)
        invalidate_standings([updates.values_list("activity__objective__focus_area_id", flat=True).first()])


def _if_any_counted(updates, **signal_arguments) -> None:
    # Updates created in bulk, which sent no model signal: new, so counted only when created submitted (what was
    # received), or approved (how the work stands too).
    submitted = {update.activity_id for update in updates if update.state in COUNTED_STATES}
    approved = {update.activity_id for update in updates if update.state == APPROVED}
    invalidate_reporting(_areas_of(submitted - approved))
    invalidate_areas(_areas_of(approved))


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
