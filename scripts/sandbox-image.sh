#!/usr/bin/env bash
# Build the default sandbox image, skiff-sandbox:latest, from Debian bookworm with debootstrap
# (no registry needed; only a Debian mirror). The image runs as the unprivileged user
# `sandbox` (uid/gid 1000) in /workspace, HOME=/workspace, and idles with `sleep infinity`.
# Idempotent: the image carries the hash of this script as label skiff.recipe and is rebuilt
# only when the script changes, or with FORCE=1. Needs root and debootstrap (installed with
# apt when missing). Env: SKIFF_SANDBOX_IMAGE, DEBIAN_MIRROR, FORCE.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "sandbox-image: $*"; }

image=${SKIFF_SANDBOX_IMAGE:-skiff-sandbox:latest}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# python3-minimal and ca-certificates for users' scripts; procps (ps, pgrep) for users and
# for the containment tests. Killing a command's tree and spotting OOM kills need nothing in
# the image: the runner does both from the host (see backends/host_processes.py).
packages=python3-minimal,ca-certificates,procps
recipe=$(sha256sum "$0" | cut -c1-16)

if ! docker info >/dev/null 2>&1; then
    say "no Docker engine answers; run 'make docker-engine' first"
    exit 1
fi

current=$(docker image inspect -f '{{ index .Config.Labels "skiff.recipe" }}' "$image" 2>/dev/null || true)
previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$recipe" ]; then
    say "$image is up to date (recipe $recipe); FORCE=1 rebuilds it"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "building $image needs root (debootstrap); run 'sudo make sandbox-image'"
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "debootstrap is missing and there is no apt-get to install it"
        exit 1
    fi
    say "installing debootstrap"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
fi

work=$(mktemp -d /tmp/skiff-sandbox-image.XXXXXX)
rootfs=$work/rootfs
cleanup() {
    # debootstrap mounts /proc and /sys in the target: unmount before deleting anything.
    for mount in "$rootfs/proc" "$rootfs/sys" "$rootfs/dev/pts"; do
        if mountpoint -q "$mount" 2>/dev/null; then umount -l "$mount" || true; fi
    done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

say "debootstrap $suite (minbase + $packages) from $mirror"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}

say "adding the sandbox user (1000:1000) and /workspace; trimming caches"
echo "sandbox:x:1000:1000:sandbox:/workspace:/bin/sh" >>"$rootfs/etc/passwd"
echo "sandbox:x:1000:" >>"$rootfs/etc/group"
echo "sandbox:!:19000:0:99999:7:::" >>"$rootfs/etc/shadow"
install -d -m 0755 -o 1000 -g 1000 "$rootfs/workspace"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log

say "importing $image"
tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'USER 1000:1000' \
    --change 'WORKDIR /workspace' \
    --change 'ENV HOME=/workspace' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL skiff.recipe=$recipe" \
    --change 'CMD ["sleep", "infinity"]' \
    - "$image" >/dev/null
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
    # The old build is now untagged; drop it unless a container still uses it.
    docker image rm "$previous" >/dev/null 2>&1 || true
fi
say "built $image (recipe $recipe, $(docker image inspect -f '{{.Size}}' "$image") bytes)"
