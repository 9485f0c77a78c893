"""Display names of the codes a report's snapshot holds, for the PDF, the workbook and the pages."""

from django.utils.translation import gettext as _

from actionplan.models import RAG, Activity, Indicator, Measurement, UpdateComment

from ..models import ActionItem


def labels() -> dict:
    """Return the display names of the snapshot's codes, as plain strings."""

    def plain(choices):
        return {key: str(label) for key, label in choices}

    return {
        "rag": {**plain(RAG.choices), "none": _("Not yet approved")},
        "status": plain(Activity.Status.choices),
        "direction": plain(Indicator.Direction.choices),
        "measure": plain(Indicator.Measure.choices),
        "office_rule": plain(Indicator.OfficeRule.choices),
        "period_rule": plain(Indicator.PeriodRule.choices),
        "target_kind": {"period": _("the period's target"), "end": _("the end target")},
        "dimension": {"sex": _("Sex"), "age": _("Age band"), "country": _("Country")},
        "comment_kind": plain(UpdateComment.Kind.choices),
        # Categories of breakdowns that have a display name (sex); age bands and country codes show as they are.
        "category": plain(choice for choice in Measurement.Sex.choices if choice[0]),
        "item_state": plain(ActionItem.State.choices),
        "sensitivity": plain(Activity.Sensitivity.choices),
        "reporting": {"on_time": _("On time"), "late": _("Late"), "missing": _("Missing")},
    }
