"""The base of every error a user may see. Apps subclass it; the API renders it as
`{"error": {"code", "message", "details"}}` with `status_code`."""


class DomainError(Exception):
    code = "invalid"
    status_code = 400

    def __init__(self, message: str, *, details: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class Forbidden(DomainError):
    code = "forbidden"
    status_code = 403


class LimitExceeded(DomainError):
    """A tenant limit was reached; details name the limit and when it resets."""

    code = "limit_exceeded"
    status_code = 429
