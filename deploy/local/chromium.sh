#!/usr/bin/env bash
# Debian's chromium, for the headless-browser tests (the scorecard rendered as a reader sees it).
#
#   deploy/local/chromium.sh install   apt-get install chromium if /usr/bin/chromium is missing
#
# Idempotent and instant when chromium is there; called by `services.sh up`, so `npm test`
# and CI get it. apt's chatter goes to .services/log/apt-chromium.log.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

installed() {
  [[ -x /usr/bin/chromium ]]
}

cmd_install() {
  installed && return 0
  log "chromium: installing (apt-get install chromium)…"
  export DEBIAN_FRONTEND=noninteractive
  local aptlog="$SERVICES_DIR/log/apt-chromium.log" t0
  t0="$(now)"
  mkdir -p "$SERVICES_DIR/log"
  # Only a machine without package lists pays for apt-get update first.
  if ! apt-cache policy chromium 2>/dev/null | grep -qE 'Candidate: [0-9]'; then
    as_root apt-get update -q >>"$aptlog" 2>&1 || true
  fi
  if ! as_root apt-get install -y -q chromium >>"$aptlog" 2>&1; then
    log "chromium: install failed, retrying after apt-get update…"
    as_root apt-get update -q >>"$aptlog" 2>&1 || true
    if ! as_root apt-get install -y -q chromium >>"$aptlog" 2>&1; then
      tail -n 20 "$aptlog" >&2
      die "chromium: apt-get install chromium failed (log: $aptlog)"
    fi
  fi
  installed || die "chromium: /usr/bin/chromium still missing after apt-get install"
  log "chromium: installed $(dpkg-query -W -f='${Version}' chromium 2>/dev/null) in $(elapsed "$t0") s"
}

case "${1:-install}" in
  install) cmd_install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
