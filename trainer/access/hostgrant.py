"""Host grants: a reload of the projector tab must not ask the instructor for the key again.

After the key is typed, the server hands the browser tab a *grant*: an expiry time and an
HMAC of it, keyed by the host key. The tab keeps it in ``sessionStorage`` (never in the URL,
which the projector shows) and offers it back after a reload. A grant proves that someone
typed the key in this tab recently; changing the host key invalidates every grant.

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
>>> g = issue_grant("long-secret", t0)
>>> check_grant("long-secret", g, t0 + timedelta(hours=1))
True
>>> check_grant("another-secret", g, t0 + timedelta(hours=1))
False
>>> check_grant("long-secret", g, t0 + timedelta(hours=13))
False
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from trainer.clock import require_utc

#: How long a tab stays trusted after the key was typed: a long workshop day.
GRANT_TTL_S = 12 * 3600
_MAX_GRANT_CHARS = 200


def _mac(host_key: str, expires_s: int) -> str:
    msg = f"trainer-host-grant|{expires_s}".encode()
    return hmac.new(host_key.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def issue_grant(host_key: str, now: datetime, ttl_s: int = GRANT_TTL_S) -> str:
    """``"<expiry epoch s>.<hex HMAC>"`` for a tab whose user just typed ``host_key``."""
    expires_s = int(require_utc(now).timestamp()) + int(ttl_s)
    return f"{expires_s}.{_mac(host_key, expires_s)}"


def check_grant(host_key: str, grant: object, now: datetime) -> bool:
    """True only for an unexpired grant made with this host key; anything else is False."""
    if not host_key or not isinstance(grant, str) or len(grant) > _MAX_GRANT_CHARS:
        return False
    head, _, mac = grant.partition(".")
    if not head.isascii() or not head.isdigit() or len(head) > 12:
        return False
    expires_s = int(head)
    if expires_s <= require_utc(now).timestamp():
        return False
    return hmac.compare_digest(mac.encode("ascii", "replace"), _mac(host_key, expires_s).encode("ascii"))
