# shellcheck shell=bash
# Helpers shared by deploy/local/*.sh. Sourced, not run.
# Everything these scripts create at run time lives under $SERVICES_DIR
# (<repo>/.services, git-ignored), so `rm -rf .services` resets it all.

# The repo root from this file's own location: no machine paths baked in.
LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd -P)"
SERVICES_DIR="$REPO_ROOT/.services"

# Progress goes to stderr so that stdout stays clean for `services.sh up`'s env lines.
log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Prints the pid from a pid file if that process is alive AND its command line
# contains $2 (guards against a stale pid file whose pid was reused by another
# process, which we must never signal). Returns 1 otherwise.
live_pid() {
  local pidfile="$1" marker="$2" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 1
  printf '%s\n' "$pid"
}

# True while the process exists and is not a zombie. kill -0 alone also
# succeeds on a zombie, which is what a server that died during startup is
# until the script that launched it exits.
proc_alive() {
  kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp,
# so no netcat needed).
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# SIGTERM the process, wait up to $3 seconds for it to exit, then SIGKILL.
stop_pid() {
  local pid="$1" name="$2" timeout="${3:-30}" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    proc_alive "$pid" || return 0
    sleep 0.1
  done
  log "$name: still running after ${timeout} s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    proc_alive "$pid" || return 0
    sleep 0.1
  done
  die "$name: pid $pid does not exit"
}

# mvn_fetch <name> <what> <cwd> <log file> <mvn args...>: runs Maven quietly in <cwd> (so it drops
# nothing into the repo) with its output in <log file> (Debian's Maven 3.8.7 prints stray colour
# codes even with -q -B); on failure shows the log's tail and dies naming <what>.
mvn_fetch() {
  local name="$1" what="$2" cwd="$3" logfile="$4"
  shift 4
  command -v mvn >/dev/null || die "$name: mvn not found (needed once, to fetch $what)"
  mkdir -p "$(dirname "$logfile")"
  if ! (cd "$cwd" && mvn -q -B "$@") >"$logfile" 2>&1; then
    tail -n 30 "$logfile" >&2
    die "$name: mvn could not fetch $what (log: $logfile)"
  fi
}

# install_jars <name> <version> <artifact> <version property> <main jar> <config file>: the
# runtime jars of the service's pom ($POM) in $LIBS, fetched once per version and pom content
# (the stamp in $MARKER; editing the pom, e.g. its logging jars, fetches again). Through a temp
# dir renamed at the end, so an interrupted download never leaves a half-filled folder behind a
# marker. Refuses while the service ($PIDFILE, started with <config file>) runs on other jars.
install_jars() {
  local name="$1" version="$2" artifact="$3" property="$4" jar="$5" config="$6"
  local stamp
  stamp="$version $(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$MARKER" && "$(<"$MARKER")" == "$stamp" ]]; then
    return 0
  fi
  if live_pid "$PIDFILE" "$config" >/dev/null; then
    die "$name: jars for $version are not in place but $name is running; run '$0 stop' first"
  fi
  log "$name: fetching jars for $version from Maven Central (first run only)…"
  local t0 tmp="$LIBS.tmp"
  t0="$(now)"
  rm -rf "$tmp"
  mkdir -p "$STATE"
  mvn_fetch "$name" "$artifact" "$STATE" "$LOGS/mvn.log" \
    -f "$POM" -D"$property=$version" dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime
  [[ -f "$tmp/$jar" ]] || die "$name: $jar missing after mvn"
  printf '%s\n' "$stamp" >"$tmp/.seamwatch-libs"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  log "$name: jars fetched in $(elapsed "$t0") s ($(du -sh "$LIBS" | cut -f1))"
}

# Seconds since the epoch with a fraction, for the "ready in N s" lines.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Runs as root on CI and these machines; elsewhere fall back to sudo for apt.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# Takes an exclusive lock for the rest of the calling script, so that two
# `up`s run at once (e.g. parallel test jobs) do not both start a server.
# The fd is closed again for the daemons we launch (see 9>&- there), or they
# would hold the lock for their whole life.
take_lock() {
  mkdir -p "$SERVICES_DIR"
  exec 9>"$SERVICES_DIR/.$1.lock"
  flock 9
}
