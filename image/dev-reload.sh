#!/bin/bash
# Dev only (tilt/Tiltfile, the dev overlay): run "$@" and start it again whenever
# /tmp/skiff-reload is newer than its start, which Tilt's live update touches after copying
# changed source into /app. Only core Tilt built-ins are needed for that; SIGTERM stops both.
set -u
marker=/tmp/skiff-reload
started=/tmp/skiff-reload.started
child=0
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM INT
while :; do
    : >"$started"
    "$@" &
    child=$!
    while kill -0 "$child" 2>/dev/null; do
        if [[ $marker -nt $started ]]; then
            echo "skiff-dev-reload: source changed; restarting $*" >&2
            kill -TERM "$child"
            break
        fi
        sleep 1
    done
    wait "$child"
    sleep 1
done
