"""skiff_sandbox_runner: holds the sandboxes of one machine (see `app.py` and docs/sandboxes.md).

Layout: `service.py` starts the runner (backend, adoption, registry, warm pool, lifecycle
loop); `handlers.py` and `rpc.py` are its bus surface; `sessions/` starts, meters, pauses and
stops sandboxes; `tasks/` runs commands and streams their output; `files/` serves the file
routes; `backends/` and `workspace.py` are where sandboxes and their files actually live.
"""
