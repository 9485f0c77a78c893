"""The officer's webhooks: register one, see each delivery's state and answer, resend, switch on or off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.errors import DomainError
from portal.roles import is_officer

from . import services
from .forms import WebhookForm
from .models import Delivery, Webhook

# How many of each webhook's latest deliveries the page lists.
SHOWN = 20


def _officer(request):
    if not is_officer(request.user):
        raise PermissionDenied(_("Only a programme officer registers webhooks."))


@login_required
def webhooks(request):
    """List the officer's webhooks and their latest deliveries; register one (its secret shown on this answer only)."""
    _officer(request)
    created = None
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_webhook(by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            form = WebhookForm()
    # A sliced prefetch: the latest deliveries of every webhook in one query (a window function).
    latest = Prefetch("deliveries", queryset=Delivery.objects.order_by("-id")[:SHOWN], to_attr="latest")
    hooks = Webhook.objects.visible_to(request.user).prefetch_related(latest)
    return render(request, "webhooks/webhooks.html", {"form": form, "created": created, "webhooks": hooks})


@login_required
@require_POST
def switch(request, pk):
    _officer(request)
    webhook = get_object_or_404(Webhook.objects.visible_to(request.user), pk=pk)
    active = request.POST.get("active") == "1"
    services.switch_webhook(by=request.user, webhook=webhook, active=active)
    messages.success(request, _("The webhook is switched on.") if active else _("The webhook is switched off."))
    return redirect("webhooks")


@login_required
@require_POST
def resend(request, pk):
    _officer(request)
    delivery = get_object_or_404(Delivery.objects.visible_to(request.user).select_related("webhook"), pk=pk)
    services.resend(by=request.user, delivery=delivery)
    messages.success(request, _("The event will be sent again, as a new delivery."))
    return redirect("webhooks")
