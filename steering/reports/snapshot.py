"""Take the frozen snapshot a progress report is rendered from.

Every figure is computed here, once, from SQL aggregates and rows streamed with
``values()``: no update or measurement is ever loaded as a model instance. The PDF and
the XLSX are rendered from the snapshot alone, so they always agree, and the snapshot
can be rendered again years later to the same report.

The snapshot is plain JSON (strings, numbers, lists, objects); dates are ISO strings,
values of indicators floats with at most two decimals. Shares of a target are kept
unrounded: "on track" (100 % or more) and averages are decided on them, and only the
renderers round them for display. ``freeze`` turns a snapshot into exactly what is
stored, and the content hash is computed over that.
"""

import hashlib
import json
import math
from collections import defaultdict

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from actionplan import dimensions, figures
from actionplan.models import (
    RAG,
    Activity,
    ActivityStanding,
    FocusArea,
    Indicator,
    Objective,
    ProgressUpdate,
    ReportingPeriod,
    UpdateComment,
    VersionIndicator,
)

from ..models import ActionItem, ProgressReport
from . import compare

# 2: summary and totals count indicators as all / with_actual / on_track; shares unrounded.
# 3: indicator figures by each indicator's own rule (actionplan.figures), period targets, breakdowns.
FORMAT = 3
NARRATIVE_CHARS = 280
ActivityOffice = Activity.implementing_offices.through
# An update counts as received once submitted; the steering dashboard counts the same way.
REPORTED = (ProgressUpdate.State.SUBMITTED, ProgressUpdate.State.APPROVED)
CLOSED_ITEMS = (ActionItem.State.DONE, ActionItem.State.DROPPED)
RAG_KEYS = [*RAG.values, "none"]


def canonical(snapshot: dict) -> str:
    """Serialise the snapshot the one way its content hash is computed from."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(snapshot: dict) -> str:
    """Return the SHA-256 of the snapshot's canonical JSON."""
    return hashlib.sha256(canonical(snapshot).encode()).hexdigest()


def _normalised(value):
    """Copy a JSON value with its numbers as PostgreSQL's jsonb keeps them: no -0.0, no NaN or infinity."""
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    if isinstance(value, float):
        # jsonb has no negative zero (adding 0.0 turns -0.0 into 0.0) and refuses NaN.
        return value + 0.0 if math.isfinite(value) else None
    return value


def frozen_text(snapshot: dict) -> tuple[str, str]:
    """Return the JSON text of the snapshot exactly as it is to be stored, and the content hash of that."""
    text = canonical(_normalised(snapshot))
    return text, hashlib.sha256(text.encode()).hexdigest()


def freeze(snapshot: dict) -> tuple[dict, str]:
    """Return the snapshot exactly as it is to be stored, and the content hash of that."""
    text, digest = frozen_text(snapshot)
    return json.loads(text), digest


def _number(value):
    return None if value is None else float(value)


def _day(value):
    return value.isoformat() if value is not None else None


