"""The IATI export in the browser: the plan's file, or a focus area's or an activity's."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from actionplan.iati.serve import serve
from actionplan.iati.validation import PROBLEMS_SHOWN, InvalidExport
from portal import ratelimit
from portal.errors import DomainError, NotAllowed
from portal.guards import refusal


@login_required
@ratelimit.limit("export", methods=("GET",))
def iati_activities(request):
    """Download the IATI activity file; a refused export is a page that names each problem."""
    try:
        return serve(request, focus_area=request.GET.get("focus_area"), activity=request.GET.get("activity"))
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except InvalidExport as error:
        shown = error.problems[:PROBLEMS_SHOWN]
        context = {"message": error.message, "problems": shown, "hidden": len(error.problems) - len(shown)}
        return render(request, "actionplan/iati_refused.html", context, status=error.status)
    except DomainError as error:
        return refusal(request, error.status, error.message, error.code)
