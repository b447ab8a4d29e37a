"""Errors a caller can act on, with messages a user can read."""

from config.errors import DomainError


class ProviderError(DomainError):
    code = "provider_error"
    status_code = 502


class ProviderUnavailable(ProviderError):
    """The endpoint is down, timed out, or kept failing after every retry."""

    code = "provider_unavailable"
    status_code = 503


class ProviderRateLimited(ProviderError):
    """The endpoint kept answering 429 after every retry."""

    code = "provider_rate_limited"
    status_code = 429


class BudgetExceeded(ProviderError):
    """The call would spend more tokens than the call's or the panel's budget allows."""

    code = "token_budget_exceeded"
    status_code = 429


class MalformedOutput(ProviderError):
    """The model's answer could not be read as the structure asked for, even after a repair."""

    code = "malformed_model_output"
    status_code = 502


class ProviderMisconfigured(ProviderError):
    code = "provider_misconfigured"
    status_code = 500


class ReplayMissing(ProviderError):
    """Replay was asked for a call that the recorded log does not hold."""

    code = "replay_missing"
    status_code = 500
