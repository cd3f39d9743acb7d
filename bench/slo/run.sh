#!/usr/bin/env bash
# SLO evaluation: vigil's warm evaluator over its embedded TSDB vs Debian's
# Prometheus answering the direct ratio of 30-day increases, on the same
# data: SLOS × 30 days of 1-minute good/total counters (1 day more is
# written). Prints both times, their ratio and the largest relative
# difference of the figures.
#   bench/slo/run.sh                 1,000 SLOs (≈ 90 M samples, 5.7 GB of
#                                    OpenMetrics text, several minutes)
#   SLOS=50 bench/slo/run.sh         a quick run
# Env: SLOS (default 1000), DAYS (window, default 30), RUNS (default 5),
# PER_SLO (1: also time one Prometheus query per SLO; default 1),
# KEEP (a directory: generate into it once and reuse it on later runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
SLOS="${SLOS:-1000}"; DAYS="${DAYS:-30}"; RUNS="${RUNS:-5}"; PER_SLO="${PER_SLO:-1}"
for b in prometheus promtool; do
  command -v "$b" >/dev/null || { echo "$b missing: apt-get install -y --no-install-recommends prometheus" >&2; exit 2; }
done
TMP=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
DATA="${KEEP:-$TMP}/slo-$SLOS-$DAYS"
go build -o "$TMP/slobench" ./bench/slo

if [ ! -e "$DATA/complete" ]; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  "$TMP/slobench" -mode gen -slos "$SLOS" -days "$DAYS" -dir "$DATA/vigil" -openmetrics "$DATA/data.om"
  echo "openmetrics: $(du -h "$DATA/data.om" | cut -f1); promtool backfill..." >&2
  t0=$(date +%s)
  # One pass over the text (promtool re-reads the input once per block range).
  promtool tsdb create-blocks-from openmetrics -q --max-block-duration=2000h "$DATA/data.om" "$DATA/prom" >/dev/null
  echo "promtool: $(( $(date +%s) - t0 )) s; TSDB sizes: vigil $(du -sh "$DATA/vigil" | cut -f1), prometheus $(du -sh "$DATA/prom" | cut -f1)" >&2
  rm -f "$DATA/data.om"; touch "$DATA/complete"
fi

cat > "$TMP/prometheus.yml" <<'YML'
global: {scrape_interval: 1h}
YML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$DATA/prom" \
  --storage.tsdb.retention.time=3650d --web.listen-address=127.0.0.1:19090 \
  --query.max-samples=500000000 --query.timeout=10m --log.level=warn & PIDS+=($!)
for _ in $(seq 300); do curl -sf -o /dev/null http://127.0.0.1:19090/-/ready && break; sleep 0.2; done
curl -sf -o /dev/null http://127.0.0.1:19090/-/ready || { echo "prometheus did not become ready" >&2; exit 1; }

echo "load before measuring: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, $(nproc) CPUs)"
"$TMP/slobench" -mode measure -slos "$SLOS" -days "$DAYS" -dir "$DATA/vigil" \
  -prometheus http://127.0.0.1:19090 -runs "$RUNS" -per-slo="$([ "$PER_SLO" = 1 ] && echo true || echo false)"
echo "load after measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
