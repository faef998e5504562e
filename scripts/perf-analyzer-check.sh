#!/usr/bin/env bash
# Runs Triton's unmodified perf_analyzer against `fresco serve` over HTTP (docs/serving.md,
# "Triton's tools"): it reads the server metadata, model metadata, model configuration and
# statistics at start-up, then measures infer at concurrency 1 and 2, with binary tensors and
# with JSON. Exits non-zero if perf_analyzer does. Stability is relaxed to 100% (default 10%):
# on a shared machine ten windows within 10% of each other may never come.
#
# Usage: scripts/perf-analyzer-check.sh [model package folder, default models/mlp-50]
# Needs `npm run build` (dist/) and perf_analyzer: $PERF_ANALYZER, default ../shared/tools/perf-analyzer
# (a wrapper that runs the PyPI wheel, which needs glibc 2.38, on Debian 12; it downloads the wheel and
# the next Debian release's libc on first use).
#
# Not a vitest test: the wrapper is specific to this Debian 12 machine (a private sysroot from the
# Debian mirror), so on another CI image it would fail for reasons that are not Fresco's. The
# endpoints perf_analyzer reads, with the fields its parser requires, are asserted in
# test/serving-triton-client.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
PA=${PERF_ANALYZER:-../shared/tools/perf-analyzer}
PACKAGE=${1:-models/mlp-50}
[ -x "$PA" ] || { echo "perf_analyzer not found at $PA (set PERF_ANALYZER)" >&2; exit 2; }
MODEL=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$PACKAGE/fresco.json','utf8')).name)")

LOG=$(mktemp)
FRESCO_LOG_LEVEL=warn node bin/fresco.js serve --port 0 --models "$PACKAGE" 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 1 600); do
  PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
[ -n "${PORT:-}" ] || { echo "fresco serve did not start" >&2; cat "$LOG" >&2; exit 1; }
echo "fresco serve: $MODEL on 127.0.0.1:$PORT"

for FORMAT in binary json; do
  echo "== perf_analyzer -m $MODEL -i http, $FORMAT tensors, concurrency 1..2"
  "$PA" -m "$MODEL" -u "127.0.0.1:$PORT" -i http --concurrency-range 1:2 \
    --input-tensor-format "$FORMAT" --output-tensor-format "$FORMAT" \
    --measurement-interval 2000 --max-trials 10 --stability-percentage 100
done