def take(report: ProgressReport, *, version=None) -> dict:
    """Compute the report's content from the data as it stands now; with a plan ``version``, "as endorsed at" it:
    indicators measured against that version's baselines and targets, only those it holds counted."""
    plan, period, scope = report.plan, report.period, report.focus_area
    areas = FocusArea.objects.filter(plan=plan).order_by("order", "code")
    if scope is not None:
        areas = areas.filter(pk=scope.pk)
    areas = list(areas.values("id", "code", "name", "description"))
    area_ids = [area["id"] for area in areas]
    activities = Activity.objects.filter(objective__focus_area__in=area_ids)
    sections = {
        area["code"]: {
            "code": area["code"],
            "name": area["name"],
            "description": area["description"],
            "objectives": [],
            "indicators": [],
            "activities": [],
            "reporting": [],
            "missing": [],
            "late": [],
        }
        for area in areas
    }

    for row in (
        Objective.objects.filter(focus_area__in=area_ids)
        .order_by("code")
        .values("code", "statement", area=F("focus_area__code"))
    ):
        sections[row.pop("area")]["objectives"].append(row)
    _activities(activities, period, sections)
    indicators = report_indicators(area_ids, activities)
    if version is not None:
        indicators = indicators.filter(pk__in=VersionIndicator.objects.filter(version=version).values("indicator_id"))
    _indicators(indicators, period, sections, version)
    _reporting(activities, period, sections)
    action_items = _action_items(plan, scope)

    snapshot = {
        "format": FORMAT,
        "report": str(report.pk),
        "compiled_at": timezone.now().isoformat(),
        "plan": {"code": plan.code, "title": plan.title},
        "period": {
            "code": period.code,
            "starts_on": _day(period.starts_on),
            "ends_on": _day(period.ends_on),
            "due_on": _day(period.due_on),
            "state": period.state,
        },
        "scope": {"focus_area": scope.code if scope else None, "name": scope.name if scope else None},
        "focus_areas": list(sections.values()),
        "action_items": action_items,
    }
    if version is not None:
        # The plan version whose baselines and targets the indicators are measured against (none: today's); a
        # report of today's targets holds no such key, as before versions existed.
        snapshot["version"] = {"number": version.number, "endorsed_at": version.endorsed_at.isoformat()}
    counted = figures.summary_by_area(indicators, period, version)
    snapshot["summary"] = [_area_summary(section, counted) for section in snapshot["focus_areas"]]
    snapshot["breakdowns"] = _breakdowns(indicators, period)
    snapshot["totals"] = _totals(snapshot["summary"], action_items)
    snapshot["conversations"] = _conversations(activities, period)
    snapshot["changes"] = _changes(report, snapshot)
    return snapshot


def _activities(activities, period, sections):
    """One pass over the activities, each with its latest approved update up to the period."""
    latest = {
        row.pop("activity_id"): row
        for row in ActivityStanding.objects.filter(activity__in=activities.values("pk"), as_of=period)
        .values(
            "activity_id",
            "rag",
            percent=F("percent_complete"),
            update_period=F("reported_period__code"),
            office_code=F("update__office__code"),
            excerpt=Substr("update__narrative", 1, NARRATIVE_CHARS),
        )
        .iterator(chunk_size=2_000)
    }
    rows = (
        activities.order_by("code")
        .values(
            "id",
            "code",
            "title",
            "status",
            "sensitivity",
            "planned_end",
            objective_code=F("objective__code"),
            area=F("objective__focus_area__code"),
            lead=F("lead_organization__code"),
        )
        .iterator(chunk_size=2_000)
    )
    for row in rows:
        update = latest.pop(row["id"], None) or {}
        sections[row["area"]]["activities"].append(
            {
                "code": row["code"],
                "title": row["title"],
                "objective": row["objective_code"],
                "status": row["status"],
                "sensitivity": row["sensitivity"],
                "lead": row["lead"],
                "planned_end": _day(row["planned_end"]),
                "rag": update.get("rag"),
                "percent": update.get("percent"),
                "update_period": update.get("update_period"),
                "office": update.get("office_code"),
                "narrative": update.get("excerpt") or "",
            }
        )


def report_indicators(area_ids, activities):
    """The indicators a report counts: the objectives' own and the activities' (the dashboard counts the same)."""
    return Indicator.objects.filter(Q(objective__focus_area__in=area_ids) | Q(activity__in=activities.values("pk")))


