"""The logs: one line of JSON per event in production, plain readable lines in development.

Every line written while a request is served carries its ``request_id`` (also answered in the
``X-Request-ID`` header, for a user to quote) and the user's id; the Celery tasks the request
starts carry the same ``request_id`` (django-structlog passes it in the task's headers). A line
never holds a password, a token or a session key: the request is written as its method and path,
credentials in the path or the query string replaced.
"""

import re

import structlog

FORMATS = ("json", "plain")

# Added to every line, whether written through structlog or the standard library (Django, Celery).
_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# The secret parts of the portal's addresses: a password-reset link's token, a sign-in's code and state.
_SECRET_IN_PATH = re.compile(r"^(/accounts/reset/[^/]+/)(?!set-password/)[^/]+/")
_SECRET_IN_QUERY = re.compile(r"(?<=[?&])(code|state)=[^&]*")


def _request_described(logger, method_name, event_dict):
    # Django logs its errors with the request as an extra: its repr holds the whole address.
    from django.http import HttpRequest

    if isinstance(event_dict.get("request"), HttpRequest):
        event_dict["request"] = described(event_dict["request"])
    return event_dict


def formatter(kind: str) -> dict:
    """LOGGING's formatter of the given kind, for the standard library's records and structlog's alike."""
    if kind == "json":
        # A traceback's frames without their local variables: a password or a token may be one.
        tracebacks = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        render = [tracebacks, structlog.processors.JSONRenderer()]
    else:
        # Python's own traceback: rich's (structlog's default where rich is installed) takes seconds to draw
        # one and prints the frames' variables.
        render = [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": _SHARED,
        "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, _request_described, *render],
    }


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def described(request) -> str:
    """The request as a log line names it: method and address, without the secrets they may carry."""
    from .guards import REDACTED, redact_credentials

    path = _SECRET_IN_PATH.sub(r"\g<1>" + REDACTED + "/", request.get_full_path())
    path = _SECRET_IN_QUERY.sub(r"\g<1>=" + REDACTED, redact_credentials(path))
    return f"{request.method} {path}"


def _request_started(sender, request, logger, log_kwargs, **kwargs):
    from .addresses import client_address

    log_kwargs["request"] = described(request)
    structlog.contextvars.bind_contextvars(ip=client_address(request))


def _request_finished(sender, request, logger, response, log_kwargs, **kwargs):
    log_kwargs["request"] = described(request)
    response["X-Request-ID"] = structlog.contextvars.get_contextvars().get("request_id", "")


def connect() -> None:
    from django_structlog import signals

    signals.bind_extra_request_metadata.connect(_request_started)
    signals.bind_extra_request_finished_metadata.connect(_request_finished)


def format_celery_lines(logger, kind: str) -> None:
    """Celery's after_setup_logger and after_setup_task_logger: its handlers write the portal's lines too."""
    options = {name: value for name, value in formatter(kind).items() if name != "()"}
    for handler in logger.handlers:
        handler.setFormatter(structlog.stdlib.ProcessorFormatter(**options))
