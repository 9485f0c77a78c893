import datetime
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_POST
from django.views.defaults import page_not_found, permission_denied
from django.views.defaults import server_error as default_server_error

from actionplan.models import ActionPlan
from audit import services as audit

from . import home_data, languages, ratelimit
from .forms import ProfileForm, TokenForm
from .guards import refusal
from .models import ApiToken, Notification, Profile
from .notifications import mark_read
from .profiles import save_language, save_profile
from .roles import is_committee, is_officer
from .tokens import issue_token, revoke_token


@login_required
def home(request):
    """Show each role what it needs first: the review queue, what is due, or the committee's business."""
    plan = ActionPlan.objects.select_related("agreement").current().first()
    period = home_data.latest_open_period(plan)
    context = {"plan": plan, "period": period}
    if is_officer(request.user):
        context.update(home_data.for_officer(request.user, plan))
    elif is_committee(request.user):
        context.update(home_data.for_committee(plan))
    else:
        context.update(home_data.for_reporter(request.user, period))
    return render(request, "portal/home.html", context)


@login_required
@ratelimit.limit("token")
def tokens(request):
    """List the user's API tokens and create one; a new key is shown on this answer only."""
    new_key = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, new_key = issue_token(
            user=request.user, name=form.cleaned_data["name"], expires_in_days=form.cleaned_data["expires_in_days"]
        )
        audit.record_token(request, audit.Kind.TOKEN_CREATED, token)
        form = TokenForm()
    return render(
        request,
        "portal/tokens.html",
        {"form": form, "new_key": new_key, "tokens": ApiToken.objects.filter(user=request.user)},
    )


@login_required
@require_POST
def revoke(request, digest):
    token = revoke_token(user=request.user, digest=digest)
    if token is not None:
        audit.record_token(request, audit.Kind.TOKEN_REVOKED, token)
        messages.success(request, _("The token was revoked: it no longer opens the API."))
    return redirect("tokens")


@login_required
def profile(request):
    """The user's name as others see it, language, and which e-mails to receive and when."""
    # Unsaved until the form is saved (save_profile creates it): showing the page writes nothing.
    current = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = ProfileForm(request.POST or None, initial=ProfileForm.initial_for(request.user, current))
    if request.method == "POST" and form.is_valid():
        save_profile(
            user=request.user,
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            language=form.cleaned_data["language"],
            email_choices=form.email_choices(),
        )
        chosen = languages.supported(form.cleaned_data["language"])
        languages.remember(request, chosen)
        # The confirmation already speaks the language chosen (or, for none, the browser's).
        translation.activate(chosen or translation.get_language_from_request(request))
        messages.success(request, _("Your profile is saved."))
        return redirect("profile")
    return render(request, "portal/profile.html", {"form": form})


@require_POST
def switch_language(request):
    """The header's language switcher: remembered in the profile when signed in, in a cookie always.

    A code the portal does not speak switches to English rather than failing.
    """
    language = languages.supported(request.POST.get("language")) or settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        save_language(user=request.user, language=language)
    languages.remember(request, language)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/"
    translation.activate(language)
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


@login_required
def notification_list(request):
    """The user's notifications, newest first; those shown are read from now on."""
    page = Paginator(Notification.objects.filter(recipient=request.user), 30).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    # Read from now on; the page still marks them new, and the navigation counts them no more.
    mark_read(request.user, shown)
    return render(request, "portal/notifications.html", {"page": page, "shown": shown})


def security_txt(request):
    """Say where to report a vulnerability (RFC 9116); there is no such file until SECURITY_CONTACT is set."""
    if not settings.SECURITY_CONTACT:
        raise Http404("No security contact is configured.")
    # RFC 9116 asks for an expiry under a year ahead; computed on each request, it never lapses.
    expires = timezone.now().replace(microsecond=0) + datetime.timedelta(days=180)
    lines = [
        f"Contact: {settings.SECURITY_CONTACT}",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        f"Preferred-Languages: {', '.join(code for code, _name in settings.LANGUAGES)}",
        f"Canonical: {request.build_absolute_uri()}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@requires_csrf_token
def bad_request(request, exception):
    """Answer a request Django itself refused before any view (a Host not allowed, a body or a form too big,
    a suspicious operation), naming the rule but never echoing what the client sent."""
    if isinstance(exception, DisallowedHost):
        message, code = _("The portal does not answer to the host this request names."), "disallowed_host"
    elif isinstance(exception, RequestDataTooBig):
        return refusal(request, 413, _("The request body is larger than the portal accepts."), "too_large")
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message, code = _("The request holds more fields or files than any form of the portal."), "too_many_fields"
    else:
        message, code = _("The portal could not take this request."), "bad_request"
    return refusal(request, 400, message, code)


@requires_csrf_token
def forbidden(request, exception):
    """Answer a PermissionDenied that reached Django: JSON under the API, the portal's page elsewhere."""
    if request.path.startswith("/api/"):
        message = str(exception) or _("You do not have permission to perform this action.")
        return JsonResponse({"detail": message, "code": "permission_denied"}, status=403)
    return permission_denied(request, exception)


@requires_csrf_token
def csrf_failure(request, reason=""):
    """A form sent without its CSRF token, or with a stale one (CSRF_FAILURE_VIEW): the portal's page, whose
    styles are files (Django's own page styles itself inline, which the Content-Security-Policy refuses)."""
    message = _(
        "The form was sent without its security token, or with one that is out of date (the page was open "
        "for long, or you signed in elsewhere meanwhile). Go back, reload the page and send the form again."
    )
    return refusal(request, 403, message, "csrf_failed", template="403_csrf.html")


def not_found(request, exception):
    """Answer an unknown address: JSON under the API (its clients read JSON), the portal's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return page_not_found(request, exception)


# Seconds a client is asked to wait while the database is unreachable: a restart takes a few.
DATABASE_RETRY_AFTER = 10


def server_error(request):
    """Answer a failure: JSON under the API, the portal's page elsewhere; 503 while the database is unreachable."""
    # Django calls this while it handles the exception: sys.exc_info() is that exception.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return _database_unavailable(request)
    if request.path.startswith("/api/"):
        message = _("The portal failed to answer this request; it is logged. Try again later.")
        return JsonResponse({"detail": message, "code": "server_error"}, status=500)
    return default_server_error(request)


def _database_unavailable(request):
    """Tell the client the database is unreachable for now (a restart, a failover) and when to try again."""
    if request.path.startswith("/api/"):
        message = _(
            "The database is unavailable for a moment. Try again shortly; a submission sent again with the same "
            "Idempotency-Key is never saved twice."
        )
        response = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
    else:
        # Rendered without the request, as Django renders the 500 page: its context processors need the database.
        page = loader.get_template("503.html").render({"retry_after": DATABASE_RETRY_AFTER})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
