#!/usr/bin/env bash
# Side-by-side: vigil's probe runner vs Debian's prometheus-blackbox-exporter,
# same loopback HTTP target, fixed open-loop rates, a new connection per
# probe. The system under test is pinned to the last core; the target and
# the load driver to the others. Prints CPU-ms per probe, peak RSS and the
# ratio. Then the same over HTTPS (a full TLS handshake per probe, one
# probe at a time and 100/s): vigil with Go's default key exchange
# (X25519MLKEM768) and with classic X25519 (GODEBUG=tlsmlkem=0, what
# blackbox_exporter's go1.19 uses), and blackbox_exporter.
# Usage: bench/probes/run.sh [seconds-per-point]   (default 10)
# TLS_ONLY=1 skips the plain HTTP rows.
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
# HTTPS target: self-signed ECDSA P-256 certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
TLS_CERT="$TMP/cert.pem" TLS_KEY="$TMP/key.pem" taskset -c "$REST" "$TMP/probebench" -mode target -addr 127.0.0.1:18443 & PIDS+=($!)
cat > "$TMP/blackbox.yml" <<'YML'
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: {preferred_ip_protocol: ip4, ip_protocol_fallback: false}
  tls_2xx:
    prober: http
    timeout: 5s
    http: {preferred_ip_protocol: ip4, ip_protocol_fallback: false, tls_config: {insecure_skip_verify: true}}
YML
taskset -c "$SUT" "$BB" --config.file="$TMP/blackbox.yml" --web.listen-address=127.0.0.1:19115 --log.level=warn & BBPID=$!; PIDS+=($BBPID)
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:19115/metrics && curl -sf -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.1; done

TARGET=http://127.0.0.1:18080/
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, $NCPU CPUs)"
printf '%-18s %6s %9s %10s %9s %8s %8s %7s\n' system rate achieved cpu_ms/pr peak_MiB p50_ms p99_ms failed
row() { python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print("%-18s %6s %9.0f %10.3f %9.1f %8.2f %8.2f %7d" % (o["system"], o.get("rate") or ("c=%d" % o.get("inflight",0)), o["achieved_rate"], o.get("cpu_ms_per_probe",0), o.get("peak_rss_mib",0), o["p50_ms"], o["p99_ms"], o["failed"]))' "$1"; }
declare -A V B
enc() { python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
cpu() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cpu_ms_per_probe"])' "$1"; }
if [ "${TLS_ONLY:-0}" != 1 ]; then
for RATE in 100 1000; do
  v=$(taskset -c "$SUT" "$TMP/probebench" -mode vigil -url "$TARGET" -rate "$RATE" -duration "$DUR")
  b=$(taskset -c "$REST" "$TMP/probebench" -mode drive -pid "$BBPID" -rate "$RATE" -duration "$DUR" \
      -url "http://127.0.0.1:19115/probe?module=http_2xx&target=$(enc "$TARGET")")
  row "$v"; row "$b"
  V[$RATE]=$(cpu "$v"); B[$RATE]=$(cpu "$b")
done
# Memory with 64 probes in flight (target holds each for 50 ms).
row "$(taskset -c "$SUT" "$TMP/probebench" -mode vigil -url "${TARGET}slow" -inflight 64 -duration "$DUR")"
fi

# TLS: c=1 (closed loop, one probe at a time) and 100 probes/s (open loop).
TLS_TARGET=https://127.0.0.1:18443/
declare -A TV TX TB
for LOAD in c1 100; do
  if [ "$LOAD" = c1 ]; then A=(-inflight 1); K=c1; else A=(-rate 100); K=100; fi
  v=$(taskset -c "$SUT" "$TMP/probebench" -mode vigil -insecure -url "$TLS_TARGET" "${A[@]}" -duration "$DUR" -label vigil-tls-mlkem)
  x=$(GODEBUG=tlsmlkem=0 taskset -c "$SUT" "$TMP/probebench" -mode vigil -insecure -url "$TLS_TARGET" "${A[@]}" -duration "$DUR" -label vigil-tls-x25519)
  b=$(taskset -c "$REST" "$TMP/probebench" -mode drive -pid "$BBPID" "${A[@]}" -duration "$DUR" -label blackbox-tls \
      -url "http://127.0.0.1:19115/probe?module=tls_2xx&target=$(enc "$TLS_TARGET")")
  row "$v"; row "$x"; row "$b"
  TV[$K]=$(cpu "$v"); TX[$K]=$(cpu "$x"); TB[$K]=$(cpu "$b")
done
echo
if [ "${TLS_ONLY:-0}" != 1 ]; then
for RATE in 100 1000; do
  python3 -c 'import sys; v,b=float(sys.argv[2]),float(sys.argv[3]); print("HTTP  %s/s: vigil %.3f CPU-ms/probe, blackbox_exporter %.3f: %.2fx cheaper" % (sys.argv[1], v, b, b/v if v else 0))' "$RATE" "${V[$RATE]}" "${B[$RATE]}"
done
fi
for K in c1 100; do
  python3 -c 'import sys; v,x,b=map(float,sys.argv[2:5]); print("HTTPS %-4s: vigil %.3f CPU-ms/probe (X25519MLKEM768), %.3f (X25519); blackbox_exporter %.3f (X25519): %.2fx / %.2fx cheaper" % (sys.argv[1], v, x, b, b/v if v else 0, b/x if x else 0))' "$( [ $K = c1 ] && echo c=1 || echo 100/s)" "${TV[$K]}" "${TX[$K]}" "${TB[$K]}"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, $NCPU CPUs)"
