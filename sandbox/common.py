"""What the platform modules share: opaque page tokens, page sizes from the query string, ETags,
and the injection of each platform's errors (``SANDBOX_FAULT_RATE``) for soak and fault tests."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def encode_token(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_token(token: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def page_size(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    try:
        return max(1, min(int(request.GET.get(name, default)), maximum))
    except ValueError:
        return default


def etag_for(*parts: Any) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()[:27]


# --- Fault injection: the errors the real platforms give now and then --------------------------
# Rate limits wait seconds, not the real quarter of an hour: a soak of ten minutes must see
# the channel come back by itself.
FAULT_RESET_SECONDS = 10
FAULT_RNG = random.Random()


def _x_fault(rate_limited: bool) -> HttpResponse:
    if rate_limited:
        reset = int(time.time()) + FAULT_RESET_SECONDS
        return JsonResponse(
            {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
            status=429,
            headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        )
    return JsonResponse({"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503}, status=503)


def _facebook_fault(rate_limited: bool) -> HttpResponse:
    # https://developers.facebook.com/docs/graph-api/overview/rate-limiting/ (code 4, and how long to wait)
    if rate_limited:
        usage = {"104857600000001": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 1}]}
        return JsonResponse(
            {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}},
            status=403,
            headers={"x-business-use-case-usage": json.dumps(usage)},
        )
    error = {"message": "An unexpected error has occurred. Please retry your request later.", "code": 2}
    return JsonResponse({"error": {**error, "type": "OAuthException", "is_transient": True}}, status=500)


def _youtube_fault(rate_limited: bool) -> HttpResponse:
    # A short rate limit, not quotaExceeded: that one waits for midnight Pacific time.
    status, domain, reason = (
        (403, "usageLimits", "rateLimitExceeded") if rate_limited else (503, "global", "backendError")
    )
    error = {"code": status, "message": reason, "errors": [{"domain": domain, "reason": reason}]}
    return JsonResponse({"error": error}, status=status)


def _linkedin_fault(rate_limited: bool) -> HttpResponse:
    # A 429 that names no daily limit (LinkedIn's infrastructure protection) waits minutes, not a day.
    if rate_limited:
        return JsonResponse({"status": 429, "message": "Too Many Requests"}, status=429)
    return JsonResponse({"status": 504, "message": "Gateway Timeout"}, status=504)


def _feed_fault(rate_limited: bool) -> HttpResponse:
    if rate_limited:
        return HttpResponse("Too Many Requests", status=429, headers={"Retry-After": str(FAULT_RESET_SECONDS)})
    return HttpResponse("<html><body><h1>503 Service Unavailable</h1></body></html>", status=503)


FAULTS: dict[str, Callable[[bool], HttpResponse]] = {
    "x": _x_fault,
    "facebook": _facebook_fault,
    "instagram": _facebook_fault,  # the same Graph API, the same errors
    "youtube": _youtube_fault,
    "linkedin": _linkedin_fault,
    "feed": _feed_fault,
}


def with_faults(platform: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Answer a share ``SANDBOX_FAULT_RATE`` of the requests to a view with ``platform``'s own rate
    limit or server error (half each), before the view acts: a refused reply was not posted."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def faulty(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            rate = settings.SANDBOX_FAULT_RATE
            if rate and FAULT_RNG.random() < rate:
                return FAULTS[platform](FAULT_RNG.random() < 0.5)
            return view(request, *args, **kwargs)

        return faulty

    return decorate
