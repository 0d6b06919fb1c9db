#!/usr/bin/env bash
# The HTTP endpoint under load: requests/s and p50/p99 latency of
# examples/http_server for one project of 10,000 versions, measured with wrk.
#
#   benches/endpoint/run.sh [--versions 10000] [--duration 10] [--connections 8]
#                           [--max-requests 1000000] [--shape default]
#
# Needs `wrk` (Debian: apt-get install -y wrk) and curl. It builds the example
# in release mode, writes the project with the benchmark generator
# (bench_queries generate, seeded), starts the server on 127.0.0.1:0 (loopback
# only; the port is read from its first line, `listening on ADDR`), and runs
# wrk (one thread, --connections keep-alive connections) for each request:
#
#   default page          GET /v1/bench/images/group
#   default page, gzip    the same with Accept-Encoding: gzip
#   fuzzy name, limit 10  GET /v1/bench/images/group?name=torch&limit=10
#
# Each run is bounded by --duration seconds and by --max-requests requests
# (a safety cap: wrk waits out the duration even when a thread stops at the
# cap, so requests/s is only right when the cap is not reached; the table
# says so when it is). Then it stops the server and prints a Markdown
# table: requests/s, p50 and p99 latency (from wrk's latency histogram), the
# response bytes and whether the server compressed it. No --token is given,
# so the server asks for no authentication.
#
# The server and wrk share the machine's cores: on a 2-core machine the figures
# are those of a server with about one and a half cores.
set -euo pipefail

versions=10000 duration=10 connections=8 max_requests=1000000 shape=default
while [ $# -gt 0 ]; do
    case "$1" in
        --versions) versions=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --max-requests) max_requests=$2; shift 2 ;;
        --shape) shape=$2; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install -y wrk)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/benches/endpoint"
cd "$root"
cargo build --release --quiet --example http_server --example bench_queries
bin="$root/target/release/examples"

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -INT "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/data"
"$bin/bench_queries" generate --shape "$shape" --records "$versions" --out "$work/data/bench.json"

"$bin/http_server" --data-dir "$work/data" --addr 127.0.0.1:0 --no-auth >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=
for _ in $(seq 300); do
    addr=$(sed -n '1s/^listening on //p' "$work/server.out")
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$addr" ] || { echo "run.sh: the server did not start" >&2; exit 1; }
case "$addr" in 127.0.0.1:*) ;; *) echo "run.sh: not loopback: $addr" >&2; exit 1 ;; esac

per_thread=$max_requests # one wrk thread
revision=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
wrk_version=$( (wrk -v 2>&1 || true) | head -1 | awk '{print $2}')
echo "http_server at $revision, $versions versions ($shape shape) in project 'bench'; wrk $wrk_version," \
    "1 thread, $connections connections, ${duration} s or $max_requests requests per run;" \
    "$(nproc) cores shared by server and wrk; $(date -u +%F)"
echo
echo "| request | requests/s | p50 ms | p99 ms | max ms | requests | non-2xx | bytes/response (with headers) | Content-Encoding |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"

run() { # label, path and query, extra header (or empty)
    local label=$1 target=$2 header=$3 url="http://$addr$2"
    local curl_args=(-s -o "$work/body" -D "$work/headers" -w '%{http_code}')
    local wrk_args=(-t1 -c"$connections" -d"${duration}s" --latency -s "$here/report.lua")
    if [ -n "$header" ]; then
        curl_args+=(-H "$header")
        wrk_args+=(-H "$header")
    fi
    local status encoding
    status=$(curl "${curl_args[@]}" "$url")
    [ "$status" = 200 ] || { echo "run.sh: $target answered $status" >&2; exit 1; }
    encoding=$(tr -d '\r' <"$work/headers" | sed -n 's/^[Cc]ontent-[Ee]ncoding: *//p')
    local result
    result=$(MAX_REQUESTS=$per_thread wrk "${wrk_args[@]}" "$url" | sed -n 's/^RESULT //p')
    # requests duration_us p50_us p99_us max_us non2xx socket_errors bytes
    read -r requests duration_us p50 p99 max non2xx socket_errors bytes <<<"$result"
    [ "$socket_errors" = 0 ] || echo "run.sh: $label: $socket_errors socket errors" >&2
    local capped=
    [ "$requests" -lt $((max_requests - connections)) ] || capped=" (cap reached: understated)"
    awk -v l="$label ($target)" -v n="$requests" -v d="$duration_us" -v p50="$p50" -v p99="$p99" \
        -v mx="$max" -v e="$non2xx" -v b="$bytes" -v enc="${encoding:-none}" -v c="$capped" 'BEGIN {
        printf "| %s | %.0f%s | %.2f | %.2f | %.2f | %d | %d | %.0f | %s |\n",
            l, n / (d / 1e6), c, p50 / 1e3, p99 / 1e3, mx / 1e3, n, e, (n ? b / n : 0), enc }'
}

run "default page" "/v1/bench/images/group" ""
run "default page, gzip" "/v1/bench/images/group" "Accept-Encoding: gzip"
run "fuzzy name, limit 10" "/v1/bench/images/group?name=torch&limit=10" ""
