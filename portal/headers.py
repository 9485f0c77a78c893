"""Response headers that keep what a signed-in user sees out of shared and browser caches, and the
browser features the portal never uses switched off."""

from django.conf import settings

PRIVATE = "private, no-store"


def is_private(request) -> bool:
    """Tell whether the response belongs to one user: a signed-in session, or any API credentials.

    DRF authenticates a token inside the view and hands the user back to the request, so a token's
    user is known here by the time the response passes; a request that carried an Authorization
    header is private even when its token was refused."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META


class PrivateResponseMiddleware:
    """Mark every page, API answer and download for a signed-in user ``Cache-Control: private, no-store``,
    and send the ``Permissions-Policy`` with every answer.

    A page or file of a restricted activity left in a shared proxy's cache, or in the browser's cache of
    a shared office computer after signing out, would be read by the next person. The header replaces
    whatever the view set: nothing a user is shown because of who they are may be stored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_private(request):
            response["Cache-Control"] = PRIVATE
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if settings.DEBUG and response.status_code in (404, 500):
            # Django's debugging pages (DEBUG only) style themselves inline and fold their tracebacks with
            # inline scripts; under the policy a developer would get them bare. django-csp skips a response
            # so marked.
            response._csp_exempt = True
        return response
