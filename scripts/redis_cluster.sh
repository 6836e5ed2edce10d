#!/usr/bin/env bash
# A Redis Cluster on loopback for tests, labs and CI: 3 masters + 3 replicas, no persistence.
#
#   scripts/redis_cluster.sh start PORT  -> starts six `redis-server --cluster-enabled yes` on
#                                          127.0.0.1:PORT..PORT+5 (cluster bus: +10000), joins them with
#                                          `redis-cli --cluster create --cluster-replicas 1`, waits (max
#                                          ~30 s) until every node reports cluster_state:ok, knows the
#                                          three replicas and every replica is in sync, prints the
#                                          state directory
#   scripts/redis_cluster.sh stop DIR    -> stops every node of that cluster by the pid recorded in DIR
#                                          (SIGTERM, SIGKILL after 5 s) and removes DIR
#
# Then: export PATTERNS_REDIS_CLUSTER_URL=redis+cluster://127.0.0.1:PORT
# The state directory is ${TMPDIR:-/tmp}/patterns-redis-cluster-PORT: one folder per node with its
# nodes.conf, log and pid file. No RDB snapshot, no AOF: the cluster's data lives in memory only.
# Six idle nodes take about 6 x 8 MB of RAM.
set -euo pipefail

WAIT_SECONDS=30
NODES=6
# How long a master may be unreachable before the others mark it failed and its replica takes over.
# Short, so a failover experiment on this cluster completes in a few seconds (the default is 15 s).
NODE_TIMEOUT_MS="${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}"

usage() { echo "usage: $0 start PORT | stop DIR" >&2; exit 2; }

state_dir() { echo "${TMPDIR:-/tmp}/patterns-redis-cluster-$1"; }

answers() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }

stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for (( i = 0; i < 50; i++ )); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || { echo "no cluster state directory $dir" >&2; exit 1; }
  local pidfile
  for pidfile in "$dir"/*/redis.pid; do
    [[ -f "$pidfile" ]] && stop_pid "$(cat "$pidfile")"
  done
  rm -rf "$dir"
}

fail() {  # message, state dir: print the message and the nodes' logs, stop what started
  echo "$1" >&2
  local log
  for log in "$2"/*/redis.log; do [[ -f "$log" ]] && { echo "== $log" >&2; tail -n 20 "$log" >&2; }; done
  stop "$2" || true
  exit 1
}

start() {
  local base="$1"
  [[ "$base" =~ ^[0-9]+$ ]] && (( base > 0 && base + NODES - 1 + 10000 < 65536 )) \
    || { echo "PORT must be 1-$(( 65535 - 10000 - NODES + 1 )) (the bus ports are +10000), got '$base'" >&2; exit 2; }
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    || { echo "redis-server and redis-cli are needed (Debian package redis-server)" >&2; exit 1; }
  local dir port pid addresses=()
  dir="$(state_dir "$base")"
  if [[ -e "$dir" ]]; then  # left over from a run that was killed: reuse the name if no node lives
    local pidfile
    for pidfile in "$dir"/*/redis.pid; do
      if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "a cluster on port $base is running (pid $(cat "$pidfile")): $0 stop $dir" >&2; exit 1
      fi
    done
    rm -rf "$dir"
  fi
  for (( port = base; port < base + NODES; port++ )); do
    if answers "$port"; then echo "port $port on 127.0.0.1 is already in use" >&2; exit 1; fi
  done
  mkdir -p "$dir"
  for (( port = base; port < base + NODES; port++ )); do
    mkdir -p "$dir/$port"
    nohup redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT_MS" \
      --save "" --appendonly no --repl-diskless-sync-delay 0 \
      --daemonize no --logfile redis.log >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$dir/$port/redis.pid"
    addresses+=("127.0.0.1:$port")
  done
  for (( port = base; port < base + NODES; port++ )); do
    local up=""
    for (( i = 0; i < 50; i++ )); do
      if answers "$port"; then up=1; break; fi
      sleep 0.1
    done
    [[ -n "$up" ]] || fail "redis-server on 127.0.0.1:$port did not answer within 5 s" "$dir"
  done
  redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
    || fail "redis-cli --cluster create failed: $(tail -n 5 "$dir/create.log")" "$dir"
  local tries=$(( WAIT_SECONDS * 10 ))
  for (( i = 0; i < tries; i++ )); do
    local ready=1
    for (( port = base; port < base + NODES; port++ )); do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || { ready=""; break; }
      # Every node must know every replica (gossip spreads the roles after `create` returns).
      [[ "$(redis-cli -p "$port" cluster nodes 2>/dev/null | awk '$3 ~ /slave/' | wc -l)" == $(( NODES / 2 )) ]] \
        || { ready=""; break; }
      if redis-cli -p "$port" info replication 2>/dev/null | grep -q '^role:slave'; then
        redis-cli -p "$port" info replication | grep -q '^master_link_status:up' || { ready=""; break; }
      else
        # The master's side too: until it lists its replica online, WAIT counts no replica.
        redis-cli -p "$port" info replication | grep -q '^slave0:.*state=online' || { ready=""; break; }
      fi
    done
    if [[ -n "$ready" ]]; then echo "$dir"; return 0; fi
    sleep 0.1
  done
  fail "the cluster on 127.0.0.1:$base-$(( base + NODES - 1 )) was not ready within ${WAIT_SECONDS}s" "$dir"
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || usage; start "$2" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
