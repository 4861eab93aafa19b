"""Where a sign-in may send the browser back to: this app's own origins, nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit

from skiff_kit.errors import BadRequest

MAX_REDIRECT_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL (default port dropped), else None."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{parts.hostname}"
    return f"{scheme}://{parts.hostname}:{port}"


def resolve_redirect(target: str, *, public_url: str, allowed_origins: frozenset[str]) -> str:
    """`target` as an absolute URL if it stays on an allowed origin; 400 otherwise.

    A path (`/settings/accounts`) is taken relative to the public URL; `//host` and
    backslashes are refused because browsers read them as another host.
    """
    if len(target) > MAX_REDIRECT_LENGTH:
        raise _not_allowed(target[:80] + "...")
    if target.startswith("/") and not target.startswith("//"):
        absolute = public_url.rstrip("/") + target
    else:
        absolute = target
    if origin_of(absolute) not in allowed_origins:
        raise _not_allowed(target)
    return absolute


def _not_allowed(target: str) -> BadRequest:
    return BadRequest(
        "redirect_to must be a path of this app or a URL on one of its allowed origins.",
        code="redirect_not_allowed",
        details={"redirect_to": target},
    )
