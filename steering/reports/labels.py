"""Display names of the codes a report's snapshot holds, for the PDF, the workbook and the pages."""

from django.utils.translation import gettext as _

from actionplan.models import RAG, Activity, Indicator

from ..models import ActionItem


def labels() -> dict:
    """Return the display names of the snapshot's codes, as plain strings."""

    def plain(choices):
        return {key: str(label) for key, label in choices}

    return {
        "rag": {**plain(RAG.choices), "none": _("Not yet approved")},
        "status": plain(Activity.Status.choices),
        "direction": plain(Indicator.Direction.choices),
        "item_state": plain(ActionItem.State.choices),
        "sensitivity": plain(Activity.Sensitivity.choices),
        "reporting": {"on_time": _("On time"), "late": _("Late"), "missing": _("Missing")},
    }
