"""Errors raised by domain functions when a rule refuses a change.

Each names the rule (``code``) and, where one field is at fault, the field. The API
answers them with ``status``; pages show the message beside the field.
"""


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class InvalidInput(DomainError):
    status, code = 400, "invalid"


class NeedsConfirmation(DomainError):
    """Refuse a change until the user confirms the warnings it raised (``extra["warnings"]``)."""

    status, code = 400, "needs_confirmation"


class NotAllowed(DomainError):
    status, code = 403, "not_allowed"


class PeriodLocked(DomainError):
    status, code = 409, "period_locked"


class WrongState(DomainError):
    status, code = 409, "wrong_state"


class AlreadyExists(DomainError):
    status, code = 409, "already_exists"


class StaleVersion(DomainError):
    status, code = 412, "stale_version"


class FileTooLarge(DomainError):
    status, code = 413, "too_large"


class UnsupportedFileType(DomainError):
    status, code = 415, "unsupported_file_type"


class IdempotencyKeyReused(DomainError):
    status, code = 422, "idempotency_key_reused"


class PreconditionRequired(DomainError):
    status, code = 428, "precondition_required"


class ResyncRequired(DomainError):
    """Refuse to answer changes from before what the portal still remembers: the client must read everything again."""

    status, code = 410, "resync_required"
