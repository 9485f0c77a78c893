from rest_framework.throttling import BaseThrottle

from portal import ratelimit


class UserRateThrottle(BaseThrottle):
    """Limit API calls per user, whichever of its tokens it uses, and per address for anonymous calls.

    The count is Redis's (``portal.ratelimit``): atomic, so parallel clients do not slip past it.
    """

    def scope_for(self, request, view) -> str:
        return "api" if request.user and request.user.is_authenticated else "api_anonymous"

    def allow_request(self, request, view):
        self.verdict = ratelimit.hit(self.scope_for(request, view), ratelimit.identity(request))
        return self.verdict.allowed

    def wait(self):
        return self.verdict.retry_after


class ReportRequestThrottle(UserRateThrottle):
    """Limit how many progress reports a user asks for: each costs a worker tens of seconds."""

    def scope_for(self, request, view) -> str:
        return "report"

    def allow_request(self, request, view):
        return request.method != "POST" or super().allow_request(request, view)


class ExportThrottle(UserRateThrottle):
    """Limit the exports a user asks for through the API (the IATI file): the browser's export limit, counted
    together with the browser's exports (``EXPORT_RATE``)."""

    def scope_for(self, request, view) -> str:
        return "export"
