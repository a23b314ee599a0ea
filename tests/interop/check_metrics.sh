#!/usr/bin/env bash
# Validates a Prometheus exposition with software nobody here wrote:
#
#   bash check_metrics.sh FILE text|openmetrics [check_metrics.py options...]
#
# text: `promtool check metrics` (Prometheus's own parser and linter), then
# check_metrics.py (prometheus_client's text parser). openmetrics: check_metrics.py
# with prometheus_client's OpenMetrics parser (promtool reads only the text format).
# Exit 77 (ctest SKIP_RETURN_CODE) when promtool or the Python module is missing;
# `bash cmake/scripts/setup-debian.sh` installs both.
set -euo pipefail

file=${1:?usage: check_metrics.sh FILE text|openmetrics [--expect SERIES=VALUE ...]}
format=${2:?usage: check_metrics.sh FILE text|openmetrics [--expect SERIES=VALUE ...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3

if ! command -v promtool >/dev/null 2>&1; then
  echo "check_metrics: SKIPPED: promtool not found (Debian package prometheus)" >&2
  exit 77
fi
if ! "$python" -c 'import prometheus_client' 2>/dev/null; then
  echo "check_metrics: SKIPPED: $python has no prometheus_client (Debian package python3-prometheus-client)" >&2
  exit 77
fi

case "$format" in
  text)
    # promtool exits 0 on success, 3 on lint problems, 1 on parse errors.
    if ! promtool check metrics < "$file"; then
      echo "check_metrics: promtool check metrics refused $file" >&2
      exit 1
    fi
    echo "check_metrics: promtool check metrics: $file OK" >&2
    ;;
  openmetrics) ;;
  *) echo "check_metrics: unknown format '$format' (text or openmetrics)" >&2; exit 2 ;;
esac

exec "$python" "$here/check_metrics.py" "$file" "$format" "$@"
