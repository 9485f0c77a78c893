"""Start a sign-in at an organisation's provider, and take its answer back (allauth's views, with our checks)."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.http import Http404
from django.views.decorators.http import require_GET, require_POST
from requests import RequestException

from portal import ratelimit

from . import services
from .adapter import refuse_unreachable
from .provider import OrganisationOAuth2Adapter


class CallbackView(OAuth2CallbackView):
    """allauth's callback, handing the sign-in's state (its nonce) to the adapter that checks the ID token."""

    def _get_state(self, request, provider):
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response


def _organisation(provider_id):
    organisation = services.configured(provider_id)
    if organisation is None:
        raise Http404
    return organisation


@require_POST
@ratelimit.limit("login")
def login(request, provider_id):
    """Send the browser to the organisation's provider (a POST from the login page's button, with its CSRF token)."""
    organisation = _organisation(provider_id)
    provider = get_adapter(request).get_provider(request, organisation.provider_id)
    try:
        return provider.redirect_from_request(request)
    except (RequestException, OAuth2Error, ValueError) as error:
        # The discovery document could not be read: the provider is down or answers nonsense.
        return refuse_unreachable(request, organisation, error)


@require_GET
@ratelimit.limit("login", methods=("GET",))
def callback(request, provider_id):
    """Take the provider's answer: check it, then sign the person in or say why not (sso.adapter)."""
    organisation = _organisation(provider_id)
    view = CallbackView.adapter_view(OrganisationOAuth2Adapter(request, organisation.provider_id))
    try:
        return view(request)
    except (RequestException, OAuth2Error, ValueError) as error:
        # allauth reads the discovery document again before its own error handling begins.
        return refuse_unreachable(request, organisation, error)
