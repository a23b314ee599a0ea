#!/usr/bin/env bash
# ctest metrics.exposition: has test_metrics write a realistic exposition in both
# formats (its hidden case "[exposition]") and validates them with check_metrics.sh
# (promtool check metrics, prometheus_client's text and OpenMetrics parsers), checking a
# few counts the case fed in.
#
#   bash metrics_exposition.sh TEST_METRICS_BINARY OUTPUT_DIR
#
# Exit 77 (skipped) when promtool or python3-prometheus-client is missing.
set -euo pipefail

binary=${1:?usage: metrics_exposition.sh TEST_METRICS_BINARY OUTPUT_DIR}
out=${2:?usage: metrics_exposition.sh TEST_METRICS_BINARY OUTPUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
rm -f "$out/metrics.txt" "$out/metrics.om"

MCPSSE_METRICS_OUT="$out" "$binary" "[exposition]"

expect=(
  --expect 'mcpsse_connections_accepted_total=5'
  --expect 'mcpsse_connections_open=4'
  --expect 'mcpsse_http_requests_total{method="POST",route="mcp",status="200"}=10'
  --expect 'mcpsse_http_request_duration_seconds_count{route="mcp"}=12'
  --expect 'mcpsse_http_request_duration_seconds_bucket{le="+Inf",route="sse"}=1'
  --expect 'mcpsse_http_request_duration_seconds_bucket{le="60.0",route="sse"}=0'
  --expect 'mcpsse_sessions_open{protocol_version="other"}=1'
  --expect 'mcpsse_sessions_ended_total{protocol_version="2025-03-26",reason="idle"}=1'
  --expect 'mcpsse_sse_replayed_events_total=3'
  --expect 'mcpsse_tool_calls_total{outcome="success",tool="other"}=2'
  --expect 'mcpsse_tool_calls_total{outcome="error",tool="other"}=1'
  --expect 'mcpsse_rpc_requests_total{method="other",outcome="timed_out"}=1'
  --expect 'mcpsse_rpc_requests_in_flight=1'
  --expect 'mcpsse_draining=1'
  --expect 'acme_jobs_waiting=7'
)
status=0
for format in text openmetrics; do
  file="$out/metrics.txt"
  [[ $format == openmetrics ]] && file="$out/metrics.om"
  rc=0
  bash "$here/check_metrics.sh" "$file" "$format" "${expect[@]}" || rc=$?
  if ((rc == 77)); then exit 77; fi
  if ((rc != 0)); then
    echo "metrics.exposition: $format: FAILED (exit $rc)" >&2
    status=1
  fi
done
exit "$status"
