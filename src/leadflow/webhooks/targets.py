"""Where a webhook may send: an http(s) URL with a host, and (unless the installation allows it,
``LEADFLOW_WEBHOOK_PRIVATE_TARGETS=allow``) a host that resolves to public addresses only.

The address is checked when a subscription is saved and again at each delivery, against the address
the delivery then connects to, so that a name that later resolves to a private address (DNS
rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from leadflow.core.errors import LeadflowError, field_refusal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
INVALID_URL = (
    "A webhook URL must start with http:// or https:// and name a host, for example https://example.com/hooks."
)
PRIVATE_TARGET = (
    "The webhook URL leads to a loopback, private, link-local or reserved address, which this installation "
    "refuses; use a public address, or set LEADFLOW_WEBHOOK_PRIVATE_TARGETS=allow."
)


class RefusedTarget(Exception):
    """A delivery's host resolves to an address the installation refuses, or not at all."""


def _refused_url() -> LeadflowError:
    return field_refusal("url", "invalid_url", INVALID_URL)


def parse_url(url: str) -> SplitResult:
    """The parts of a webhook URL; refused (422 ``invalid_url``) unless http(s) with a host."""
    if not url or any(character.isspace() or ord(character) < 32 for character in url):
        raise _refused_url()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it (a port out of range or not a number raises)
    except ValueError:
        raise _refused_url() from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _refused_url()
    return parts


def is_private(address: IPAddress) -> bool:
    """Loopback, private, link-local, reserved, multicast or otherwise not a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address written in the URL is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(item[4][0]).split("%")[0]) for item in found))


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse, when a subscription is saved, a URL that is not http(s) with a host, or whose host
    resolves to a private address (unless allowed). A host that does not resolve now is accepted:
    each delivery checks it again."""
    parts = parse_url(url)
    if allow_private:
        return
    try:
        addresses = resolve(parts.hostname or "", default_port(parts))
    except OSError:
        return
    if any(is_private(address) for address in addresses):
        raise field_refusal("url", "private_target", PRIVATE_TARGET)


@dataclass(frozen=True)
class Target:
    """Where one delivery connects: the URL to request (its host replaced by the checked address
    unless private targets are allowed), the Host header and TLS server name to keep."""

    url: str
    host_header: str | None = None
    server_name: str | None = None


def delivery_target(url: str, *, allow_private: bool) -> Target:
    """The checked place to send a delivery to, resolved now; ``RefusedTarget`` when its host
    resolves to no address or (unless allowed) to a private one."""
    parts = parse_url(url)
    if allow_private:
        return Target(url)
    host = parts.hostname or ""
    try:
        addresses = resolve(host, default_port(parts))
    except OSError as error:
        raise RefusedTarget(f"the host {host} cannot be resolved ({error})") from None
    if not addresses:
        raise RefusedTarget(f"the host {host} resolves to no address")
    private = [address for address in addresses if is_private(address)]
    if private:
        raise RefusedTarget(f"the host {host} resolves to {private[0]}, a private address, which is refused")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = parts.netloc.rpartition("@")[2]
    return Target(parts._replace(netloc=netloc).geturl(), host_header=host_header, server_name=host)
