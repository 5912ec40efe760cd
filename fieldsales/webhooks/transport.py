"""The POST to a receiver, refusing private addresses unless allowed (server-side request forgery).

An admin chooses the URL, and the worker runs inside our network: without this guard a
subscription to http://10.0.0.5/ or http://169.254.169.254/ (a cloud metadata service) would make
the worker call it. The host is resolved once, every address is checked, and the connection is
made to the checked address, so a second DNS answer (rebinding) cannot redirect it. Hand-written
on http.client because urllib resolves the name again when it connects; `advocate`, the library
that did this for requests, is unmaintained.
"""
import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10


class PrivateTarget(ValueError):
    """The URL's host is, or resolves to, an address that is not public."""


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable (not loopback, private, link-local …)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_private(url: str) -> bool:
    """Whether the URL names a non-public host literally (an IP or `localhost`): refused on
    subscribe; names that resolve to one are refused when sent."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public(host)
    except ValueError:
        return False  # a name, not an address


def _resolve(host: str, port: int, allow_private: bool) -> str:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    if not allow_private and not all(is_public(a) for a in addresses):
        raise PrivateTarget(f"{host} resolves to an address that is not public")
    return addresses[0]


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(_Pinned):
    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, *,
         allow_private: bool) -> tuple[int | None, str | None]:
    """POST `body`; (HTTP status or None, error text or None when 2xx). Redirects are answers,
    not followed."""
    parts = urlsplit(url)
    secure = parts.scheme.lower() == "https"
    try:
        port = parts.port or (443 if secure else 80)
        address = _resolve(parts.hostname or "", port, allow_private)
        connection = (_PinnedTLS if secure else _Pinned)(parts.hostname, port, address,
                                                          TIMEOUT_SECONDS)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=body, headers=headers)
            status = connection.getresponse().status
        finally:
            connection.close()
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return status, None if 200 <= status < 300 else f"HTTP {status}"
