#!/usr/bin/env bash
# A real etcd on loopback for tests, labs and chapter 15 (Debian's etcd-server, in-memory-ish: a fresh
# data directory under $TMPDIR, removed on stop).
#
#   scripts/etcd.sh start CLIENT_PORT [PEER_PORT]  -> starts etcd on 127.0.0.1:CLIENT_PORT (peer port
#                                                    default CLIENT_PORT+1) in the background, waits
#                                                    (max ~20 s) until it answers, prints the pid file
#   scripts/etcd.sh stop PIDFILE                   -> stops that etcd (by its pid), removes its data
#
# Then: export PATTERNS_ETCD_URL=http://127.0.0.1:CLIENT_PORT
# The etcd log and data directory sit next to the pid file (<pidfile>.log, <pidfile>.data).
set -euo pipefail
# shellcheck source=scripts/pidfile.sh
source "$(dirname "${BASH_SOURCE[0]}")/pidfile.sh"

WAIT_SECONDS=20
ETCD="${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}"

usage() { echo "usage: $0 start CLIENT_PORT [PEER_PORT] | stop PIDFILE" >&2; exit 2; }

check_port() {
  [[ "$1" =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )) || { echo "port must be 1-65535, got '$1'" >&2; exit 2; }
}

healthy() {  # etcd's gRPC gateway answers a status request
  curl -sf -m 1 -X POST -d '{}' "http://127.0.0.1:$1/v3/maintenance/status" >/dev/null 2>&1
}

start() {
  local port="$1" peer="${2:-$(( $1 + 1 ))}"
  check_port "$port"; check_port "$peer"
  [[ -x "$ETCD" ]] || { echo "etcd not found (apt-get install etcd-server)" >&2; exit 1; }
  if healthy "$port"; then echo "something already answers on 127.0.0.1:$port" >&2; exit 1; fi
  local pidfile="${TMPDIR:-/tmp}/patterns-etcd-$port.pid"
  local logfile="$pidfile.log" data="$pidfile.data"
  rm -rf "$data"
  nohup "$ETCD" --name "patterns-$port" --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "patterns-$port=http://127.0.0.1:$peer" \
    >"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  for (( i = 0; i < WAIT_SECONDS * 5; i++ )); do
    if healthy "$port"; then echo "$pidfile"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "etcd exited before answering on 127.0.0.1:$port; its log:" >&2; tail -20 "$logfile" >&2
      rm -f "$pidfile"; exit 1
    fi
    sleep 0.2
  done
  echo "etcd did not answer on 127.0.0.1:$port within ${WAIT_SECONDS}s; its log:" >&2
  tail -20 "$logfile" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  exit 1
}

stop() {
  [[ -f "$1" ]] || { echo "no pid file $1" >&2; exit 1; }
  stop_pidfile "$1"
  rm -rf "$1.data"
}

case "${1:-}" in
  start) [[ $# -ge 2 && $# -le 3 ]] || usage; start "$2" ${3:+"$3"} ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