def _indicators(indicators, period, sections, version=None):
    """Each indicator with its figure for the period by its own rule, against its target for the period (as the
    plan ``version`` holds the baseline and targets, when given)."""
    found = figures.figures(indicators, [period], version=version)
    # {indicator id: (baseline, end target, its date, direction)} as the version holds them.
    endorsed = (
        {
            row[0]: row[1:]
            for row in VersionIndicator.objects.filter(version=version).values_list(
                "indicator_id", "baseline_value", "target_value", "target_date", "direction"
            )
        }
        if version is not None
        else {}
    )
    period_codes = dict(ReportingPeriod.objects.filter(plan=period.plan_id).values_list("starts_on", "code"))
    rows = (
        indicators.order_by("code")
        .values(
            "id",
            "code",
            "name",
            "unit",
            "direction",
            "measure",
            "office_rule",
            "period_rule",
            "dimensions",
            "baseline_value",
            "target_value",
            "target_date",
            objective_code=F("objective__code"),
            activity_code=F("activity__code"),
            area=Coalesce(F("objective__focus_area__code"), F("activity__objective__focus_area__code")),
        )
        .iterator(chunk_size=5_000)
    )
    for row in rows:
        if row["id"] in endorsed:
            row["baseline_value"], row["target_value"], row["target_date"], row["direction"] = endorsed[row["id"]]
        figure = found.pop((row["id"], period.pk, figures.TOTAL), None)
        sections[row["area"]]["indicators"].append(
            {
                "code": row["code"],
                "name": row["name"],
                "unit": row["unit"],
                "direction": row["direction"],
                "measure": row["measure"],
                "office_rule": row["office_rule"],
                "period_rule": row["period_rule"],
                "dimensions": row["dimensions"] or [],
                "measures": row["activity_code"] or row["objective_code"],
                "level": "activity" if row["activity_code"] else "objective",
                "baseline": _number(row["baseline_value"]),
                "target": _number(row["target_value"]),
                "target_date": _day(row["target_date"]),
                "actual": _number(figure.value) if figure else None,
                "actual_period": period_codes.get(figure.latest_reported_on) if figure else None,
                "values": figure.values if figure else 0,
                "offices": figure.offices if figure else 0,
                "carried": figure.values - figure.reported if figure else 0,
                # The target the figure was compared with: the period's own, else the end target.
                "compared_with": _number(figure.target) if figure else None,
                "target_kind": figure.target_kind if figure else None,
                # Unrounded: "on track" and averages are decided on it; the renderers round it.
                "percent_of_target": figure.share if figure else None,
                "on_track": bool(figure and figure.reached),
            }
        )


def _breakdowns(indicators, period) -> list[dict]:
    """The breakdown of each indicator broken down by a dimension, at the period, by the same rule.

    Every dimension in one query: the values that stand for the period are chosen once (on
    the totals), not once a dimension.
    """
    broken_down = {
        pk: (code, keys) for pk, code, keys in indicators.exclude(dimensions=[]).values_list("pk", "code", "dimensions")
    }
    found = figures.figures(
        Indicator.objects.filter(pk__in=list(broken_down)), [period], dimension=figures.EVERY_DIMENSION
    )
    rows = []
    for (indicator_id, _period, tagged), figure in found.items():
        key, category = tagged.split(":", 1)
        code, keys = broken_down[indicator_id]
        # Only the dimensions the indicator is broken down by now (a dimension since dropped shows no more).
        if key in dimensions.DIMENSIONS and key in keys:
            rows.append({"indicator": code, "dimension": key, "category": category, "value": _number(figure.value)})
    return sorted(rows, key=lambda row: (row["indicator"], row["dimension"], row["category"]))


def _reporting(activities, period, sections):
    """Per office: updates expected in the period, received on time, late, missing; and which."""
    in_period = ProgressUpdate.objects.filter(
        activity=OuterRef("activity_id"), office=OuterRef("office_id"), period=period, state__in=REPORTED
    )
    pairs = (
        ActivityOffice.objects.filter(activity__in=activities.values("pk"))
        .annotate(received=Exists(in_period), submitted_at=Subquery(in_period.values("submitted_at")[:1]))
        .order_by("office__code", "activity__code")
        .values(
            "received",
            "submitted_at",
            activity_code=F("activity__code"),
            office_code=F("office__code"),
            office_name=F("office__name"),
            area=F("activity__objective__focus_area__code"),
        )
        .iterator(chunk_size=5_000)
    )
    counts = defaultdict(lambda: {"expected": 0, "on_time": 0, "late": 0, "missing": 0})
    for pair in pairs:
        section = sections[pair["area"]]
        office = counts[(pair["area"], pair["office_code"], pair["office_name"])]
        office["expected"] += 1
        if not pair["received"]:
            office["missing"] += 1
            section["missing"].append({"activity": pair["activity_code"], "office": pair["office_code"]})
            continue
        submitted = pair["submitted_at"]
        if submitted is not None and timezone.localtime(submitted).date() <= period.due_on:
            office["on_time"] += 1
        else:
            office["late"] += 1
            section["late"].append(
                {
                    "activity": pair["activity_code"],
                    "office": pair["office_code"],
                    "submitted_on": _day(timezone.localtime(submitted).date()) if submitted else None,
                }
            )
    for (area, code, name), office_counts in counts.items():
        sections[area]["reporting"].append({"office": code, "name": name, **office_counts})


