#!/usr/bin/env bash
# Benchmarks of the wasm host (BENCHMARKS.md, issue 3), side by side in one run with one
# load generator (wrk, GET, 32 connections, 1 thread):
#   a) a wasi:http hello component (tests/wasm-guests/http-fixture, GET /hello) under
#      `motif-invoker --wasm` against `wasmtime serve -S cli` (wasmtime-cli 48);
#   b) the same Rust handler (invokers/rust/examples/hello.rs) built natively and for
#      wasm32-wasip2 (under `motif-invoker --wasm`);
#   c) per-request instantiation and a whole in-process request (bin wasm-instantiate),
#      and spawn-to-first-200 with a warm compile cache (bin first-request);
#   d) resident memory: motif-invoker with the hello loaded and idle, against the same
#      runtime serving a native echo (runtime-echo); and per in-flight instance, with
#      INFLIGHT requests spinning in the guest (GET /loop) at once.
#
# Each throughput pair runs ROUNDS rounds, alternating which server goes first; the
# table shows medians. Raw output is kept in $OUT.
#
# Settings: ROUNDS=3 DURATION=10s WARMUP=2s CONNECTIONS=32 INFLIGHT=64
#   WASMTIME=path of a wasmtime 48 CLI (else `wasmtime` on PATH, else it is installed with
#   `cargo install wasmtime-cli --version 48.0.8` into target/bench-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
INFLIGHT=${INFLIGHT:-64}
OUT=${OUT:-$ROOT/target/bench-wasm/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
export MOTIF_CACHE_DIR=$OUT/cache

# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"

# --- tools and builds ------------------------------------------------------------------
command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >&2; }
WASMTIME=$(wasmtime_cli)

log "building (release)"
cargo build --release -p motif-invoker -p motif-bench >&2
cargo build --release -p motif-function --example hello >&2
cargo build --release -p motif-function --example hello --target wasm32-wasip2 >&2
(cd tests/wasm-guests && cargo build --release --target wasm32-wasip2 -p http-fixture >&2)
BIN=$ROOT/target/release
HELLO_WASM=$ROOT/target/wasm32-wasip2/release/examples/hello.wasm
FIXTURE=$ROOT/tests/wasm-guests/target/wasm32-wasip2/release/http_fixture.wasm

# --- servers ---------------------------------------------------------------------------
PID=
stop() {
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}
trap stop EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start NAME PATH: starts server NAME on $PORT, waits until PATH answers 200.
start() {
    local name=$1 path=$2
    PORT=$(free_port)
    case $name in
    motif-wasm-fixture) set -- env PORT="$PORT" MOTIF_HOST=127.0.0.1 "$BIN/motif-invoker" --wasm "$FIXTURE" ;;
    wasmtime-serve) set -- "$WASMTIME" serve -S cli --addr "127.0.0.1:$PORT" "$FIXTURE" ;;
    native-hello) set -- env PORT="$PORT" MOTIF_HOST=127.0.0.1 "$BIN/examples/hello" ;;
    motif-wasm-hello) set -- env PORT="$PORT" MOTIF_HOST=127.0.0.1 "$BIN/motif-invoker" --wasm "$HELLO_WASM" ;;
    runtime-echo) set -- env PORT="$PORT" MOTIF_HOST=127.0.0.1 "$BIN/runtime-echo" ;;
    *) die "no server $name" ;;
    esac
    # exec: $! is then the server itself, whose memory section d) reads.
    (exec "$@") >>"$OUT/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$path")" = 200 ] && return 0
        kill -0 "$PID" 2>/dev/null || die "$name exited (see $OUT/$name.log)"
        sleep 0.05
    done
    die "$name did not answer 200 on $path"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# pair LABEL PATH A B: ROUNDS rounds of wrk against A and B; prints a table row.
