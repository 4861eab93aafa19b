"""A stand-in service process: serves /health like a Skiff service, and fakes `migrate`.

Run as `python fake_service.py NAME [migrate]`. Behaviour switches, from the environment:
FAKE_EXIT_AT_START=NAME (exit 3 at once), FAKE_IGNORE_TERM=NAME (ignore SIGTERM),
FAKE_MIGRATE_FAIL=NAME (migrate exits 4), FAKE_MIGRATE_DB=1 (migrate writes a row as the role).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/health":
            self.send_error(404)
            return
        body = json.dumps({"status": "ok", "service": NAME, "pid": os.getpid()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class SharedServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


async def migrate() -> None:
    import asyncpg

    url = os.environ["SKIFF_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    schema = os.environ["SKIFF_DATABASE_SCHEMA"]
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".migrated (at timestamptz, tcp boolean)'
        )
        # How it came: a client on the server's Unix socket has no server address.
        await connection.execute(
            f'INSERT INTO "{schema}".migrated VALUES (now(), inet_server_addr() IS NOT NULL)'
        )
    finally:
        await connection.close()


def main() -> None:
    if sys.argv[2:] == ["migrate"]:
        if os.environ.get("FAKE_MIGRATE_FAIL") == NAME:
            print(f"migration of {NAME} went wrong: relation does not exist", flush=True)
            sys.exit(4)
        if os.environ.get("FAKE_MIGRATE_DB") == "1":
            asyncio.run(migrate())
        print(f"{NAME} migrated", flush=True)
        return
    print("ENV " + json.dumps({k: v for k, v in os.environ.items() if k.startswith("SKIFF_")}))
    if os.environ.get("FAKE_EXIT_AT_START") == NAME:
        print(f"{NAME}: cannot start, giving up", flush=True)
        sys.exit(3)
    host = os.environ["SKIFF_HOST"]
    servers = [
        SharedServer((host, int(os.environ["SKIFF_PORT"])), Handler),
        SharedServer((host, int(os.environ["SKIFF_PRIVATE_PORT"])), Handler),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    print(f"{NAME} serving", flush=True)
    stop = threading.Event()
    if os.environ.get("FAKE_IGNORE_TERM") == NAME:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.shutdown()
    print(f"{NAME} stopped", flush=True)


if __name__ == "__main__":
    main()
