"""The sandbox agent: runs commands inside the container for the runner, without `docker exec`.

Mounted read-only into every docker sandbox and started by the container's command with the
image's own `python3`; it needs only what `python3-minimal` has (no asyncio, no json). It
listens on a unix socket in a directory shared with the runner; each connection runs one
command. A `docker exec` costs the engine tens of milliseconds, a fork here about one. It has
exactly the sandbox's rights (the sandbox user, no capabilities): code in the sandbox can stop
it, and then the runner falls back to `docker exec`.

Frames, both ways: one kind byte, a 4-byte big-endian length, the data.
- runner -> agent: C (the command), D (the working directory), V (one `NAME=value` of the
  environment, repeated), G (go); then I (stdin data), E (stdin end), K (kill the command and
  everything it started).
- agent -> runner: O (stdout), R (stderr), then X: the exit code in ASCII, or `!` and why the
  command could not start.
"""

import contextlib
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading

HEADER = struct.Struct(">cI")
SHELL = "/bin/sh"


def frame(kind: bytes, data: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(data)) + data


def read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the runner hung up")
        data += chunk
    return data


def read_frame(connection: socket.socket) -> tuple[bytes, bytes]:
    kind, size = HEADER.unpack(read_exactly(connection, HEADER.size))
    return kind, read_exactly(connection, size)


def descendants(root: int) -> set[int]:
    """`root` and every process below it (followed through the parent pids in /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def kill_tree(leader: int) -> None:
    """SIGKILL the command's group and every descendant, until nothing is left."""
    for _ in range(50):
        with contextlib.suppress(OSError):
            os.killpg(leader, signal.SIGKILL)
        alive = 0
        for pid in descendants(leader):
            try:
                os.kill(pid, signal.SIGKILL)
                alive += 1
            except OSError:
                pass
        if not alive:
            return


class Command:
    """One connection: read the request, run it, stream its output, report its exit."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.sending = threading.Lock()

    def send(self, kind: bytes, data: bytes = b"") -> None:
        with self.sending:
            self.connection.sendall(frame(kind, data))

    def run(self) -> None:
        try:
            self._run()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.connection.close()

    def _run(self) -> None:
        command, cwd, env = "", None, dict(os.environ)
        while True:
            kind, data = read_frame(self.connection)
            if kind == b"C":
                command = data.decode()
            elif kind == b"D":
                cwd = data.decode()
            elif kind == b"V":
                name, _, value = data.decode().partition("=")
                env[name] = value
            elif kind == b"G":
                break
        try:
            process = subprocess.Popen(  # the user's command, in their own sandbox
                [SHELL, "-c", command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        except (OSError, ValueError) as error:
            self.send(b"X", b"!" + str(error).encode())
            return
        try:
            threading.Thread(target=self._commands, args=(process,), daemon=True).start()
        except RuntimeError:  # no thread to be had (the pids limit): no way to stop it later
            kill_tree(process.pid)
            process.wait()
            self.send(b"X", b"!the sandbox has no room for another process (pids limit)")
            return
        self._pump(process)
        code = process.wait()
        self.send(b"X", str(128 - code if code < 0 else code).encode())  # signal N: 128 + N

    def _pump(self, process: "subprocess.Popen[bytes]") -> None:
        """stdout and stderr to the runner as they come, until both close."""
        assert process.stdout is not None
        assert process.stderr is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, b"O")
            selector.register(process.stderr, selectors.EVENT_READ, b"R")
            while selector.get_map():
                for key, _ in selector.select():
                    data = os.read(key.fd, 65536)
                    if data:
                        self.send(key.data, data)
                    else:
                        selector.unregister(key.fileobj)

    def _commands(self, process: "subprocess.Popen[bytes]") -> None:
        """Stdin and kill from the runner; if the runner hangs up, the command goes too."""
        assert process.stdin is not None
        try:
            while True:
                kind, data = read_frame(self.connection)
                if kind == b"I":
                    with contextlib.suppress(OSError):
                        process.stdin.write(data)
                        process.stdin.flush()
                elif kind == b"E":
                    with contextlib.suppress(OSError):
                        process.stdin.close()
                elif kind == b"K":
                    kill_tree(process.pid)
        except (ConnectionError, OSError, struct.error):
            if process.poll() is None:
                kill_tree(process.pid)


def main(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # left by an agent that was killed
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(64)
    while True:
        connection, _ = server.accept()
        try:
            threading.Thread(target=Command(connection).run, daemon=True).start()
        except RuntimeError:  # no thread to be had (the pids limit): this one is refused
            connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
