#!/bin/sh
# S7: N plezi nodes on one port (SO_REUSEPORT) sharing the local Redis, and
# one broadcast scenario (plezi-bench s7, which is s3) across all their
# connections: a message sent on /demo/push (cmd/plezi -demo's raw push
# route) at one node reaches every /demo/push connection of every node
# (local fan-out + one Redis publish per node).
#
#   bench/s7.sh [nodes] [connections] [payload]     defaults: 7 100000 64
#
# A shortcut with any size: the suite runs S7 too (bench/run.sh -only s7,
# pinned, repeated, into RESULTS.md). A process may hold 20,000 open files
# here: keep connections/nodes below about 19,000. The load generator
# splits its side over worker processes.
set -e
cd "$(dirname "$0")/.."
NODES=${1:-7}
CONNS=${2:-100000}
PAYLOAD=${3:-64}
PORT=65300
[ "$(redis-cli -h 127.0.0.1 ping)" = PONG ] || { echo "s7: Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
go build -o /tmp/s7-plezi ./cmd/plezi
go build -o /tmp/s7-bench ./cmd/plezi-bench
pids=""
trap 'kill $pids 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
for i in $(seq 1 "$NODES"); do
  PL_REDIS_URL=redis://127.0.0.1:6379/0 /tmp/s7-plezi -addr 127.0.0.1:$PORT -reuseport -loops 1 -quiet -demo &
  pids="$pids $!"
done
tries=0
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do
  tries=$((tries + 1)); [ $tries -lt 100 ] || { echo "s7: nodes did not come up" >&2; exit 1; }
  sleep 0.1
done
/tmp/s7-bench -addr 127.0.0.1:$PORT -push-path /demo/push -scenario s7 -conns "$CONNS" -payload "$PAYLOAD" -count 5 \
  -pid "$(echo $pids | tr ' ' ',')" -label "$NODES nodes over Redis"
