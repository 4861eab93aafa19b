"""What the machine's CPUs did while the hold samples were taken, from Linux's /proc/stat.

`steal` is time the hypervisor gave to other guests while this one wanted to run. The hold
pairs are a serial chain of seven process wake-ups against the echo's four, so a contended
host stretches them more than the baseline: a run with steal is not comparable to a quiet one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTimes:
    """Ticks summed over every CPU since boot."""

    busy: int
    steal: int
    total: int


def cpu_times() -> CpuTimes | None:
    """Now; None where there is no /proc/stat."""
    try:
        first = STAT.read_text().splitlines()[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    busy = user + nice + system + irq + softirq
    return CpuTimes(busy=busy, steal=steal, total=busy + idle + iowait + steal)


def described(before: CpuTimes | None, after: CpuTimes | None) -> str:
    """`busy` and `steal` as shares of all CPU time between the two readings."""
    if before is None or after is None or after.total <= before.total:
        return "unknown (no /proc/stat)"
    total = after.total - before.total
    busy = 100 * (after.busy - before.busy) / total
    steal = 100 * (after.steal - before.steal) / total
    return f"busy {busy:.0f}%, steal {steal:.1f}% of all CPUs' time"
