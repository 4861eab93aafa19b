"""The HTTP client of the dispatcher: httpx whose every connection passes the address guard.

httpcore asks its network backend to connect to the URL's host; ours resolves the name itself,
drops every address the policy refuses, and connects to an address that is left, by its
number. TLS still verifies the certificate against the host name (httpcore sends it as SNI).
A refused or unresolvable host raises `AddressBlocked` / `ResolutionFailed`, which httpx lets
through unchanged, so the delivery log can name them.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable

import httpcore
import httpx

from skiff_notification.webhooks.ssrf import AddressPolicy, IPAddress, ip_literal
from skiff_notification.webhooks.streams import AsyncioBackend

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class AddressBlocked(Exception):
    """Every address of the host is one the policy refuses."""

    def __init__(self, host: str, refused: list[tuple[IPAddress, str]]) -> None:
        self.host, self.refused = host, refused
        listed = ", ".join(f"{address} ({reason})" for address, reason in refused)
        super().__init__(f"{host} resolves only to refused addresses: {listed}")


class ResolutionFailed(Exception):
    """The host name does not resolve."""


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The host's addresses from the system resolver, in its order, without repeats."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(f"{host}: {exc}") from exc
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ip_literal(str(sockaddr[0]))
        if address is not None and address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, filters through the policy, then connects to a permitted address by number."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore.AsyncNetworkBackend's signature)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolver(host, port)
        if not addresses:
            raise ResolutionFailed(f"{host}: no address")
        refused = [(a, r) for a in addresses if (r := self.policy.refusal(a)) is not None]
        permitted = [a for a in addresses if all(a != bad for bad, _ in refused)]
        if not permitted:
            raise AddressBlocked(host, refused)
        last: Exception | None = None
        for address in permitted:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore.AsyncNetworkBackend's signature)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressBlocked(path, [])  # never: webhooks go over TCP only

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (no proxy, nothing from the environment) on a `GuardedBackend`."""

    def __init__(
        self, backend: GuardedBackend, *, max_connections: int, tls: ssl.SSLContext
    ) -> None:
        super().__init__(verify=tls, trust_env=False)
        # httpx builds its httpcore pool without a way to pass a network backend: swap it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=backend,
        )


class _NoCookies(httpx.Cookies):
    """Deliveries are stateless: a receiver's cookies are neither kept nor sent back."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


def webhook_client(
    policy: AddressPolicy,
    *,
    version: str,
    timeout_seconds: float,
    connect_timeout_seconds: float,
    max_connections: int,
    resolver: Resolver = system_resolver,
    tls: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """A client attempts go through: no redirects, no env proxy, no cookies, our user agent."""
    client = httpx.AsyncClient(
        transport=GuardedTransport(
            GuardedBackend(policy, resolver),
            max_connections=max_connections,
            tls=tls or httpx.create_ssl_context(trust_env=False),
        ),
        timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": f"Skiff-Webhooks/{version}"},
    )
    client._cookies = _NoCookies()  # httpx wraps what it is given: set the jar itself
    return client


class Clients:
    """One small client per endpoint: its connections are its own (httpcore's pool scans all of
    its connections on every request, so one pool for every endpoint costs O(endpoints) per
    send), and an endpoint idle for a while gives its connections back."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        version: str,
        timeout_seconds: float,
        connect_timeout_seconds: float,
        per_endpoint: int,
        resolver: Resolver = system_resolver,
        idle_seconds: float = 60.0,
    ) -> None:
        tls = httpx.create_ssl_context(trust_env=False)  # loading CA certificates is slow

        def make() -> httpx.AsyncClient:
            return webhook_client(
                policy,
                version=version,
                timeout_seconds=timeout_seconds,
                connect_timeout_seconds=connect_timeout_seconds,
                max_connections=per_endpoint,
                resolver=resolver,
                tls=tls,
            )

        self._make = make
        self._idle_seconds = idle_seconds
        self._clients: dict[str, tuple[httpx.AsyncClient, float]] = {}

    def of(self, endpoint_id: str) -> httpx.AsyncClient:
        """The endpoint's client (made on first use)."""
        now = asyncio.get_running_loop().time()
        found = self._clients.get(endpoint_id)
        client = found[0] if found is not None else self._make()
        self._clients[endpoint_id] = (client, now)
        return client

    async def close_idle(self, in_use: set[str]) -> None:
        """Close the clients of endpoints unused for `idle_seconds` (and not sending now)."""
        cutoff = asyncio.get_running_loop().time() - self._idle_seconds
        for endpoint_id, (client, used) in list(self._clients.items()):
            if used < cutoff and endpoint_id not in in_use:
                del self._clients[endpoint_id]
                await client.aclose()

    async def aclose(self) -> None:
        for client, _ in self._clients.values():
            await client.aclose()
        self._clients.clear()
