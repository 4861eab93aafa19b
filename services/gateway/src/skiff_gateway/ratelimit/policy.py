"""Which limits apply to a request: per API key, per user, per address, per route (settings)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import msgspec
from skiff_kit.internal_token import Principal

_NAME = re.compile(r"[a-z0-9_-]{1,32}")


@dataclass(frozen=True, slots=True)
class Policy:
    """A quota of `limit` requests per fixed `window` seconds, named in the headers."""

    name: str
    limit: int
    window: int
    # Made once: the IETF `RateLimit-Policy` item (`"key";q=120;w=60`), name and limit.
    item: str = field(init=False)
    item_bytes: bytes = field(init=False, repr=False)
    name_bytes: bytes = field(init=False, repr=False)
    limit_bytes: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        item = f'"{self.name}";q={self.limit};w={self.window}'
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "item_bytes", item.encode())
        object.__setattr__(self, "name_bytes", self.name.encode())
        object.__setattr__(self, "limit_bytes", b"%d" % self.limit)


class RouteRule(msgspec.Struct, kw_only=True, frozen=True):
    """An extra limit on the paths under `prefix` (and `methods`, if given), per caller."""

    prefix: str
    limit: int
    window_seconds: int = 60
    methods: tuple[str, ...] = ()
    name: str | None = None


class Limits(msgspec.Struct, kw_only=True, frozen=True):
    """Every number of the rate limits (from the gateway's settings)."""

    key_per_minute: int = 100
    key_burst: int = 20
    user_per_hour: int = 1000
    anonymous_per_hour: int = 100
    webhooks_per_minute: int = 600
    organizations: dict[str, float] = {}
    routes: tuple[RouteRule, ...] = ()


class Policies:
    """Resolves the (policy, caller) buckets of each request; policies are made once, cached."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._made: dict[tuple[str, int, int], Policy] = {}
        self._routes: list[tuple[RouteRule, Policy]] = []
        for index, rule in enumerate(limits.routes):
            name = rule.name or f"route{index + 1}"
            if not _NAME.fullmatch(name):
                raise ValueError(f"route limit name {name!r}: use 1-32 of a-z 0-9 _ -")
            if rule.limit < 0 or rule.window_seconds < 1:
                raise ValueError(f"route limit {name!r}: limit >= 0 and window_seconds >= 1")
            methods = tuple(method.upper() for method in rule.methods)
            rule = msgspec.structs.replace(rule, methods=methods)
            self._routes.append((rule, Policy(name, rule.limit, rule.window_seconds)))
        self.anonymous = self.policy("ip", limits.anonymous_per_hour, 3600)
        self.webhooks = self.policy("webhooks", limits.webhooks_per_minute, 60)

    def policy(self, name: str, limit: int, window: int) -> Policy:
        """The policy of these numbers (the same object each time)."""
        made = self._made.get((name, limit, window))
        if made is None:
            made = self._made[(name, limit, window)] = Policy(name, max(0, limit), window)
        return made

    @property
    def longest_window(self) -> int:
        """The longest window of any policy, in seconds (how long a counter must live)."""
        return max([3600, *(policy.window for _, policy in self._routes)])

    def _scaled(self, organization_id: str, limit: int) -> int:
        multiplier = self.limits.organizations.get(organization_id)
        return limit if multiplier is None else int(limit * multiplier)

    def of_caller(
        self, principal: Principal, client_ip: str, *, path: str, key_limit: int | None
    ) -> tuple[Policy, str]:
        """The caller's own bucket: its API key, its user, or (anonymous) its address."""
        if principal.via == "api_key":
            per_minute = key_limit if key_limit is not None else self.limits.key_per_minute
            limit = self._scaled(principal.organization_id, per_minute) + self.limits.key_burst
            key = principal.api_key_id or principal.organization_id
            return self.policy("key", limit, 60), "k:" + key
        if principal.user_id is not None:
            limit = self._scaled(principal.organization_id, self.limits.user_per_hour)
            return self.policy("user", limit, 3600), "u:" + principal.user_id
        if path.startswith("/webhooks/"):
            return self.webhooks, "i:" + client_ip
        return self.anonymous, "i:" + client_ip

    def of_route(self, path: str, method: str) -> list[Policy]:
        """The extra route policies that apply to `method path` (most often none)."""
        if not self._routes:
            return []
        return [
            policy
            for rule, policy in self._routes
            if path.startswith(rule.prefix) and (not rule.methods or method in rule.methods)
        ]
