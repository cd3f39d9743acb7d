#!/usr/bin/env bash
# Side-by-side: vigil's probe runner vs Debian's prometheus-blackbox-exporter,
# same loopback HTTP target, fixed open-loop rates, a new connection per
# probe. The system under test is pinned to the last core; the target and
# the load driver to the others. Prints CPU-ms per probe, peak RSS and the
# ratio. Usage: bench/probes/run.sh [seconds-per-point]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR="${1:-10}s"
NCPU=$(nproc); SUT=$((NCPU-1)); REST="0-$((NCPU>1 ? NCPU-2 : 0))"
BB=$(command -v prometheus-blackbox-exporter || true)
[ -n "$BB" ] || { echo "prometheus-blackbox-exporter missing: apt-get install -y --no-install-recommends prometheus-blackbox-exporter" >&2; exit 2; }
TMP=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

go build -o "$TMP/probebench" ./bench/probes
taskset -c "$REST" "$TMP/probebench" -mode target -addr 127.0.0.1:18080 & PIDS+=($!)
cat > "$TMP/blackbox.yml" <<'YML'
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: {preferred_ip_protocol: ip4, ip_protocol_fallback: false}
YML
taskset -c "$SUT" "$BB" --config.file="$TMP/blackbox.yml" --web.listen-address=127.0.0.1:19115 --log.level=warn & BBPID=$!; PIDS+=($BBPID)
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:19115/metrics && curl -sf -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.1; done

TARGET=http://127.0.0.1:18080/
printf '%-18s %6s %9s %10s %9s %8s %8s %7s\n' system rate achieved cpu_ms/pr peak_MiB p50_ms p99_ms failed
row() { python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print("%-18s %6s %9.0f %10.3f %9.1f %8.2f %8.2f %7d" % (o["system"], o.get("rate") or ("c=%d" % o.get("inflight",0)), o["achieved_rate"], o.get("cpu_ms_per_probe",0), o.get("peak_rss_mib",0), o["p50_ms"], o["p99_ms"], o["failed"]))' "$1"; }
declare -A V B
for RATE in 100 1000; do
  v=$(taskset -c "$SUT" "$TMP/probebench" -mode vigil -url "$TARGET" -rate "$RATE" -duration "$DUR")
  b=$(taskset -c "$REST" "$TMP/probebench" -mode drive -pid "$BBPID" -rate "$RATE" -duration "$DUR" \
      -url "http://127.0.0.1:19115/probe?module=http_2xx&target=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' "$TARGET")")
  row "$v"; row "$b"
  V[$RATE]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cpu_ms_per_probe"])' "$v")
  B[$RATE]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cpu_ms_per_probe"])' "$b")
done
# Memory with 64 probes in flight (target holds each for 50 ms).
row "$(taskset -c "$SUT" "$TMP/probebench" -mode vigil -url "${TARGET}slow" -inflight 64 -duration "$DUR")"
echo
for RATE in 100 1000; do
  python3 -c 'import sys; v,b=float(sys.argv[2]),float(sys.argv[3]); print("rate %s/s: vigil %.3f CPU-ms/probe, blackbox_exporter %.3f: %.2fx cheaper" % (sys.argv[1], v, b, b/v if v else 0))' "$RATE" "${V[$RATE]}" "${B[$RATE]}"
done
