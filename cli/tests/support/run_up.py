"""`skiff up` with the fake services, as a process of its own (for the signal tests).

Usage: python run_up.py ROOT PG_PORT NATS_PORT PORTS_JSON [RESTART_DELAY]
(RESTART_DELAY: seconds before a crashed process or server starts again; FAST_RESTART's
otherwise.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fakes import FAST_RESTART, fake_command
from skiff_cli.console import configure_console
from skiff_cli.process import RestartPolicy
from skiff_cli.up import UpOptions, run_up

if __name__ == "__main__":
    root, pg_port, nats_port, ports = sys.argv[1:5]
    restart = FAST_RESTART
    if len(sys.argv) > 5:
        delay = float(sys.argv[5])
        restart = RestartPolicy(initial_delay=delay, max_delay=delay, stable_after=60.0)
    configure_console()
    options = UpOptions(
        root=Path(root),
        pg_port=int(pg_port),
        nats_port=int(nats_port),
        ports=json.loads(ports),
        command=fake_command,
        restart=restart,
        stop_timeout=5.0,
    )
    sys.exit(run_up(options))
