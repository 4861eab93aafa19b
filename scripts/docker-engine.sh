#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine (the sandbox tests and the docker backend
# need one). Idempotent: does nothing when `docker info` already works. Otherwise installs
# docker.io with apt (root only) and starts dockerd in the background with
#   --storage-driver=overlay2 --iptables=false --bridge=none
# i.e. no default bridge and no NAT rules: sandboxes with network "none" are unaffected, and a
# sandbox asking for "egress" gets a user-defined bridge that may not reach the internet.
# Env: DOCKER_STORAGE_DRIVER (default overlay2), DOCKER_ENGINE_LOG (default .skiff/dockerd.log).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "docker-engine: $*"; }

if docker info >/dev/null 2>&1; then
    say "a Docker engine already answers ($(docker info --format '{{.ServerVersion}}')); nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "no Docker engine answers, and starting one needs root."
    say "Start Docker yourself (e.g. 'sudo systemctl start docker'), or run 'sudo make docker-engine'."
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "dockerd is not installed and there is no apt-get to install it; install Docker, then rerun."
        exit 1
    fi
    say "installing docker.io and debootstrap with apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io debootstrap
fi

log=${DOCKER_ENGINE_LOG:-.skiff/dockerd.log}
mkdir -p "$(dirname "$log")"
running=$(cat /var/run/docker.pid 2>/dev/null || true)
if [ -n "$running" ] && kill -0 "$running" 2>/dev/null; then
    say "dockerd is already running (pid $running) but does not answer yet; waiting for it"
    engine=$running
else
    driver=${DOCKER_STORAGE_DRIVER:-overlay2}
    say "starting dockerd (storage driver $driver, no iptables, no default bridge); log: $log"
    # setsid + nohup: the engine outlives this script and the make that ran it.
    setsid nohup dockerd --storage-driver="$driver" --iptables=false --bridge=none \
        >>"$log" 2>&1 </dev/null &
    engine=$!
fi

for _ in $(seq 1 60); do
    if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
        say "the engine answers ($(docker info --format '{{.ServerVersion}}'))"
        exit 0
    fi
    if ! kill -0 "$engine" 2>/dev/null; then
        say "dockerd exited; the end of its log ($log):"
        tail -n 30 "$log" >&2 || true
        exit 1
    fi
    sleep 1
done
say "dockerd did not answer within 60 s; the end of its log ($log):"
tail -n 30 "$log" >&2 || true
exit 1