pair() {
    local label=$1 path=$2 a=$3 b=$4 round order name raw
    for round in $(seq "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order=("$a" "$b"); else order=("$b" "$a"); fi
        for name in "${order[@]}"; do
            start "$name" "$path"
            raw=$OUT/$label-$name-r$round.txt
            wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "http://127.0.0.1:$PORT$path" >/dev/null
            wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path" >"$raw"
            stop
            grep -q 'Non-2xx' "$raw" && die "$name answered errors (see $raw)"
            awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$raw" >>"$OUT/$label-$name.rps"
            awk '$1 == "99%" { print $2 }' "$raw" >>"$OUT/$label-$name.p99"
            log "$label round $round $name: $(tail -1 "$OUT/$label-$name.rps") req/s"
        done
    done
    local ra rb
    ra=$(median <"$OUT/$label-$a.rps"); rb=$(median <"$OUT/$label-$b.rps")
    printf '| %s | %s %s req/s (p99 %s) | %s %s req/s (p99 %s) | %.2fx |\n' "$label" \
        "$a" "$ra" "$(sort "$OUT/$label-$a.p99" | paste -sd/)" \
        "$b" "$rb" "$(sort "$OUT/$label-$b.p99" | paste -sd/)" \
        "$(echo "$ra $rb" | awk '{ print $1 / $2 }')"
}

echo "| benchmark | A | B | A/B |"
echo "|---|---|---|---|"
pair a-hello /hello motif-wasm-fixture wasmtime-serve
pair b-native-vs-wasm / motif-wasm-hello native-hello

# --- c) instantiation and first request -------------------------------------------------
echo
for wasm in "$HELLO_WASM" "$FIXTURE"; do
    echo "$(basename "$wasm"):"
    "$BIN/wasm-instantiate" "$wasm" 20000
done | tee "$OUT/instantiate.txt"
# The cache is warm: the servers above compiled the fixture into $MOTIF_CACHE_DIR.
for i in $(seq 10); do
    "$BIN/first-request" /hello -- "$BIN/motif-invoker" --wasm "$FIXTURE"
done | tee "$OUT/first-request.txt" >&2
printf 'first request after start (warm cache, median of 10): spawn-to-first-200 %sms, the request itself %sms\n' \
    "$(sed 's/.*spawn-to-first-200=\([0-9.]*\)ms.*/\1/' "$OUT/first-request.txt" | median)" \
    "$(sed 's/.*first-request=\([0-9.]*\)ms.*/\1/' "$OUT/first-request.txt" | median)"

# --- d) memory -----------------------------------------------------------------------------
start runtime-echo /_/ready; sleep 1; base=$(rss_kb "$PID"); stop
start motif-wasm-fixture /hello; sleep 1; idle=$(rss_kb "$PID")
# INFLIGHT requests that spin in the guest until the 3 s timeout stops them.
stop
PORT=$(free_port)
MOTIF_TIMEOUT=3 PORT=$PORT MOTIF_HOST=127.0.0.1 "$BIN/motif-invoker" --wasm "$FIXTURE" >>"$OUT/inflight.log" 2>&1 &
PID=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/hello")" = 200 ]; do sleep 0.05; done
sleep 1; idle2=$(rss_kb "$PID")
for _ in $(seq "$INFLIGHT"); do curl -s -o /dev/null "http://127.0.0.1:$PORT/loop" & done
sleep 1.5
busy=$(rss_kb "$PID")
inflight=$(curl -s "http://127.0.0.1:$PORT/_/metrics" | awk '/^motif_requests_in_flight / { print $2 }')
wait_curls() { for j in $(jobs -p); do [ "$j" = "$PID" ] || wait "$j" 2>/dev/null || true; done; }
wait_curls
stop
printf 'memory: runtime-echo idle %s KiB; motif-invoker --wasm (hello loaded, idle) %s KiB (+%s KiB); %s in-flight instances: %s KiB -> %s KiB, %s KiB each\n' \
    "$base" "$idle" "$((idle - base))" "${inflight:-?}" "$idle2" "$busy" \
    "$(( (busy - idle2) / ${inflight:-$INFLIGHT} ))"
log "raw output in $OUT"
