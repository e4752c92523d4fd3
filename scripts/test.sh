#!/usr/bin/env bash
# Runs the whole test suite the way CI does: makes sure the browser (for the
# JavaScript client's tests) and a Redis on 127.0.0.1:6379 (for the cluster
# tests) are there, then runs every package with the race detector.
# Extra arguments go to `go test`, e.g. ./scripts/test.sh -run Browser -v
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=0
apt_install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  if [[ $apt_updated -eq 0 ]]; then
    "${sudo[@]}" apt-get update
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "$@"
}

redis_up() {
  [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null || true)" == "PONG" ]]
}

ensure_chromium() {
  if [[ ! -x /usr/bin/chromium ]]; then
    echo "test.sh: installing chromium" >&2
    apt_install chromium
  fi
}

ensure_redis() {
  if redis_up; then
    return
  fi
  # Debian's redis-server package brings redis-cli (redis-tools) along.
  if ! command -v redis-cli >/dev/null || ! command -v redis-server >/dev/null; then
    echo "test.sh: installing redis-server" >&2
    apt_install redis-server
  fi
  echo "test.sh: starting redis-server on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  local deadline=$((SECONDS + 20))
  until redis_up; do
    if ((SECONDS >= deadline)); then
      echo "test.sh: redis-server did not answer PONG within 20s" >&2
      exit 1
    fi
    sleep 0.1
  done
}

ensure_chromium
ensure_redis
exec go test -race -count=1 -timeout 20m ./... "$@"
