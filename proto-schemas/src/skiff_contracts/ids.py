"""Prefixed ids that sort by creation time: `usr_`, `org_`, `evt_` ... (API.md, Conventions)."""

from __future__ import annotations

import os
import threading
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# Two characters for each 10-bit group: 13 lookups write the 26 characters of an id, half the
# work of one character at a time (ids are made on every hot path: holds, ledger entries, events).
_PAIRS = [first + second for first in _CROCKFORD for second in _CROCKFORD]
_SHIFTS = tuple(range(120, -1, -10))  # the 10-bit groups of the 130 encoded bits, first to last
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = 0


def new_id(prefix: str) -> str:
    """`<prefix>_` + 48-bit milliseconds + 80 random bits in lower-case Crockford base32.

    Monotonic within a process: an id made in the same millisecond as the previous one is
    the previous one plus one, so "newest first" holds even for ids made back to back.
    """
    global _last
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        value = now_ms << _RANDOM_BITS | int.from_bytes(os.urandom(10), "big")
        if value <= _last:
            value = _last + 1
        _last = value
    return prefix + "_" + "".join([_PAIRS[value >> shift & 1023] for shift in _SHIFTS])
