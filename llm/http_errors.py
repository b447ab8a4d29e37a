"""What the official SDKs raise, mapped to what LLMClient acts on."""

from __future__ import annotations

from llm.base import TransientError
from llm.errors import ProviderError, ProviderMisconfigured


def retry_after_seconds(headers) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare from LLM APIs; it is ignored)."""
    if headers is None:
        return None
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return seconds / 1000 if name.endswith("-ms") else seconds
    return None


def translate(sdk, error: Exception, *, provider: str) -> Exception:
    """An SDK exception -> TransientError (retry) or a ProviderError (stop)."""
    if isinstance(error, sdk.APITimeoutError):
        return TransientError("the request timed out")
    if isinstance(error, sdk.APIConnectionError):
        return TransientError(f"could not connect ({error.__cause__ or error})")
    if isinstance(error, sdk.APIStatusError):
        status = error.status_code
        retry_after = retry_after_seconds(getattr(error.response, "headers", None))
        if status == 429:
            return TransientError("HTTP 429 rate limited", rate_limited=True, retry_after=retry_after)
        if status >= 500:
            return TransientError(f"HTTP {status} from the server", retry_after=retry_after)
        if status in (401, 403):
            return ProviderMisconfigured(
                f"{provider} refused our credentials (HTTP {status}); check LLM_API_KEY or the tenant's key."
            )
        if status == 404:
            return ProviderMisconfigured(
                f"{provider} does not know this model or URL (HTTP 404); check LLM_MODEL and LLM_BASE_URL."
            )
        return ProviderError(f"{provider} refused the request (HTTP {status}): {_short(error)}")
    return error


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 300 else text[:300] + "…"
