"""The latest approved state, kept where the pages read it.

Two tables hold what every page, the dashboard, the reports and the API would otherwise
compute per row from the approved updates:

- ``ActivityStanding``: each activity's latest approved update (RAG, percent, period) as the
  plan stood at each reporting period, ranked by ``ProgressUpdate.latest_approved_per_activity``;
- ``IndicatorFigure``: each indicator's total figure at each period, by its rule
  (``actionplan.figures``).

They change only when approved values or the rules behind them do: an update approved (or an
approved one changed or deleted by an administrator), a measurement of an approved update, an
indicator's rule, a period added or moved. Every such write, wherever it is made (the review's
domain functions, the API, the admin, the shell, the tests' factories), sends a model signal, and
the receivers below recompute the rows it touches in the same transaction: the kept state
commits with the write or not at all. Bulk loads that send no signal (``seed_demo``) call
``rebuild``, as does ``manage.py rebuild_standings``.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_init, post_save

from . import figures
from .models import (
    LATEST_UPDATE_FIRST,
    ActionPlan,
    Activity,
    ActivityStanding,
    Indicator,
    IndicatorFigure,
    Measurement,
    ProgressUpdate,
    ReportingPeriod,
)

APPROVED = ProgressUpdate.State.APPROVED


def rebuild(plans=None) -> dict:
    """Recompute every standing and figure of the plans (all when None) from scratch; say how many."""
    for plan_id in plans or ActionPlan.objects.values_list("pk", flat=True):
        refresh(plan_id=plan_id)
    return {"standings": ActivityStanding.objects.count(), "figures": IndicatorFigure.objects.count()}


@transaction.atomic
def refresh(*, plan_id, activities=None, indicators=None, points=None) -> None:
    """Recompute, at the plan's periods ``points`` (all when None), the standings of ``activities`` and the
    figures of ``indicators`` (querysets or ids; all of the plan's when None, none when empty).

    A handful of statements whatever the number of periods: it runs in the transaction of every approval.
    """
    periods = ReportingPeriod.objects.filter(plan_id=plan_id)
    if points is not None:
        periods = periods.filter(pk__in=[point.pk for point in points])
    periods = list(periods.order_by("starts_on", "pk"))
    if not periods:
        return
    if not _chosen_none(activities):
        _refresh_standings(plan_id, periods, activities)
    if not _chosen_none(indicators):
        plan_indicators = Indicator.objects.filter(
            Q(activity__objective__focus_area__plan=plan_id) | Q(objective__focus_area__plan=plan_id)
        )
        _refresh_figures(periods, plan_indicators if indicators is None else plan_indicators.filter(pk__in=indicators))


def _chosen_none(chosen) -> bool:
    # ``.none()`` or an empty list: nothing to recompute, and no query to find it out.
    if isinstance(chosen, QuerySet):
        return chosen.query.is_empty()
    return chosen is not None and not chosen


def _refresh_standings(plan_id, periods, activities) -> None:
    kept = ActivityStanding.objects.filter(as_of__in=periods)
    approved = ProgressUpdate.objects.filter(period__plan=plan_id, state=APPROVED)
    if activities is not None:
        kept = kept.filter(activity__in=activities)
        approved = approved.filter(activity__in=activities)
    kept.delete()
    try:
        chosen, params = approved.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return  # activities that can match nothing (``filter(pk__in=[])``): their standings are gone, none is new
    ranking = ", ".join(_ranking_sql(term) for term in LATEST_UPDATE_FIRST)
    tables = {
        "standing": ActivityStanding._meta.db_table,
        "update": ProgressUpdate._meta.db_table,
        "period": ReportingPeriod._meta.db_table,
    }
    points = [period.pk for period in periods]
    with connection.cursor() as cursor:
        # Each period pairs with the approved updates of periods starting by its start; the first of each
        # activity and period, in the order every other reader of "latest approved" ranks them
        # (``ProgressUpdate.latest_approved_per_activity``), is what stands at that period. A window ranks
        # them, which PostgreSQL and SQLite (``make run``'s default database) both read.
        cursor.execute(
            f"""
            INSERT INTO {tables["standing"]}
                (activity_id, as_of_id, update_id, reported_period_id, rag, percent_complete)
            SELECT activity_id, point_id, update_id, period_id, rag, percent_complete FROM (
                SELECT u.activity_id, point.id AS point_id, u.id AS update_id, u.period_id, u.rag,
                       u.percent_complete,
                       ROW_NUMBER() OVER (PARTITION BY u.activity_id, point.id ORDER BY {ranking}) AS rank
                FROM {tables["update"]} u
                JOIN {tables["period"]} reported ON reported.id = u.period_id
                JOIN {tables["period"]} point
                    ON point.id IN ({", ".join(["%s"] * len(points))}) AND reported.starts_on <= point.starts_on
                WHERE u.id IN ({chosen})
            ) ranked
            WHERE rank = 1
            """,  # noqa: S608  # nosec B608  # table names and the ORM's own SQL; values are parameters
            [*points, *params],
        )


def _ranking_sql(term) -> str:
    """``LATEST_UPDATE_FIRST``'s term in SQL over ``u`` (the update) and ``reported`` (its period)."""
    column = {"period__starts_on": "reported.starts_on"}.get(term.expression.name, f"u.{term.expression.name}")
    nulls = " NULLS LAST" if term.nulls_last else " NULLS FIRST" if term.nulls_first else ""
    return f"{column} {'DESC' if term.descending else 'ASC'}{nulls}"


def _refresh_figures(periods, indicators) -> None:
    IndicatorFigure.objects.filter(period__in=periods, indicator__in=indicators).delete()
    try:
        sql, params = figures.insert_computed_sql(indicators, periods)
    except EmptyResultSet:
        return  # indicators that can match nothing: no figure to compute
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# What changed: the receivers, connected by ``watch`` from the app's ready().


def _remember_update(instance, **_signal_arguments) -> None:
    # Whether the update counted when read: a change of an approved update (or one leaving that
    # state) changes what is kept, a draft's or a submitted update's never does.
    instance._approved_when_read = instance.__dict__.get("state") == APPROVED
    # And its activity: an approved update moved to another activity leaves what stood at the first.
    instance._activity_when_read = instance.__dict__.get("activity_id")


def _update_changed(instance, raw=False, **_signal_arguments) -> None:
    if raw or not (getattr(instance, "_approved_when_read", True) or instance.state == APPROVED):
        return
    plan_id = ReportingPeriod.objects.filter(pk=instance.period_id).values_list("plan_id", flat=True).first()
    if plan_id is not None:
        measured = list(Measurement.objects.filter(update=instance.pk).values_list("indicator", flat=True))
        was = getattr(instance, "_activity_when_read", None)
        # An update read without its activity may have left any: the plan's standings are all recomputed.
        activities = None if was is None else Activity.objects.filter(pk__in={was, instance.activity_id})
        refresh(plan_id=plan_id, activities=activities, indicators=measured)
    instance._approved_when_read = instance.state == APPROVED
    instance._activity_when_read = instance.activity_id


def _measurement_changed(instance, raw=False, **_signal_arguments) -> None:
    from .measurements import writing_unapproved_measurements

    if raw or writing_unapproved_measurements():
        return
    plan_id = (
        ProgressUpdate.objects.filter(pk=instance.update_id, state=APPROVED)
        .values_list("period__plan_id", flat=True)
        .first()
    )
    if plan_id is not None:
        refresh(plan_id=plan_id, activities=Activity.objects.none(), indicators=[instance.indicator_id])


def _indicator_saved(instance, created=False, raw=False, **_signal_arguments) -> None:
    # A new indicator has no values yet; a changed one may have a new rule.
    if raw or created:
        return
    plan_id = (
        Indicator.objects.filter(pk=instance.pk)
        .values_list(Coalesce("activity__objective__focus_area__plan", "objective__focus_area__plan"), flat=True)
        .first()
    )
    if plan_id is not None:
        refresh(plan_id=plan_id, activities=Activity.objects.none(), indicators=[instance.pk])


def _remember_period(instance, **_signal_arguments) -> None:
    instance._placed_when_read = (instance.__dict__.get("plan_id"), instance.__dict__.get("starts_on"))


def _period_saved(instance, created=False, raw=False, **_signal_arguments) -> None:
    if raw:
        return
    placed = (instance.plan_id, instance.starts_on)
    was = getattr(instance, "_placed_when_read", (None, None))
    instance._placed_when_read = placed
    if created:
        # No update is reported for it yet: only what stands at it is new, and nothing does before the
        # plan's first approval (a plan being set up, period by period).
        approved_before = ProgressUpdate.objects.filter(
            state=APPROVED, period__plan=instance.plan_id, period__starts_on__lte=instance.starts_on
        )
        if approved_before.exists():
            refresh(plan_id=instance.plan_id, points=[instance])
    elif was != placed:
        # Moved: what stands at every period may change.
        for plan_id in {instance.plan_id, was[0]} - {None}:
            refresh(plan_id=plan_id)


def watch() -> None:
    """Keep the standings and figures in step with every write that changes them."""
    post_init.connect(_remember_update, sender=ProgressUpdate, dispatch_uid="standings-init-update")
    post_save.connect(_update_changed, sender=ProgressUpdate, dispatch_uid="standings-save-update")
    post_delete.connect(_update_changed, sender=ProgressUpdate, dispatch_uid="standings-delete-update")
    post_save.connect(_measurement_changed, sender=Measurement, dispatch_uid="standings-save-measurement")
    post_delete.connect(_measurement_changed, sender=Measurement, dispatch_uid="standings-delete-measurement")
    post_save.connect(_indicator_saved, sender=Indicator, dispatch_uid="standings-save-indicator")
    post_init.connect(_remember_period, sender=ReportingPeriod, dispatch_uid="standings-init-period")
    post_save.connect(_period_saved, sender=ReportingPeriod, dispatch_uid="standings-save-period")
