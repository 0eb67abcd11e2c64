"""Which webhook URLs a server is willing to POST to.

A client names its own webhook URL. Without a check, anyone who can reach the
server could make it POST (signed, and retried) to any address the server can
reach: cloud metadata endpoints, admin ports on localhost, the private network.

A URL is admitted when it matches an allow-list pattern and its host is
acceptable:

- patterns look like URLs: ``https://*``, ``https://*.example.com``,
  ``http://127.0.0.1:*``, ``https://hooks.example.com:8443/mcp/*``. The
  scheme must be equal, the host matches as a glob (case-insensitive), the
  port must be equal (a pattern without a port means the scheme's default
  port; ``:*`` means any), and the path matches as a glob (none means any);
- a host named *literally* in a matching pattern (no wildcard) is trusted as
  the operator wrote it, even when it is private or loopback. That is how
  ``127.0.0.1`` is explicitly allowed;
- a host matched only through a wildcard must resolve to public addresses
  only: private, loopback, link-local, multicast, reserved and unspecified
  addresses are refused, IPv4 and IPv6 alike, and so is every IPv6 form
  that leads to such an IPv4 address (IPv4-mapped and -compatible, 6to4,
  Teredo, NAT64, ISATAP: see `embedded_ipv4`).

URLs with user info (``http://a@b/``) are refused: they are a common way of
disguising the real host. So are URLs with control characters, spaces or
non-ASCII text, which URL parsers disagree about.

Names are resolved when a URL is checked, which the server does when the
request arrives and again before each delivery. A DNS answer that changes
between the check and the connection (DNS rebinding) is not caught; when that
matters, allow literal addresses or names whose DNS you control.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import anyio

from asyncmcp_cli.errors import ConfigurationError, ReplyAddressRefusedError

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""resolve(host, port) -> the IP addresses a connection could go to."""

DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_ALLOW = ("https://*",)


class WebhookUrlRefusedError(ReplyAddressRefusedError):
    """A webhook URL that the server will not POST to; the message says why."""


@dataclass(frozen=True)
class UrlPattern:
    scheme: str
    host: str
    port: str
    """A port number, or ``*``."""
    path: str
    text: str

    @classmethod
    def parse(cls, text: str) -> UrlPattern:
        if "://" not in text:
            raise ConfigurationError(
                f"webhook allow-list pattern {text!r} must look like a URL, e.g. https://*.example.com or "
                "http://127.0.0.1:*"
            )
        scheme, _, rest = text.partition("://")
        scheme = scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ConfigurationError(f"webhook allow-list pattern {text!r}: scheme must be http or https")
        authority, slash, path = rest.partition("/")
        host, port = _split_host_port(authority)
        if not host:
            raise ConfigurationError(f"webhook allow-list pattern {text!r} names no host")
        port = port or str(DEFAULT_PORTS[scheme])
        if port != "*" and not port.isdigit():
            raise ConfigurationError(f"webhook allow-list pattern {text!r}: port must be a number or *")
        return cls(scheme, host.lower(), port, (slash + path) if path else "", text)

    @property
    def literal_host(self) -> bool:
        return not any(ch in self.host for ch in "*?[")

    def matches(self, url: SplitResult, port: int) -> bool:
        host = (url.hostname or "").lower()
        if url.scheme != self.scheme:
            return False
        if self.port != "*" and int(self.port) != port:
            return False
        if self.path and not fnmatch.fnmatchcase(url.path or "/", self.path):
            return False
        if self.literal_host:
            return _same_host(host, self.host)
        return fnmatch.fnmatchcase(host, self.host)


def _split_host_port(authority: str) -> tuple[str, str]:
    if authority.startswith("["):  # [v6]:port
        host, _, rest = authority[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = authority.partition(":")
    return host, port


def _same_host(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.rstrip(".") == b.rstrip(".")


_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_ISATAP_MARK = 0x00005EFE  # interface id [u/g bits]00:5efe:a.b.c.d (RFC 5214)
_UG_BITS = 0x03000000


def is_public(address: str) -> bool:
    """True for a globally routable unicast address, and for IPv6 only if any IPv4 it embeds is too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:  # a network-specific translator: where it leads is not knowable here
            return False
        embedded = embedded_ipv4(ip)
        if embedded is not None and not _is_public_unicast(embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True  # ::ffff:a.b.c.d is simply that IPv4 address
    return _is_public_unicast(ip)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a transition form of IPv6 leads to, if `ip` is one.

    IPv4-mapped and IPv4-compatible (``::ffff:a.b.c.d``, ``::a.b.c.d``), 6to4
    (``2002:AABB:CCDD::``), Teredo (its client address), NAT64 well-known prefix
    (``64:ff9b::a.b.c.d``) and ISATAP interface ids (``...:0:5efe:a.b.c.d``,
    ``...:200:5efe:a.b.c.d``).
    """
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64_WELL_KNOWN or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return low32
    if (int(ip) >> 32) & 0xFFFFFFFF & ~_UG_BITS == _ISATAP_MARK:
        return low32
    return None


def _is_public_unicast(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class UrlPolicy:
    """The allow-list of webhook URLs, with the private-address rule (see the module docstring)."""

    def __init__(self, patterns: Iterable[str] = DEFAULT_ALLOW, *, resolver: Resolver = resolve_host) -> None:
        self.patterns = tuple(UrlPattern.parse(p) for p in patterns if p)
        self._resolve = resolver

    def matches(self, url: str) -> bool:
        """The pattern part of the check only (no DNS); `check` is the full one."""
        try:
            parts, port = _parse(url)
        except WebhookUrlRefusedError:
            return False
        return any(p.matches(parts, port) for p in self.patterns)

    async def check(self, url: str) -> None:
        """Return if the server may POST to `url`; raise `WebhookUrlRefusedError` saying why not."""
        parts, port = _parse(url)
        matching = [p for p in self.patterns if p.matches(parts, port)]
        if not matching:
            allowed = ", ".join(p.text for p in self.patterns) or "nothing"
            raise WebhookUrlRefusedError(f"webhook URL {url!r} is not admitted by the allow-list ({allowed})")
        if any(p.literal_host for p in matching):
            return
        host = parts.hostname or ""
        try:
            addresses = [host] if _is_ip(host) else await self._resolve(host, port)
        except OSError as exc:
            raise WebhookUrlRefusedError(f"webhook URL {url!r}: cannot resolve {host!r} ({exc})") from None
        private = [a for a in addresses if not is_public(a)]
        if private or not addresses:
            raise WebhookUrlRefusedError(
                f"webhook URL {url!r} points at a private, loopback or link-local address "
                f"({', '.join(private) or 'none'}); name the host literally in an allow-list pattern to allow it"
            )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _parse(url: str) -> tuple[SplitResult, int]:
    if not (url.isascii() and url.isprintable()) or " " in url:
        # urlsplit quietly drops tabs and newlines, so the URL checked would not be the URL sent
        raise WebhookUrlRefusedError(f"webhook URL {url!r} contains control, space or non-ASCII characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefusedError(f"webhook URL {url!r} is not a valid URL") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise WebhookUrlRefusedError(f"webhook URL {url!r} must be http or https")
    if not parts.hostname:
        raise WebhookUrlRefusedError(f"webhook URL {url!r} names no host")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefusedError(f"webhook URL {url!r} carries user info; refused")
    return parts, port if port is not None else DEFAULT_PORTS[parts.scheme]
