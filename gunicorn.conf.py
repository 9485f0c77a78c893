"""gunicorn's settings for the portal, read by gunicorn from the directory it starts in.

gunicorn has no setting to leave out its ``Server: gunicorn`` header, which tells an attacker which
server's weaknesses to try: the response's default headers are taken here without it."""

from gunicorn.http import wsgi


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    return headers


wsgi.Response.default_headers = _without_server_header(wsgi.Response.default_headers)


def post_worker_init(worker):
    """Keep what the worker loaded at start (Django, the apps, the URL patterns: some 100,000 objects) out of
    the garbage collector's full passes: each pass would otherwise walk them all again, some 100 ms that
    fell on whichever request happened to trigger it. They live as long as the worker anyway."""
    import gc

    gc.collect()
    gc.freeze()
