"""Is this page travelling over the network in plain text? (decides the host page's HTTPS warning)

On venue Wi-Fi every device on the network can read plain HTTP: the host key as it is typed,
the 12-hour host grant and each player's rejoin token. A page opened over ``http://`` from
another machine's address is exposed that way; one opened on the laptop itself
(``localhost``, ``127.x.x.x``, ``::1``) never leaves it, and ``https://`` is encrypted.
docs/live-class.md ("HTTPS for a class") says how to serve the app over HTTPS.

>>> exposed_over_plain_http("http://192.168.1.20:8501/host")
True
>>> exposed_over_plain_http("http://localhost:8501/host")
False
>>> exposed_over_plain_http("https://192.168.1.20/host")
False
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["PLAIN_HTTP_WARNING", "exposed_over_plain_http", "is_loopback_host"]

PLAIN_HTTP_WARNING = (
    "This page is served over plain HTTP to the network: anyone on this Wi-Fi can read the host "
    "key as you type it, and the players' links. Serve the app over HTTPS for a class "
    '(docs/live-class.md, "HTTPS for a class"), or type the key only on the laptop itself '
    "(http://localhost:8501)."
)


def is_loopback_host(host: str) -> bool:
    """``localhost`` (and its subdomains), any 127.0.0.0/8 address, or ``::1``.

    >>> [is_loopback_host(h) for h in ("localhost", "app.localhost", "127.0.1.1", "::1", "10.0.0.2", "")]
    [True, True, True, True, False, False]
    """
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposed_over_plain_http(page_url: str | None) -> bool:
    """True when ``page_url`` (the address in the browser) is ``http://`` to a non-loopback host.

    An unknown URL (``None``, empty, unparsable) gives False: the warning is for a case we
    can see, not a guess.

    >>> exposed_over_plain_http("http://[::1]:8501/host"), exposed_over_plain_http(None)
    (False, False)
    """
    if not page_url:
        return False
    try:
        parts = urlsplit(page_url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme.lower() == "http" and bool(host) and not is_loopback_host(host)
