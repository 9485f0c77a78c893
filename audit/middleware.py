"""Carry the request being answered to what writes the log from deeper down (a signal, a model's save)."""

from .services import answering


class CurrentRequestMiddleware:
    """Make the request known to ``audit.services.current_request`` while it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with answering(request):
            return self.get_response(request)
