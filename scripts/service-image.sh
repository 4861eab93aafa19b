#!/usr/bin/env bash
# Build the Skiff service image (image/Dockerfile) FROM the debootstrap base (base-image.sh).
# One image for every service: `python -m skiff_<name>` serves, `... migrate` migrates.
# Cached by content: the image carries org.skiff.content, a hash of everything that goes into
# it (the Dockerfile, uv.lock, the workspace's tracked and new files, the base's recipe); the
# build is skipped when an image with that hash exists, FORCE=1 rebuilds. Docker's layer cache
# keeps the third-party dependencies unless uv.lock or a pyproject.toml changes.
# Env: SKIFF_IMAGE (default skiff:<version>), SKIFF_BASE_IMAGE, FORCE.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "service-image: $*"; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n1)
image=${SKIFF_IMAGE:-skiff:$version}
base=${SKIFF_BASE_IMAGE:-skiff-python-base:bookworm}
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && [ -n "$(git status --porcelain -- libs proto-schemas cli services image pyproject.toml uv.lock 2>/dev/null)" ]; then
    revision="$revision-dirty"
fi

base_recipe=$(docker image inspect -f '{{ index .Config.Labels "org.skiff.recipe" }}' "$base" 2>/dev/null) || {
    say "the base image $base is missing; run scripts/base-image.sh (make images does)"
    exit 1
}
# Every file the build context holds (.dockerignore), by content, in a stable order.
content=$(
    {
        echo "base $base_recipe"
        git ls-files -z --cached --others --exclude-standard -- pyproject.toml uv.lock libs proto-schemas cli services image .dockerignore \
            | grep -zv -e '/tests/' -e '__pycache__' -e 'build-ca.crt' | sort -z | xargs -0 sha256sum
    } | sha256sum | cut -c1-16
)
current=$(docker image inspect -f '{{ index .Config.Labels "org.skiff.content" }}' "$image" 2>/dev/null || true)
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$content" ]; then
    say "$image is up to date (content $content)"
    exit 0
fi

# The build stage reaches PyPI with the host's CA bundle (a TLS-inspecting proxy needs it).
ca=${SKIFF_BUILD_CA_FILE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
if [ -f "$ca" ]; then cp "$ca" image/build-ca.crt; else : >image/build-ca.crt; fi
previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
say "building $image (content $content, revision $revision) from $base"
# --network host: the build stage fetches uv and the locked wheels from PyPI, and the engine
# here has no default bridge (scripts/docker-engine.sh).
docker build --network host -f image/Dockerfile \
    --build-arg "BASE=$base" --build-arg "VERSION=$version" \
    --build-arg "REVISION=$revision" --build-arg "CONTENT=$content" \
    -t "$image" . >/tmp/skiff-service-image.log 2>&1 || {
    tail -n 40 /tmp/skiff-service-image.log >&2
    exit 1
}
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
fi
docker image prune --force --filter "label=org.opencontainers.image.title=skiff" >/dev/null 2>&1 || true
say "built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
