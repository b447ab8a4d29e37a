"""API rate limits, from the tenant's configuration: `limits.api_requests_per_minute` for
all of the tenant's users and tokens together, `limits.api_requests_per_minute_per_user`
for each user. TenantAPIView applies both (the user's first); the first reached refuses
the request with 429 `throttled` and `Retry-After`.

Signed-out requests (only `auth/token/` lets them past authentication; every other
endpoint answers 401 first) are counted per client address at the per-user rate and not
in the tenant's count, so strangers cannot use up the budget of the tenant's own users.
The address is DRF's `get_ident` (REMOTE_ADDR; X-Forwarded-For only behind the
NUM_PROXIES proxies of settings.REST_FRAMEWORK).

The counters are in the default cache (Redis, shared by every process). Its keys carry the
schema of the request's tenant (django-tenants' key function, config/settings.py CACHES),
so acme's counters and globex's never share a key, even for user 1 of each.

Counting is one counter per key and clock minute, raised atomically in Redis (add, then
incr). DRF's SimpleRateThrottle keeps a list of timestamps per key instead, read and
written back whole on every request: for a tenant-wide key at thousands of requests a
minute that is a large value each time, and concurrent requests overwrite each other's
entries. The price of a fixed window: a client may send up to twice the rate across the
turn of a minute.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from config.errors import DomainError

PERIOD_SECONDS = 60


class APIThrottled(DomainError):
    code = "throttled"
    status_code = 429


def _count(key: str) -> int:
    """Add one to the counter at `key` and return it (the first request of a window makes it)."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        # It outlives its window by a period: Django's incr checks that the key exists, then
        # increments, and a key expiring between the two would come back with no expiry.
        if cache.add(key, 1, 2 * PERIOD_SECONDS):
            return 1
        return cache.incr(key)  # another request made it first


class MinuteRateThrottle(BaseThrottle):
    """Requests a minute against one of the tenant's limits; a subclass names the limit and
    whose requests share a counter."""

    limit_name: str  # a field of tenants.configuration.Limits
    who: str  # for the refusal: "this tenant", "your account"

    def __init__(self):
        self.rate = 0
        self.retry_after_seconds = 0

    def counter(self, request) -> str | None:
        """The counter's name (the key function adds the schema), or None: not counted here."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        name = self.counter(request)
        if name is None:
            return True
        self.rate = getattr(request.tenant.configuration.limits, self.limit_name)
        now = time.time()
        window = int(now // PERIOD_SECONDS)
        if _count(f"api-throttle:{name}:{window}") <= self.rate:
            return True
        self.retry_after_seconds = max(1, math.ceil((window + 1) * PERIOD_SECONDS - now))
        return False

    def wait(self) -> int:
        return self.retry_after_seconds

    def refusal(self) -> APIThrottled:
        return APIThrottled(
            f"Too many requests: {self.who} may make {self.rate} API requests a minute. "
            f"Try again in {self.retry_after_seconds} second{'' if self.retry_after_seconds == 1 else 's'}.",
            # As the plan's other limits are refused (panels, private experts): the limit by name and its value.
            details={"limit": self.limit_name, "value": self.rate, "rate": f"{self.rate}/minute",
                     "retry_after_seconds": self.retry_after_seconds},
        )


class UserRateThrottle(MinuteRateThrottle):
    """Each user (all their tokens and sessions), or each client address when signed out."""

    limit_name = "api_requests_per_minute_per_user"

    def counter(self, request) -> str:
        if request.user and request.user.is_authenticated:
            self.who = "your account"
            return f"user:{request.user.pk}"
        self.who = "your address"
        return f"address:{self.get_ident(request)}"


class TenantRateThrottle(MinuteRateThrottle):
    """All of the tenant's users and tokens together."""

    limit_name = "api_requests_per_minute"
    who = "this tenant (all its users together)"

    def counter(self, request) -> str | None:
        return "tenant" if request.user and request.user.is_authenticated else None
