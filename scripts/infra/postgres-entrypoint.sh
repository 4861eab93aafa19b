#!/bin/sh
# Entrypoint of the skiff-postgres image (scripts/infra-images.sh): initdb on the first start,
# then PostgreSQL in the foreground on every address. It follows the official image's
# conventions so either image fits skiff_testing.containers: POSTGRES_PASSWORD (required; the
# superuser is `postgres`), PGDATA, POSTGRES_INITDB_ARGS, and arguments go to postgres
# (`-c port=15432`). Only shell builtins are used: the image has no coreutils.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=/tmp/.initdb-password
    (umask 077 && printf '%s' "$POSTGRES_PASSWORD" >"$pwfile")
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags
    initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=scram-sha-256 \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C ${POSTGRES_INITDB_ARGS:-}
    : >"$pwfile"
    # Clients come from the container network, not only loopback: any address, with the password.
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
fi
exec postgres -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
