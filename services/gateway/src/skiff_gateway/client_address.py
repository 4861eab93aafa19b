"""The caller's address: the socket peer, or what trusted proxies say in `X-Forwarded-For`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.types import Scope
from skiff_kit.settings import SettingsError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_XFF = b"x-forwarded-for"


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """`"10.0.0.0/8, 192.168.1.7"` (or a JSON list) as networks; raises ValueError on a bad one."""
    text = value.strip().strip("[]")
    parts = (part.strip().strip("\"'") for part in text.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class ClientAddress:
    """Works out who the client is; a spoofed header from an untrusted peer changes nothing.

    When the socket peer is a trusted proxy, the client is the right-most address of
    `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it
    saw, so everything left of that may be made up by the client).
    """

    def __init__(self, trusted: Iterable[IPNetwork] = ()) -> None:
        self.trusted = tuple(trusted)

    @classmethod
    def from_setting(cls, trusted_proxies: str) -> ClientAddress:
        """From `SKIFF_TRUSTED_PROXIES`; a bad network stops the gateway naming the variable."""
        try:
            return cls(parse_networks(trusted_proxies))
        except ValueError as error:
            raise SettingsError({"SKIFF_TRUSTED_PROXIES": str(error)}) from None

    def is_trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def peer(self, scope: Scope) -> str:
        """The socket peer as the server reported it."""
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def __call__(self, scope: Scope) -> str:
        """The client's address for limits, logs and the principal."""
        peer = self.peer(scope)
        if not self.trusted or not self.is_trusted(_address(peer)):
            return peer
        hops: list[str] = []
        for name, value in scope["headers"]:
            if name == _XFF or name.lower() == _XFF:
                hops += value.decode("latin-1").split(",")
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # Not what a proxy of ours appends: stop at the last address we can vouch for.
                return peer
            if not self.is_trusted(address):
                return str(address)
            peer = str(address)
        return peer
