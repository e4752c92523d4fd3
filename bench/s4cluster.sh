#!/usr/bin/env bash
# S4 (cross-node unicast) on the local Redis (127.0.0.1:6379) and on a
# 3-master Redis Cluster this script starts on ports 7101-7103: two
# cmd/plezi nodes pinned to CPU 0, plezi-bench on CPU 1.
# usage: bench/s4cluster.sh CONNS DURATION RATES...
#   e.g. bench/s4cluster.sh 10000 10s 1000 5000 10000
set -euo pipefail
conns=$1; dur=$2; shift 2
cd "$(dirname "$0")/.."
go build -o /tmp/s4-plezi ./cmd/plezi
go build -o /tmp/s4-bench ./cmd/plezi-bench
cdir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$cdir"; }
trap cleanup EXIT
for p in 7101 7102 7103; do
  mkdir -p "$cdir/$p"
  redis-server --port $p --bind 127.0.0.1 --dir "$cdir/$p" --cluster-enabled yes --cluster-config-file nodes.conf --save "" --appendonly no >/dev/null 2>&1 &
  pids+=($!)
done
for p in 7101 7102 7103; do until redis-cli -p $p ping >/dev/null 2>&1; do sleep 0.1; done; done
redis-cli --cluster create 127.0.0.1:7101 127.0.0.1:7102 127.0.0.1:7103 --cluster-replicas 0 --cluster-yes >/dev/null
until redis-cli -p 7101 cluster info | grep -q cluster_state:ok; do sleep 0.1; done
run() {
  local name=$1 url=$2 redis=$3; shift 3
  local np=()
  for port in 65101 65102; do
    PL_REDIS_URL=$url taskset -c 0 /tmp/s4-plezi -addr 127.0.0.1:$port -debug -demo -unicast -loops 1 -quiet -api-key s4-benchmark-key-123 2>/dev/null &
    np+=($!); pids+=($!)
  done
  for port in 65101 65102; do until curl -sf http://127.0.0.1:$port/healthz >/dev/null; do sleep 0.1; done; done
  for rate in "$@"; do
    echo "== $name rate=$rate"
    taskset -c 1 /tmp/s4-bench -scenario s4 -addr 127.0.0.1:65101,127.0.0.1:65102 -pid ${np[0]},${np[1]} \
      -conns $conns -rate $rate -duration $dur -payload 64 -redis $redis 2>&1 | tail -15
  done
  kill "${np[@]}"; wait "${np[@]}" 2>/dev/null || true
}
run redis "redis://127.0.0.1:6379/0" 127.0.0.1:6379 "$@"
run cluster "redis+cluster://127.0.0.1:7101?addr=127.0.0.1:7102&addr=127.0.0.1:7103" 127.0.0.1:7101 "$@"
