#!/usr/bin/env bash
# Build the base of the service image, skiff-python-base:bookworm, with debootstrap and
# `docker import` (no registry needed; only a Debian mirror): Debian bookworm minbase with
# python3 (3.11) and python3-venv, ca-certificates, and the unprivileged user `skiff`
# (uid/gid 10001, home /app). No compilers: every dependency of the workspace has a wheel.
# Idempotent: the image carries the hash of this script as label org.skiff.recipe and is
# rebuilt only when the script changes, or with FORCE=1. Needs root (debootstrap).
# Env: SKIFF_BASE_IMAGE, DEBIAN_MIRROR, FORCE.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "base-image: $*"; }

image=${SKIFF_BASE_IMAGE:-skiff-python-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
packages=python3,python3-venv,ca-certificates
recipe=$(sha256sum "$0" | cut -c1-16)

docker info >/dev/null 2>&1 || { say "no Docker engine answers; run 'make docker-engine' first"; exit 1; }
current=$(docker image inspect -f '{{ index .Config.Labels "org.skiff.recipe" }}' "$image" 2>/dev/null || true)
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$recipe" ]; then
    say "$image is up to date (recipe $recipe)"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { say "building $image needs root (debootstrap); run 'sudo make images'"; exit 1; }
if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
fi

work=$(mktemp -d /tmp/skiff-base-image.XXXXXX)
rootfs=$work/rootfs
cleanup() {
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
echo "skiff:x:10001:10001:skiff:/app:/usr/sbin/nologin" >>"$rootfs/etc/passwd"
echo "skiff:x:10001:" >>"$rootfs/etc/group"
echo "skiff:!:19000:0:99999:7:::" >>"$rootfs/etc/shadow"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log

previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.skiff.recipe=$recipe" \
    - "$image" >/dev/null
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
fi
say "built $image (recipe $recipe, $(docker image inspect -f '{{.Size}}' "$image") bytes)"
