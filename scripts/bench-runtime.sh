#!/usr/bin/env bash
# Requests/s and p99 of an echo function behind motif-runtime against a bare axum echo
# server: same machine, same load generator (wrk), same run. See BENCHMARKS.md.
#
# Method, as in shared/research/peers-bench.md ("How it was run"), so figures compare:
#   - two scenarios: `http` (tests/bench/lua/post.lua: a POST of 100 bytes of JSON) and
#     `ce` (tests/bench/lua/ce.lua: the same body as a binary-mode CloudEvent);
#   - two servers, both built by `cargo build --release -p motif-bench`: `bare-echo`
#     (bare axum) and `runtime-echo` (the same echo as a motif_runtime::Handler);
#   - ROUNDS rounds; in each, for each scenario, each server in turn (which one goes first
#     alternates between rounds): start it on a free loopback port, check one request by
#     hand with curl, warm up (wrk, WARMUP), measure (wrk --latency, DURATION), stop it.
#
# Prints a markdown table of medians (and per-round numbers) on stdout; progress goes to
# stderr. Raw wrk output and server logs are kept in $OUT.
#
# Settings (environment): ROUNDS=3 DURATION=10s WARMUP=2s CONNECTIONS=32 THREADS=1
#   BUSY_WAIT=600  seconds to wait, before measuring, until the shared machine is quiet (no
#                  `rustc` running and under 20 % CPU in use); 0 = do not wait. Each run's
#                  table row says how much CPU everything else used while it was measured.
#   OUT=target/bench-runtime/<UTC time>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
BUSY_WAIT=${BUSY_WAIT:-600}
OUT=${OUT:-$ROOT/target/bench-runtime/$(date -u +%Y%m%dT%H%M%SZ)}
LUA=$ROOT/tests/bench/lua
BODY='{"id":1,"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
SCENARIOS=(http ce)

# --- wrk -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 300 $SUDO apt-get install -y -qq wrk >&2; then
        timeout 300 $SUDO apt-get update -qq >&2
        timeout 300 $SUDO apt-get install -y -qq wrk >&2
    fi
fi
command -v curl >/dev/null || die "curl is needed"

# --- build -----------------------------------------------------------------------------
log "building: cargo build --release -p motif-bench"
cargo build --release -p motif-bench >&2
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
BIN_DIR=$TARGET_DIR/release
for b in bare-echo runtime-echo; do [ -x "$BIN_DIR/$b" ] || die "$BIN_DIR/$b was not built"; done
mkdir -p "$OUT"

# --- servers ---------------------------------------------------------------------------

# start_server BINARY SCENARIO PORT: runs it in the background, waits until it serves.
start_server() {
    local bin=$1 kind=http port=$3 code
    [ "$2" = ce ] && kind=cloudevent
    PORT=$port MOTIF_HOST=127.0.0.1 MOTIF_FUNCTION_KIND=$kind \
        "$BIN_DIR/$bin" >>"$OUT/$bin.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "$bin exited at start (see $OUT/$bin.log)"
        if [ "$bin" = runtime-echo ]; then # ready once the init hook has run
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/_/ready" || true)
            [ "$code" = 200 ] && return 0
        else # listening
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/" || true)
            [ "$code" != 000 ] && return 0
        fi
        sleep 0.05
    done
    die "$bin did not become ready on port $port within 5 s"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime, all threads

# --- conditions ------------------------------------------------------------------------
if [ "$BUSY_WAIT" -gt 0 ]; then
    waited=0
    while :; do
        r=$(busy); u=$(others_busy)
        { [ "$r" -eq 0 ] && [ "$u" -lt 20 ]; } && break
        [ "$waited" -ge "$BUSY_WAIT" ] && { log "still busy after ${waited}s (rustc: $r, CPU in use: $u%); measuring anyway"; break; }
        [ "$waited" -eq 0 ] && log "machine busy (rustc: $r, CPU in use: $u%); waiting up to ${BUSY_WAIT}s"
        sleep 8; waited=$((waited + 10))
    done
    [ "$waited" -gt 0 ] && log "waited ${waited}s; rustc: $(busy), CPU in use: $(others_busy)%"
fi

# --- rounds ----------------------------------------------------------------------------
RESULTS=$OUT/results.tsv
measure_rounds "$RESULTS" bare-echo runtime-echo

# --- report ----------------------------------------------------------------------------
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes)"
fi
lock_version() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"; }
{
    echo "## motif-runtime vs bare axum"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit"
    echo "- command: \`bash scripts/bench-runtime.sh\`; load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up, $ROUNDS rounds"
    echo "- $(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//'); $(rustc -V); axum $(lock_version axum), hyper $(lock_version hyper), tokio $(lock_version tokio)"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), shared by wrk and the server"
    echo "- raw output: $OUT"
    echo
    throughput_tables "$RESULTS" bare-echo runtime-echo "bare axum" bare "binary-mode CloudEvent echo" ""
} | tee "$OUT/summary.md"
