# Sourced by the server scripts (kafka_broker.sh, etcd.sh): stop a background server by its pid file.
# stop_pidfile PIDFILE: TERM the recorded pid, wait up to 5 s, then KILL; remove the pid file.
stop_pidfile() {
  local pidfile="$1"
  [[ -f "$pidfile" ]] || { echo "no pid file $pidfile" >&2; exit 1; }
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for (( i = 0; i < 50; i++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}
