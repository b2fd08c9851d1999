#!/usr/bin/env bash
# Both local services (ClickHouse + Kafka) for tests and local runs, and chromium for browser tests.
#
#   deploy/local/services.sh up      install if needed, start both, wait until both answer;
#                                    prints the connection settings on stdout as KEY=value lines
#   deploy/local/services.sh up kafka   only Kafka: what `npm start` needs, since its store is
#                                    ClickHouse embedded in the process (no server, no root)
#   deploy/local/services.sh up cluster   only the local ClickHouse cluster (cluster.sh): ZooKeeper
#                                    and four 18.16 servers, two shards of two replicas, for the
#                                    cluster tests and `store.clickhouse.cluster: seamwatch`
#   deploy/local/services.sh down    stop both, and the cluster if it runs (data is kept in .services/)
#   deploy/local/services.sh status  exit 0 only if both run and answer
#
# `up` is idempotent and quick when both are already up, so tests and CI may call
# it every time. Progress goes to stderr; stdout only has the env lines, e.g.
#   set -a; eval "$(bash deploy/local/services.sh up)"; set +a
# Reset everything: `deploy/local/services.sh down && rm -rf .services`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

env_lines() {
  echo "SEAMWATCH_KAFKA_BROKERS=127.0.0.1:${SEAMWATCH_KAFKA_PORT:-19092}"
  # Only when the server runs: SEAMWATCH_CLICKHOUSE_URL switches seamwatch to it.
  [[ "${1:-}" == kafka ]] || echo "SEAMWATCH_CLICKHOUSE_URL=http://127.0.0.1:${SEAMWATCH_CH_HTTP_PORT:-18123}"
}

cmd_up_kafka() {
  local t0
  t0="$(date +%s.%N)"
  bash "$HERE/kafka.sh" start
  echo "services: kafka up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
  env_lines kafka
}

cmd_up() {
  local t0 ch_pid ch_rc=0 kafka_rc=0 chromium_rc=0
  t0="$(date +%s.%N)"
  # Chromium first, alone: apt-get holds the dpkg lock, which the ClickHouse install needs too.
  bash "$HERE/chromium.sh" install || chromium_rc=$?
  # Both in parallel: on a cold machine apt-get (ClickHouse) and Maven + JVM start
  # (Kafka) overlap; on a warm one each check takes a fraction of a second.
  bash "$HERE/clickhouse.sh" start &
  ch_pid=$!
  bash "$HERE/kafka.sh" start || kafka_rc=$?
  wait "$ch_pid" || ch_rc=$?
  if ((ch_rc != 0 || kafka_rc != 0 || chromium_rc != 0)); then
    echo "services: up failed (clickhouse exit $ch_rc, kafka exit $kafka_rc, chromium exit $chromium_rc)" >&2
    exit 1
  fi
  echo "services: up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
  env_lines
}

cmd_up_cluster() {
  local t0
  t0="$(date +%s.%N)"
  bash "$HERE/cluster.sh" start
  echo "services: cluster up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2
  # Any node is an entry point; the cluster tests talk to s2r2 (see cluster.sh for the ports).
  echo "SEAMWATCH_CLUSTER_URL=http://127.0.0.1:18222"
  echo "SEAMWATCH_CLUSTER_NAME=seamwatch"
}

cmd_down() {
  local rc=0
  bash "$HERE/kafka.sh" stop || rc=1
  bash "$HERE/clickhouse.sh" stop || rc=1
  bash "$HERE/cluster.sh" stop || rc=1
  return "$rc"
}

cmd_status() {
  local rc=0
  bash "$HERE/clickhouse.sh" status || rc=$?
  bash "$HERE/kafka.sh" status || rc=$?
  return "$rc"
}

case "${1:-}" in
  up)
    case "${2:-}" in
      "") cmd_up ;;
      kafka) cmd_up_kafka ;;
      cluster) cmd_up_cluster ;;
      *) echo "usage: $0 up [kafka|cluster]" >&2; exit 2 ;;
    esac
    ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 {up [kafka|cluster]|down|status}" >&2; exit 2 ;;
esac
