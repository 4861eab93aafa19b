#!/bin/bash
# The service image's HEALTHCHECK: 200 from GET ${1:-/ready} on 127.0.0.1:$SKIFF_PORT.
# Plain bash (/dev/tcp): a check every few seconds must cost a fork, not a Python start-up.
set -u
port=${SKIFF_PORT:-}
if [[ -z $port ]]; then
    echo "skiff-healthcheck: SKIFF_PORT is not set" >&2
    exit 1
fi
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "${1:-/ready}" >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ $status =~ ^HTTP/1\.[01]\ 200 ]] || { echo "${status%$'\r'}"; exit 1; }