def _conversations(activities, period) -> list[dict]:
    """Every message on the period's updates of these activities, in order: returns, replies, approvals."""
    return [
        {
            "activity": row["update__activity__code"],
            "office": row["update__office__code"],
            "at": row["created_at"].isoformat(),
            "author": " ".join(filter(None, (row["author__first_name"], row["author__last_name"])))
            or row["author__username"],
            "kind": row["kind"],
            "version": row["version"],
            "text": row["text"],
        }
        for row in UpdateComment.objects.filter(update__activity__in=activities.values("pk"), update__period=period)
        .order_by("update__activity__code", "update__office__code", "created_at", "pk")
        .values(
            "update__activity__code",
            "update__office__code",
            "created_at",
            "author__first_name",
            "author__last_name",
            "author__username",
            "kind",
            "version",
            "text",
        )  # fmt: skip
        .iterator(chunk_size=2_000)
    ]


def _action_items(plan, scope) -> list[dict]:
    """Open and overdue action items of the committee (of the focus area's decisions, for one area)."""
    today = timezone.localdate()
    items = ActionItem.objects.filter(meeting__committee__plan=plan).exclude(state__in=CLOSED_ITEMS)
    if scope is not None:
        items = items.filter(decision__focus_area=scope)
    return [
        {
            "meeting": _day(row["meeting__date"]),
            "description": row["description"],
            "owner": row["owner_user__username"] or row["owner_office__code"] or "",
            "due_on": _day(row["due_on"]),
            "state": row["state"],
            "overdue": row["due_on"] < today,
        }
        for row in items.order_by("due_on", "pk").values(
            "meeting__date", "description", "owner_user__username", "owner_office__code", "due_on", "state"
        )
    ]


def _area_summary(section: dict, counted: dict) -> dict:
    status = dict.fromkeys(Activity.Status.values, 0)
    rag = dict.fromkeys(RAG_KEYS, 0)
    for activity in section["activities"]:
        status[activity["status"]] += 1
        rag[activity["rag"] or "none"] += 1
    reporting = {
        key: sum(row[key] for row in section["reporting"]) for key in ("expected", "on_time", "late", "missing")
    }
    return {
        "code": section["code"],
        "name": section["name"],
        "activities": len(section["activities"]),
        "status": status,
        "rag": rag,
        # all: every indicator of the area (objectives' and activities'); with_actual: those with a
        # figure for the period; on_track: those that reached their target; average_percent: the
        # mean share of the target reached. Aggregated in SQL by the rule the dashboard counts with.
        "indicators": counted.get(
            section["code"], {"all": 0, "with_actual": 0, "on_track": 0, "average_percent": None}
        ),
        "reporting": reporting,
    }


def _totals(summary: list[dict], action_items: list[dict]) -> dict:
    def add(key, inner):
        return {name: sum(row[key][name] for row in summary) for name in inner}

    return {
        "activities": sum(row["activities"] for row in summary),
        "status": add("status", Activity.Status.values),
        "rag": add("rag", RAG_KEYS),
        "indicators": add("indicators", ("all", "with_actual", "on_track")),
        "reporting": add("reporting", ("expected", "on_time", "late", "missing")),
        "open_action_items": len(action_items),
        "overdue_action_items": sum(1 for item in action_items if item["overdue"]),
    }


def _changes(report: ProgressReport, snapshot: dict) -> dict:
    """Compare with the previous succeeded report of the same plan and scope.

    The previous report is of the latest period not after this one's: an earlier period,
    or this same period compiled before (then the latest such). A report of an earlier
    period compiled afterwards never compares with a later period's.
    """
    previous = (
        ProgressReport.objects.filter(
            Q(period__starts_on__lt=report.period.starts_on) | Q(period=report.period_id),
            plan=report.plan_id,
            focus_area=report.focus_area_id,
            state=ProgressReport.State.SUCCEEDED,
        )
        .exclude(pk=report.pk)
        .order_by("-period__starts_on", "-finished_at")
        .values("pk", "snapshot", "content_hash", "finished_at", "period__code")
        .first()
    )
    if previous is None:
        return {"previous": None, **compare.empty()}
    return {
        "previous": {
            "report": str(previous["pk"]),
            "period": previous["period__code"],
            "compiled_at": previous["snapshot"]["compiled_at"],
            "content_hash": previous["content_hash"],
        },
        **compare.diff(previous["snapshot"], snapshot),
    }
