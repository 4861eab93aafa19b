"""Which addresses a webhook may connect to: public ones, or ranges the operator allows.

Checked on the address actually connected to, after resolution, on every attempt (see
`network.py`), so a name that resolves to a public address once and to 127.0.0.1 the next
time is refused the second time. IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4,
NAT64) are judged by the address they carry; IPv4 written in decimal, octal, hex or short form
(`2130706433`, `0x7f.1`, `127.1`) is read the way the C resolver reads it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence

import msgspec

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# inet_aton's forms: up to four parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_V4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


class AddressPolicy:
    """Refuses non-public addresses, except inside `allowed` (SKIFF_WEBHOOKS_ALLOWED_CIDRS)."""

    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(allowed)

    @classmethod
    def from_setting(cls, value: str) -> AddressPolicy:
        """Comma-separated CIDRs, or a JSON list of them; ValueError names a bad one."""
        text = value.strip()
        items: Sequence[str] = (
            msgspec.json.decode(text, type=list[str])
            if text.startswith("[")
            else [item for item in (part.strip() for part in text.split(",")) if item]
        )
        return cls(ipaddress.ip_network(item, strict=False) for item in items)

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` must not be connected to, or None when it may be."""
        if self._allows(address):
            return None
        carried = embedded_ipv4(address)
        if carried is not None:
            if self._allows(carried):
                return None
            reason = kind_of(carried)
            return None if reason is None else f"{reason} ({address} carries {carried})"
        return kind_of(address)

    def _allows(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.allowed)


def kind_of(address: IPAddress) -> str | None:
    """The kind of non-public address this is (`loopback`, `private` ...), None if public."""
    checks: tuple[tuple[str, bool], ...] = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("cgnat", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("private", address.is_private),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("reserved", address.is_reserved),
        ("not global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells (any IPv4 form, or IPv6 with or without brackets), else None."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_V4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None
