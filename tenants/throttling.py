"""Failed sign-ins, counted per username and per client IP in the Redis cache.

The cache's keys carry the tenant's schema (django-tenants' key function), so a username
locked on one tenant says nothing about the same name on another. A window starts at the
first failure; once a count reaches its limit, even the right password is refused until
the window has passed, so guessing cannot continue at the limit's pace.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from config.errors import DomainError


class SignInThrottled(DomainError):
    code = "too_many_sign_in_failures"
    status_code = 429


def _keys(*, username: str, ip: str) -> list[tuple[str, int]]:
    # A username is whatever was typed: hashed, so a key never carries odd characters.
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"signin-failures:user:{user}", settings.LOGIN_FAILURES_PER_USER),
        (f"signin-failures:ip:{ip}", settings.LOGIN_FAILURES_PER_IP),
    ]


def signin_check(*, username: str, ip: str) -> None:
    """Raise SignInThrottled when this username or this IP has failed too often lately."""
    counts = cache.get_many([key for key, _ in _keys(username=username, ip=ip)])
    for key, limit in _keys(username=username, ip=ip):
        if counts.get(key, 0) >= limit:
            minutes = max(1, round(settings.LOGIN_FAILURE_WINDOW_S / 60))
            raise SignInThrottled(
                "Too many failed sign-ins for this account or from your network. "
                f"Wait {minutes} minutes, then try again (or ask an administrator to reset your password)."
            )


def signin_failure_record(*, username: str, ip: str) -> None:
    for key, _ in _keys(username=username, ip=ip):
        if not cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_S):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_S)


def signin_success_record(*, username: str) -> None:
    """A good sign-in clears the username's count (not the IP's: a shared office keeps its budget)."""
    cache.delete(_keys(username=username, ip="")[0][0])
