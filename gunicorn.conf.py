"""gunicorn's settings for the portal, read by gunicorn from the directory it starts in.

gunicorn has no setting to leave out its ``Server: gunicorn`` header, which tells an attacker which
server's weaknesses to try: the response's default headers are taken here without it."""

from gunicorn.http import wsgi


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    return headers


wsgi.Response.default_headers = _without_server_header(wsgi.Response.default_headers)
