"""Where the console may send a secret-bearing request: the shape of the URL, and the address it reaches.

Two callers, one rule each:
- `url_problem`: the URL an admin saves for an outside service (the NCMEC custom base URL, a platform webhook
  endpoint): http(s) only, no user name, query or fragment, and plain http only for hosts the caller allows
  (this machine, for the local simulator; an admin's allow-list, for the demo platform). Checked when saved
  and again at use: a row written before a rule existed must not send anything either.
- `guarded_session`: a requests session whose connections refuse to reach an address that is not public
  (private networks, loopback, link-local — the cloud metadata service —, reserved, shared) unless the host is
  allowed. The check is on the socket's peer address after the connection is made, so a DNS answer that
  changes between a check and the call (DNS rebinding) cannot slip a private address through; it never
  follows proxies from the environment, and it never follows redirects (the caller's `allow_redirects`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from console.ncmec.constants import url_problem as text_url_problem


class AddressRefused(OSError):
    """The host resolved to an address the console does not send to (private, loopback, link-local…).

    An OSError, as a refused connection is: requests raises it as a ConnectionError that carries it."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_public_address(address: str) -> bool:
    """A globally routable unicast address (an IPv4-mapped IPv6 address is judged as its IPv4 one)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_problem(
    url: str,
    *,
    max_len: int,
    plain_http_ok: Callable[[str], bool],
    example: str,
    http_hint: str,
    name: str = "URL",
) -> str | None:
    """Why the console must not send credentials or signed events to ``url``, or None."""
    if len(url) > max_len:
        return f"Enter at most {max_len} characters."
    if text_url_problem(url):
        return "Enter the URL without spaces or control characters."
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"Enter a valid URL, e.g. {example}."
    if parts.scheme not in ("http", "https") or not host:
        return f"Enter the {name}, starting with https://."
    if parts.username is not None or parts.password is not None:
        return "Enter the URL without a user name or password in it."
    if parts.query or parts.fragment:
        return f"Enter the {name} without ?query or #fragment."
    if parts.scheme == "http" and not plain_http_ok(host):
        return http_hint
    return None


def _guarded(base: type, allowed: frozenset[str]) -> type:
    class Guarded(base):
        def _new_conn(self):
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            if self.host.lower() not in allowed and not is_public_address(peer):
                sock.close()
                raise AddressRefused(
                    f"{self.host} resolved to {peer}, which is not a public address: refused "
                    "(an admin may allow the host in Settings → Platform webhooks)"
                )
            return sock

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allowed: frozenset[str]):
        self._allowed = allowed
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http = type("GuardedHTTPPool", (HTTPConnectionPool,), {})
        http.ConnectionCls = _guarded(HTTPConnection, self._allowed)
        https = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {})
        https.ConnectionCls = _guarded(HTTPSConnection, self._allowed)
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}


def guarded_session(allowed_hosts: Collection[str] = ()) -> requests.Session:
    """A session that connects only to public addresses, or to the hosts named (an admin's allow-list)."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the guard must see the real peer
    adapter = _GuardedAdapter(frozenset(h.lower() for h in allowed_hosts))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
