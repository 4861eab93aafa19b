"""`SKIFF_*` variables nothing in Skiff reads: a service names each at start, with a hint.

A misspelled setting would otherwise do nothing, silently. The variables Skiff knows are this
service's own fields plus `known_settings.json` (every service's settings and the variables
of compose, the container commands, the tests and the stand-ins), generated with docs/settings.md
by `python -m skiff_cli.settings_reference`; so a shared environment (one `.env`, a Kubernetes
ConfigMap, `skiff up` passing one shell's variables to every service) does not warn.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

import msgspec

from skiff_kit.logging import get_logger
from skiff_kit.settings import ServiceSettings, env_name

PREFIX = "SKIFF_"
KNOWN_SETTINGS_FILE = "known_settings.json"

_log = get_logger("skiff.settings")


class KnownSettings(msgspec.Struct, frozen=True):
    """The content of `known_settings.json`."""

    generated_by: str
    names: list[str]


class UnknownVariable(msgspec.Struct, frozen=True):
    """A `SKIFF_*` variable nothing reads, and the known name closest to it (if any is close)."""

    name: str
    hint: str | None


@cache
def known_names() -> frozenset[str]:
    """Every `SKIFF_*` variable some part of Skiff reads (the packaged list)."""
    raw = resources.files("skiff_kit").joinpath(KNOWN_SETTINGS_FILE).read_bytes()
    return frozenset(msgspec.json.decode(raw, type=KnownSettings).names)


def own_names(settings_cls: type[ServiceSettings]) -> frozenset[str]:
    """The variables `settings_cls` reads: `SKIFF_<FIELD>` for each of its fields."""
    return frozenset(env_name(f.encode_name, PREFIX) for f in msgspec.structs.fields(settings_cls))


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `name`, compared without the common `SKIFF_` (which would make
    every name look alike); None when none is close."""
    stems = {candidate[len(PREFIX) :]: candidate for candidate in candidates}
    found = difflib.get_close_matches(name.upper()[len(PREFIX) :], list(stems), n=1)
    return stems[found[0]] if found else None


def unknown_variables(
    environ: Mapping[str, str],
    settings_cls: type[ServiceSettings],
    *,
    known: Iterable[str] | None = None,
) -> list[UnknownVariable]:
    """Each variable of `environ` that looks like a Skiff setting (`SKIFF_`, in any case) but
    is neither a field of `settings_cls` nor in `known` (default: the packaged list)."""
    candidates = own_names(settings_cls) | frozenset(known_names() if known is None else known)
    return [
        UnknownVariable(name, closest(name, candidates))
        for name in sorted(environ)
        if name.upper().startswith(PREFIX) and name not in candidates
    ]


def warn_unknown_variables(
    settings_cls: type[ServiceSettings], environ: Mapping[str, str] | None = None
) -> list[UnknownVariable]:
    """Log a warning for each unknown `SKIFF_*` variable of the environment; returns them."""
    try:
        unknown = unknown_variables(os.environ if environ is None else environ, settings_cls)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as error:
        # A broken install must not stop a service over a hint; say so and carry on.
        _log.warning("known settings unreadable", file=KNOWN_SETTINGS_FILE, error=str(error))
        return []
    for variable in unknown:
        hint = {"did_you_mean": variable.hint} if variable.hint else {}
        _log.warning("unknown setting ignored", variable=variable.name, **hint)
    return unknown
