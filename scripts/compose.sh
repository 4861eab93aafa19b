#!/usr/bin/env bash
# Print the Compose command to use, installing the pinned one when none is there.
# Pinned: Debian bookworm's docker-compose 1.29.2-3 (Compose v1, Python). Compose v2 is not in
# Debian bookworm, and no registry this project uses (PyPI, npm, Debian) ships it, so v1.29 is
# what CI installs; v1.29 reads the Compose Specification (depends_on conditions, profiles).
# An existing `docker compose` (v2) or docker-compose 1.29+ is used as it is.
# Usage: COMPOSE=$(scripts/compose.sh)    Env: COMPOSE (a command to use as given).
set -euo pipefail

PINNED=1.29.2-3

if [ -n "${COMPOSE:-}" ]; then
    echo "$COMPOSE"
    exit 0
fi
if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
    exit 0
fi
if command -v docker-compose >/dev/null 2>&1; then
    version=$(docker-compose version --short 2>/dev/null || echo 0)
    if printf '1.29.0\n%s\n' "$version" | sort -V -C; then
        echo "docker-compose"
        exit 0
    fi
    echo "compose: docker-compose $version is older than 1.29; installing $PINNED" >&2
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "compose: no Compose found; install Docker Compose v2 or docker-compose >= 1.29" >&2
    exit 1
fi
echo "compose: installing docker-compose=$PINNED with apt-get" >&2
apt-get update >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "docker-compose=$PINNED" >&2
echo "docker-compose"
