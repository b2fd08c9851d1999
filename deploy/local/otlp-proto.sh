#!/usr/bin/env bash
# The OpenTelemetry protocol's .proto files, for the test OTLP receiver that decodes what the
# exporters send (test/support/otlp-receiver.ts). They come from Maven Central's
# io.opentelemetry.proto:opentelemetry-proto jar, which ships them beside its classes.
#
#   deploy/local/otlp-proto.sh install   fetch once per version; prints the proto root on stdout
#
# Env: SEAMWATCH_OTLP_PROTO_VERSION (default 1.11.0-alpha).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${SEAMWATCH_OTLP_PROTO_VERSION:-1.11.0-alpha}"
STATE="$SERVICES_DIR/otlp-proto"
ROOT="$STATE/$VERSION"
MARKER="$ROOT/.seamwatch-proto"

cmd_install() {
  if [[ -f "$MARKER" ]]; then
    printf '%s\n' "$ROOT"
    return 0
  fi
  command -v unzip >/dev/null || die "otlp-proto: unzip not found"
  log "otlp-proto: fetching io.opentelemetry.proto:opentelemetry-proto:$VERSION from Maven Central (first run only)…"
  local tmp="$ROOT.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  mvn_fetch otlp-proto "io.opentelemetry.proto:opentelemetry-proto:$VERSION" "$STATE" "$STATE/mvn.log" \
    dependency:copy -Dartifact="io.opentelemetry.proto:opentelemetry-proto:$VERSION" -DoutputDirectory="$tmp"
  unzip -q -o "$tmp/opentelemetry-proto-$VERSION.jar" 'opentelemetry/proto/*.proto' 'opentelemetry/proto/*/*.proto' 'opentelemetry/proto/*/*/*.proto' 'opentelemetry/proto/*/*/*/*.proto' -d "$tmp" 2>/dev/null || true
  [[ -f "$tmp/opentelemetry/proto/collector/trace/v1/trace_service.proto" ]] || die "otlp-proto: trace_service.proto missing from the jar"
  rm -f "$tmp"/*.jar
  echo "$VERSION" >"$tmp/.seamwatch-proto"
  rm -rf "$ROOT"
  mv "$tmp" "$ROOT"
  printf '%s\n' "$ROOT"
}

case "${1:-}" in
  install) cmd_install ;;
  *) die "usage: $0 install" ;;
esac
