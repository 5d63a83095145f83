"""Call accounting and API quotas: what /__sandbox__/stats reports and what limits enforce.

Quotas follow the vendors: Salesforce has only a rolling daily allowance (exhaustion is a
403 REQUEST_LIMIT_EXCEEDED, never a 429); HubSpot private apps have a 10-second burst
window, a daily allowance and a separate per-second limit on the search endpoints.
Windows run on real monotonic time, not the sandbox clock, so freezing the clock for an
SLA test never freezes a rate window.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

HUBSPOT_WINDOW_SECONDS = 10.0


@dataclass
class Quotas:
    """Limits the sandbox enforces; ``None`` switches one off."""

    salesforce_daily: int | None = 100_000
    """Salesforce DailyApiRequests Max (Enterprise edition base allocation)."""
    hubspot_daily: int | None = 1_000_000
    """HubSpot private-app daily allowance (Enterprise)."""
    hubspot_per_10s: int | None = 190
    """HubSpot private-app burst limit per rolling 10 seconds (Professional/Enterprise)."""
    hubspot_search_per_second: int | None = 5
    """HubSpot CRM search requests per second per account."""
    hubspot_search_lag_ms: int | None = None
    """Search index lag: records written this recently are not yet visible to search."""

    def update(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise ValueError("quotas: expected an object")
        names = {f.name for f in fields(self)}
        for key, value in raw.items():
            if key not in names:
                raise ValueError(f"quotas.{key}: unknown quota; known: {sorted(names)}")
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"quotas.{key}: expected a whole number >= 0 or null")
        for key, value in raw.items():
            setattr(self, key, value)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Verdict = Literal["ok", "daily", "ten_secondly", "secondly"]


class UsageMeter:
    def __init__(self, quotas: Quotas | None = None) -> None:
        # The quotas the server was started with: reset and DELETE faults return to them.
        self._initial = replace(quotas) if quotas is not None else Quotas()
        self.quotas = replace(self._initial)
        self._lock = threading.Lock()
        self.reset()

    def restore_quotas(self) -> None:
        """Back to the quotas the server was started with (faults may have changed them)."""
        self.quotas = replace(self._initial)

    def reset(self) -> None:
        """Forget every call counted and restore the starting quotas."""
        self.restore_quotas()
        with self._lock:
            self._calls: dict[str, Counter[str]] = {"salesforce": Counter(), "hubspot": Counter()}
            self._totals: Counter[str] = Counter()
            self._hubspot_window: deque[float] = deque()
            self._search_window: deque[float] = deque()
            self.salesforce_used = 0
            self.hubspot_daily_used = 0

    def record(self, api: str, endpoint: str) -> None:
        with self._lock:
            self._calls[api][endpoint] += 1
            self._totals[api] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                api: {"calls": self._totals[api], "by_endpoint": dict(sorted(counter.items()))}
                for api, counter in self._calls.items()
            }

    # --- Salesforce -------------------------------------------------------------------
    def salesforce_admit(self) -> bool:
        """Count one REST call against the daily allowance; False once it is used up."""
        with self._lock:
            limit = self.quotas.salesforce_daily
            if limit is not None and self.salesforce_used >= limit:
                return False
            self.salesforce_used += 1
            return True

    def salesforce_limit_info(self) -> str:
        limit = self.quotas.salesforce_daily
        return f"api-usage={self.salesforce_used}/{limit if limit is not None else 5_000_000}"

    def salesforce_daily(self) -> tuple[int, int]:
        limit = self.quotas.salesforce_daily
        maximum = limit if limit is not None else 5_000_000
        return maximum, max(maximum - self.salesforce_used, 0)

    # --- HubSpot ----------------------------------------------------------------------
    def hubspot_admit(self, *, search: bool) -> Verdict:
        """Admit one call or say which policy refuses it (refused calls are not counted)."""
        now = time.monotonic()
        q = self.quotas
        with self._lock:
            window = self._hubspot_window
            while window and now - window[0] >= HUBSPOT_WINDOW_SECONDS:
                window.popleft()
            searches = self._search_window
            while searches and now - searches[0] >= 1.0:
                searches.popleft()
            if q.hubspot_daily is not None and self.hubspot_daily_used >= q.hubspot_daily:
                return "daily"
            if q.hubspot_per_10s is not None and len(window) >= q.hubspot_per_10s:
                return "ten_secondly"
            if search and q.hubspot_search_per_second is not None and (
                len(searches) >= q.hubspot_search_per_second
            ):
                return "secondly"
            window.append(now)
            if search:
                searches.append(now)
            self.hubspot_daily_used += 1
            return "ok"

    def hubspot_headers(self) -> dict[str, str]:
        q = self.quotas
        now = time.monotonic()
        with self._lock:
            in_window = sum(1 for t in self._hubspot_window if now - t < HUBSPOT_WINDOW_SECONDS)
            daily_used = self.hubspot_daily_used
        burst = q.hubspot_per_10s if q.hubspot_per_10s is not None else 1_000_000
        daily = q.hubspot_daily if q.hubspot_daily is not None else 1_000_000_000
        return {
            "X-HubSpot-RateLimit-Max": str(burst),
            "X-HubSpot-RateLimit-Remaining": str(max(burst - in_window, 0)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(HUBSPOT_WINDOW_SECONDS * 1000)),
            "X-HubSpot-RateLimit-Daily": str(daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(daily - daily_used, 0)),
        }
