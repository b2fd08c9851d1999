#!/usr/bin/env bash
# Local ClickHouse (Debian's clickhouse-server 18.16) for tests and local runs.
#
#   deploy/local/clickhouse.sh install   apt-get install the server and client if missing
#   deploy/local/clickhouse.sh start     install, then start in the background and wait for /ping
#   deploy/local/clickhouse.sh stop      stop the server started from this repo
#   deploy/local/clickhouse.sh status    exit 0 if running and answering, 3 if not
#
# State (config, data, logs, pid file) lives in <repo>/.services/clickhouse.
# Ports: SEAMWATCH_CH_HTTP_PORT (default 18123), SEAMWATCH_CH_TCP_PORT (default 19000).
# SEAMWATCH_CH_STATE (default .services/clickhouse) runs a second server with its own data
# (the fault table does).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HTTP_PORT="${SEAMWATCH_CH_HTTP_PORT:-18123}"
TCP_PORT="${SEAMWATCH_CH_TCP_PORT:-19000}"
STATE="${SEAMWATCH_CH_STATE:-$SERVICES_DIR/clickhouse}"
LOCK=clickhouse
[[ -z "${SEAMWATCH_CH_STATE:-}" ]] || LOCK="clickhouse-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)"
PIDFILE="$STATE/clickhouse-server.pid"
CONFIG="$STATE/config.xml"
READY_TIMEOUT=30
URL="http://127.0.0.1:$HTTP_PORT"

# Debian puts the server in /usr/sbin, which is not on a normal user's PATH.
server_bin() {
  command -v clickhouse-server 2>/dev/null || { [[ -x /usr/sbin/clickhouse-server ]] && echo /usr/sbin/clickhouse-server; }
}

installed() {
  [[ -n "$(server_bin)" ]] && command -v clickhouse-client >/dev/null
}

cmd_install() {
  installed && return 0
  log "clickhouse: installing (apt-get install clickhouse-server clickhouse-client)…"
  export DEBIAN_FRONTEND=noninteractive
  local aptlog="$STATE/log/apt.log" t0
  t0="$(now)"
  mkdir -p "$STATE/log"
  # apt's chatter goes to a file; its tail is shown if the install fails.
  # A fresh machine may have no package lists yet; only then pay for apt-get update.
  # The package's postinst tries to start the system service (ports 8123/9000);
  # on these machines policy-rc.d forbids that, and our ports differ anyway.
  if ! apt-cache policy clickhouse-server 2>/dev/null | grep -qE 'Candidate: [0-9]'; then
    as_root apt-get update -q >>"$aptlog" 2>&1 || true
  fi
  if ! as_root apt-get install -y -q clickhouse-server clickhouse-client >>"$aptlog" 2>&1; then
    log "clickhouse: install failed, retrying after apt-get update…"
    as_root apt-get update -q >>"$aptlog" 2>&1 || true
    if ! as_root apt-get install -y -q clickhouse-server clickhouse-client >>"$aptlog" 2>&1; then
      tail -n 20 "$aptlog" >&2
      die "clickhouse: apt-get install clickhouse-server clickhouse-client failed (log: $aptlog)"
    fi
  fi
  installed || die "clickhouse: clickhouse-server still not found after apt-get install"
  log "clickhouse: installed $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null) in $(elapsed "$t0") s"
}

ping_ok() {
  [[ "$(curl -s --max-time 2 "$URL/ping" 2>/dev/null)" == "Ok." ]]
}

# Copies a template from deploy/local/clickhouse/ with the placeholders filled in.
render() {
  local src="$LOCAL_DIR/clickhouse/$1" dst="$STATE/$1" esc
  # Escape what is special on sed's replacement side (\, & and our | delimiter).
  esc="$(printf '%s' "$STATE" | sed -e 's/[\\&|]/\\&/g')"
  sed -e "s|@@STATE_DIR@@|$esc|g" -e "s|@@HTTP_PORT@@|$HTTP_PORT|g" -e "s|@@TCP_PORT@@|$TCP_PORT|g" \
    "$src" >"$dst.tmp"
  mv "$dst.tmp" "$dst"
}

show_error_log() {
  local f
  for f in "$STATE/log/clickhouse-server.err.log" "$STATE/log/stdout.log"; do
    if [[ -s "$f" ]]; then
      log "---- last lines of $f ----"
      tail -n 25 "$f" >&2
    fi
  done
}

wait_ready() {
  local pid="$1" t0="$2" deadline=$((SECONDS + READY_TIMEOUT))
  until ping_ok; do
    if ! proc_alive "$pid"; then
      show_error_log
      die "clickhouse: server exited during startup (see $STATE/log)"
    fi
    if ((SECONDS >= deadline)); then
      show_error_log
      die "clickhouse: no 'Ok.' from $URL/ping within ${READY_TIMEOUT} s (pid $pid still running)"
    fi
    sleep 0.2
  done
  log "clickhouse: ready in $(elapsed "$t0") s ($URL)"
}

cmd_start() {
  take_lock "$LOCK"
  cmd_install
  local pid bin t0
  if pid="$(live_pid "$PIDFILE" "$CONFIG")"; then
    # Already ours and running: a no-op when it answers, else it may still be starting.
    ping_ok && return 0
    wait_ready "$pid" "$(now)"
    return 0
  fi
  rm -f "$PIDFILE"
  if ping_ok || port_open "$HTTP_PORT" || port_open "$TCP_PORT"; then
    die "clickhouse: port $HTTP_PORT or $TCP_PORT on 127.0.0.1 is taken by a process not started from $REPO_ROOT (or started before .services was deleted: find it with \`pgrep -af clickhouse-server\`); stop it or set SEAMWATCH_CH_HTTP_PORT / SEAMWATCH_CH_TCP_PORT"
  fi

  mkdir -p "$STATE"/{data,tmp,user_files,format_schemas,log}
  render config.xml
  render users.xml
  bin="$(server_bin)"
  t0="$(now)"
  log "clickhouse: starting on $URL (tcp $TCP_PORT)…"
  echo "=== $(date -u +%FT%TZ) clickhouse.sh start ===" >>"$STATE/log/stdout.log"
  # setsid: own session, so a Ctrl-C in the terminal that ran `up` does not reach it.
  # Not clickhouse's own --daemon: that forks, and then we would not know the pid.
  # Runs as root here; ClickHouse 18.16 allows that, and the state dir is ours.
  # cwd = $STATE so that nothing stray lands in the repo. 9>&- releases our lock.
  (cd "$STATE" && exec setsid "$bin" --config-file="$CONFIG" \
    </dev/null >>"$STATE/log/stdout.log" 2>&1 9>&-) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  wait_ready "$pid" "$t0"
}

cmd_stop() {
  take_lock "$LOCK"
  local pid
  if pid="$(live_pid "$PIDFILE" "$CONFIG")"; then
    log "clickhouse: stopping (pid $pid)…"
    stop_pid "$pid" clickhouse 30
    log "clickhouse: stopped"
  else
    log "clickhouse: not running"
  fi
  rm -f "$PIDFILE"
}

cmd_status() {
  local pid
  if pid="$(live_pid "$PIDFILE" "$CONFIG")"; then
    if ping_ok; then
      log "clickhouse: running (pid $pid), $URL, version $(curl -s --max-time 2 "$URL/?query=SELECT%20version()")"
      return 0
    fi
    log "clickhouse: process $pid is up but $URL/ping does not answer"
    return 1
  fi
  log "clickhouse: stopped"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 {install|start|stop|status}" >&2; exit 2 ;;
esac
