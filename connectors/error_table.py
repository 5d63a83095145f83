"""What the connectors' error tables share: the actions a row can name, and status matching.

Each connector keeps its own table (``salesforce_errors.TABLE``, ``hubspot_errors.TABLE``)
because the vendors' codes differ; how a row's HTTP status matches is the same for both.
"""

from __future__ import annotations

import ssl
from enum import Enum


class Action(Enum):
    """What the connector does with a failure a table row matches."""

    RETRY = "retry"
    RETRY_SAFE = "retry if idempotent"  # repeat only calls that cannot apply twice
    REAUTH = "re-authenticate once"
    RECORD = "blame the records"  # a batch refused for its records: split and find them
    FAIL = "fail"


def status_matches(rule: int | range | None, status: int | None) -> bool:
    """A row's status (one code, a range, or None for any) against a response's status."""
    if isinstance(rule, range):
        return status is not None and status in rule
    return rule is None or rule == status


def certificate_rejected(exc: BaseException) -> bool:
    """Did TLS verification refuse the server's certificate (CERTIFICATE_VERIFY_FAILED)?

    requests and urllib3 wrap ssl's error a few layers deep (in ``args``, ``reason`` or
    the chain), so every layer is looked at."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError) or \
                "CERTIFICATE_VERIFY_FAILED" in str(item):
            return True
        pending += [*item.args, getattr(item, "reason", None), item.__cause__,
                    item.__context__]
    return False
