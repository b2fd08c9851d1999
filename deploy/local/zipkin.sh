#!/usr/bin/env bash
# A local Zipkin server (in-memory storage) to look at business traces in a browser: seamwatch's
# `telemetry.traces` with `protocol: zipkin` sends to it. Optional: no test of the suite needs it;
# docs/zipkin-screenshot.ts uses it for the README's screenshot. The jar (io.zipkin:zipkin-server,
# classifier exec) comes from Maven Central and runs on the machine's java, like Kafka.
#
#   deploy/local/zipkin.sh install   fetch the jar once per version into .services/zipkin
#   deploy/local/zipkin.sh start     install, start, wait until /health answers
#   deploy/local/zipkin.sh stop      stop the server started from this repo
#   deploy/local/zipkin.sh status    exit 0 if running and answering, 3 if not
#
# Env: SEAMWATCH_ZIPKIN_PORT (default 19411), SEAMWATCH_ZIPKIN_VERSION (default 3.5.1).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${SEAMWATCH_ZIPKIN_VERSION:-3.5.1}"
PORT="${SEAMWATCH_ZIPKIN_PORT:-19411}"
STATE="$SERVICES_DIR/zipkin"
JAR="$STATE/zipkin-server-$VERSION-exec.jar"
LOGS="$STATE/logs"
PIDFILE="$STATE/zipkin.pid"
URL="http://127.0.0.1:$PORT"
READY_TIMEOUT=90

answers() {
  [[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$URL/health" 2>/dev/null)" == 200 ]]
}

cmd_install() {
  command -v java >/dev/null || die "zipkin: java not found (Zipkin 3 needs Java 17+)"
  [[ -f "$JAR" ]] && return 0
  log "zipkin: fetching io.zipkin:zipkin-server:$VERSION (exec) from Maven Central (first run only, ~130 MB)…"
  local t0 tmp="$STATE/download.tmp"
  t0="$(now)"
  rm -rf "$tmp"
  mkdir -p "$tmp" "$LOGS"
  mvn_fetch zipkin "io.zipkin:zipkin-server:$VERSION" "$STATE" "$LOGS/mvn.log" \
    dependency:copy -Dartifact="io.zipkin:zipkin-server:$VERSION:jar:exec" -DoutputDirectory="$tmp"
  mv "$tmp/zipkin-server-$VERSION-exec.jar" "$JAR"
  rm -rf "$tmp"
  log "zipkin: jar fetched in $(elapsed "$t0") s"
}

cmd_start() {
  take_lock zipkin
  local pid t0 i
  if pid="$(live_pid "$PIDFILE" "$JAR")"; then
    answers && return 0
  else
    rm -f "$PIDFILE"
    port_open "$PORT" && die "zipkin: port $PORT on 127.0.0.1 is taken by a process not started from $REPO_ROOT; set SEAMWATCH_ZIPKIN_PORT"
    cmd_install
    mkdir -p "$LOGS"
    t0="$(now)"
    log "zipkin: starting $VERSION on $URL…"
    echo "=== $(date -u +%FT%TZ) zipkin.sh start ===" >>"$LOGS/zipkin.out"
    # In-memory storage, loopback only; setsid so a Ctrl-C in the calling terminal does not reach it.
    (cd "$STATE" && STORAGE_TYPE=mem QUERY_PORT="$PORT" exec setsid java -Xmx256m -XX:+ExitOnOutOfMemoryError \
      -jar "$JAR" --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port="$PORT" \
      </dev/null >>"$LOGS/zipkin.out" 2>&1 9>&-) &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
  for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
    answers && { log "zipkin: ready${t0:+ in $(elapsed "$t0") s} ($URL)"; return 0; }
    proc_alive "$pid" || break
    sleep 0.2
  done
  tail -n 25 "$LOGS/zipkin.out" >&2
  die "zipkin: not answering on $URL (logs in $LOGS)"
}

cmd_stop() {
  take_lock zipkin
  local pid
  if pid="$(live_pid "$PIDFILE" "$JAR")"; then
    stop_pid "$pid" zipkin 30
    log "zipkin: stopped"
  else
    log "zipkin: not running"
  fi
  rm -f "$PIDFILE"
}

cmd_status() {
  local pid
  if pid="$(live_pid "$PIDFILE" "$JAR")" && answers; then
    log "zipkin: running (pid $pid), $URL"
    return 0
  fi
  log "zipkin: not running"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
