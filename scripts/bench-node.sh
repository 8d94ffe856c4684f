#!/usr/bin/env bash
# The motif Node invoker (invokers/node) against faas-js-runtime, the Node runtime of
# Knative Functions: requests/s and p99 of the same echo functions, same machine, same
# load generator (wrk), same run; then the cold start of both. See BENCHMARKS.md.
#
# Method, as scripts/bench-runtime.sh and shared/research/peers-bench.md, so figures compare:
#   - two scenarios: `http` (tests/bench/lua/post.lua: a POST of 100 bytes of JSON, echoed)
#     and `ce` (tests/bench/lua/ce.lua: the same body as a binary-mode CloudEvent, the
#     event echoed);
#   - two servers: `motif` (`node invokers/node/bin/motif-node.js FUNCTION`) and `faas`
#     (`node …/faas-js-runtime/bin/cli.js FUNCTION --port P`, the README's
#     `npx faas-js-runtime`), with the echo functions written below into $SCRATCH;
#     faas-js-runtime is installed there (pinned, FAAS_JS_RUNTIME_VERSION), never into
#     invokers/node;
#   - ROUNDS rounds; in each, for each scenario, each server in turn (which one goes first
#     alternates between rounds): start it on a free loopback port, check one request by
#     hand with curl, warm up (wrk, WARMUP), measure (wrk --latency, DURATION), stop it;
#   - cold start: the time from spawn to the first 200 on the readiness path (motif:
#     /_/ready, 200 once the function is loaded and its init hook ran; faas-js-runtime:
#     /health/readiness), by tests/bench's `first-request` (attempts 1 ms apart), COLD_RUNS
#     runs per server and kind after one unmeasured start, the servers in turn. faas-js-
#     runtime takes its port as --port, so it is started through `sh -c 'exec …'`.
#     When NODE_EXTRA_CA_CERTS is set (it is on the machine of BENCHMARKS.md), every Node
#     process reads those certificates before running any JavaScript; the cold start is
#     then measured both with the environment as it is and without that variable.
#
# Prints markdown tables of medians on stdout; progress goes to stderr. Raw wrk output,
# server logs and cold-start runs are kept in $OUT.
#
# Settings (environment): ROUNDS=3 DURATION=10s WARMUP=2s CONNECTIONS=32 THREADS=1
#   COLD_RUNS=11 FAAS_JS_RUNTIME_VERSION=4.0.1
#   BUSY_WAIT=600  seconds to wait, before each phase (throughput, cold start), until the
#                  shared machine is quiet (no `rustc` running and under 20 % CPU in use);
#                  0 = do not wait. Each throughput row says how much CPU everything else
#                  used while it was measured.
#   SCRATCH=target/bench-node  OUT=target/bench-node/<UTC time>
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
COLD_RUNS=${COLD_RUNS:-11}
BUSY_WAIT=${BUSY_WAIT:-600}
FAAS_JS_RUNTIME_VERSION=${FAAS_JS_RUNTIME_VERSION:-4.0.1}
SCRATCH=${SCRATCH:-$ROOT/target/bench-node}
OUT=${OUT:-$SCRATCH/$(date -u +%Y%m%dT%H%M%SZ)}
LUA=$ROOT/tests/bench/lua
BODY='{"id":1,"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
SCENARIOS=(http ce)
SERVERS=(faas motif)

# --- tools -----------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 300 $SUDO apt-get install -y -qq wrk >&2; then
        timeout 300 $SUDO apt-get update -qq >&2
        timeout 300 $SUDO apt-get install -y -qq wrk >&2
    fi
fi
for tool in curl node npm; do command -v "$tool" >/dev/null || die "$tool is needed"; done

log "building first-request: cargo build --release -p motif-bench"
cargo build --release -p motif-bench --bin first-request >&2
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
FIRST_REQUEST=$TARGET_DIR/release/first-request
[ -x "$FIRST_REQUEST" ] || die "$FIRST_REQUEST was not built"

if [ ! -d invokers/node/node_modules/cloudevents ]; then
    log "the invoker's dependencies: npm ci --prefix invokers/node"
    npm ci --prefix invokers/node --no-audit --no-fund --loglevel=error >&2
fi
MOTIF=$ROOT/invokers/node/bin/motif-node.js

FAAS_DIR=$SCRATCH/faas-js-runtime-$FAAS_JS_RUNTIME_VERSION
FAAS=$FAAS_DIR/node_modules/faas-js-runtime/bin/cli.js
if [ ! -f "$FAAS" ]; then
    log "installing faas-js-runtime@$FAAS_JS_RUNTIME_VERSION into $FAAS_DIR"
    mkdir -p "$FAAS_DIR"
    echo '{ "name": "bench-faas-js-runtime", "private": true }' >"$FAAS_DIR/package.json"
    npm install --prefix "$FAAS_DIR" --no-audit --no-fund --loglevel=error \
        "faas-js-runtime@$FAAS_JS_RUNTIME_VERSION" >&2
fi
installed=$(node -p "require('$FAAS_DIR/node_modules/faas-js-runtime/package.json').version")
[ "$installed" = "$FAAS_JS_RUNTIME_VERSION" ] || die "faas-js-runtime $installed installed, not $FAAS_JS_RUNTIME_VERSION"

# --- functions -------------------------------------------------------------------------
# The same two echoes for both runtimes, each in its runtime's own shape.
FN=$SCRATCH/functions
mkdir -p "$FN/faas-http" "$FN/faas-ce"
cat >"$FN/motif-http.js" <<'EOF'
// HTTP echo: the body back, with the request's Content-Type.
exports.handle = (request) => ({ headers: { 'content-type': request.headers['content-type'] }, body: request.body });
EOF
cat >"$FN/motif-ce.js" <<'EOF'
// CloudEvent echo: the event back (binary mode in, binary mode out).
exports.handle = (event) => event;
EOF
cat >"$FN/faas-http/index.js" <<'EOF'
// HTTP echo: the (parsed JSON) body back, as shared/research/peers-bench.md ran it.
module.exports = function handle(context, body) { return body; };
EOF
cat >"$FN/faas-ce/index.js" <<'EOF'
// CloudEvent echo: the event back, which faas-js-runtime answers in binary mode.
module.exports = function handle(context, event) { return event; };
EOF
mkdir -p "$OUT"

# function_of SERVER SCENARIO: the function file.
function_of() {
    case $1-$2 in
        motif-http) echo "$FN/motif-http.js" ;;
        motif-ce) echo "$FN/motif-ce.js" ;;
        faas-http) echo "$FN/faas-http/index.js" ;;
        faas-ce) echo "$FN/faas-ce/index.js" ;;
    esac
}
kind_of() { [ "$1" = ce ] && echo cloudevent || echo http; }
ready_path() { [ "$1" = motif ] && echo /_/ready || echo /health/readiness; }

# --- servers ---------------------------------------------------------------------------

# start_server SERVER SCENARIO PORT: runs it in the background, waits until it is ready.
start_server() {
    local server=$1 scenario=$2 port=$3 fn code
    fn=$(function_of "$server" "$scenario")
    if [ "$server" = motif ]; then
        PORT=$port MOTIF_HOST=127.0.0.1 MOTIF_FUNCTION_KIND=$(kind_of "$scenario") \
            node "$MOTIF" "$fn" >>"$OUT/$server-$scenario.log" 2>&1 &
    else
        node "$FAAS" "$fn" --port "$port" >>"$OUT/$server-$scenario.log" 2>&1 &
    fi
    SERVER_PID=$!
    for _ in $(seq 200); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "$server exited at start (see $OUT/$server-$scenario.log)"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port$(ready_path "$server")" || true)
        [ "$code" = 200 ] && return 0
        sleep 0.05
    done
    die "$server did not become ready on port $port within 10 s"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime, all threads

# --- conditions (wait_quiet: bench-lib.sh) ----------------------------------------------

# --- throughput rounds -----------------------------------------------------------------
printf 'phase\twaited_s\trustc\tcpu_in_use_pct\n' >"$OUT/conditions.tsv"
wait_quiet throughput
RESULTS=$OUT/results.tsv
measure_rounds "$RESULTS" faas motif

# --- cold start ------------------------------------------------------------------------
# cold_start SERVER SCENARIO ENVIRONMENT: one spawn-to-first-200, in ms.
cold_start() {
    local server=$1 scenario=$2 environment=$3 fn cmd
    fn=$(function_of "$server" "$scenario")
    if [ "$server" = motif ]; then
        cmd=(env MOTIF_FUNCTION_KIND="$(kind_of "$scenario")" node "$MOTIF" "$fn")
    else
        cmd=(sh -c 'exec node "$1" "$2" --port "$PORT"' sh "$FAAS" "$fn")
    fi
    [ "$environment" = without-ca-certs ] && cmd=(env -u NODE_EXTRA_CA_CERTS "${cmd[@]}")
    "$FIRST_REQUEST" "$(ready_path "$server")" -- "${cmd[@]}" |
        sed -n 's/.*spawn-to-first-200=\([0-9.]*\)ms.*/\1/p'
}
wait_quiet "cold start"
ENVIRONMENTS=(as-given)
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && ENVIRONMENTS+=(without-ca-certs)
COLD=$OUT/cold-start.tsv
printf 'environment\tscenario\tserver\trun\tms\n' >"$COLD"
for environment in "${ENVIRONMENTS[@]}"; do
    for scenario in "${SCENARIOS[@]}"; do
        for server in "${SERVERS[@]}"; do cold_start "$server" "$scenario" "$environment" >/dev/null; done
        for run in $(seq "$COLD_RUNS"); do
            for server in "${SERVERS[@]}"; do
                ms=$(cold_start "$server" "$scenario" "$environment")
                [ -n "$ms" ] || die "cold start of $server ($scenario, $environment) failed"
                printf '%s\t%s\t%s\t%s\t%s\n' "$environment" "$scenario" "$server" "$run" "$ms" >>"$COLD"
            done
        done
        log "cold start, $scenario, $environment: done"
    done
done

# --- report ----------------------------------------------------------------------------
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- invokers/node scripts/bench-node.sh 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes to the invoker)"
fi
{
    echo "## motif Node invoker vs faas-js-runtime"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit"
    echo "- command: \`bash scripts/bench-node.sh\`; load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up, $ROUNDS rounds; cold start: $COLD_RUNS runs"
    echo "- $(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//'); Node $(node -v); faas-js-runtime $FAAS_JS_RUNTIME_VERSION; cloudevents $(node -p "require('$ROOT/invokers/node/node_modules/cloudevents/package.json').version") (motif)"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), shared by wrk and the server"
    echo "- raw output: $OUT"
    echo
    throughput_tables "$RESULTS" faas motif faas-js-runtime faas "binary-mode CloudEvent echo" ""
    echo
    awk -F'\t' '
        function median(list,   a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        NR == 1 { next }
        {
            k = $1 SUBSEP $2 SUBSEP $3; ms[k] = ms[k] " " $5; runs[k] = runs[k] (runs[k] == "" ? "" : " / ") sprintf("%.0f", $5)
            if (!($1 in seen)) { seen[$1] = 1; envs[++ne] = $1 }
        }
        END {
            name["http"] = "http function"; name["ce"] = "cloudevent function"
            label["as-given"] = "environment as given"; label["without-ca-certs"] = "without NODE_EXTRA_CA_CERTS"
            print "Cold start: spawn to the first 200 on the readiness path, median (and every run) in ms; nothing else measures the machine while it runs, so a busy neighbour shows as outliers:"
            print ""
            print "| environment | function | faas-js-runtime | motif | motif runs |"
            print "|---|---|---|---|---|"
            for (e = 1; e <= ne; e++) for (s = 1; s <= 2; s++) {
                sc = s == 1 ? "http" : "ce"; fa = envs[e] SUBSEP sc SUBSEP "faas"; m = envs[e] SUBSEP sc SUBSEP "motif"
                printf "| %s | %s | %.0f | %.0f | %s |\n", label[envs[e]], name[sc], median(ms[fa]), median(ms[m]), runs[m]
            }
        }' "$COLD"
    echo
    echo "Conditions when each phase began (the CPU in use by everything else over 2 s):"
    echo
    awk -F'\t' 'NR > 1 { printf "- %s: %s%% of the CPU in use, %s rustc running (after waiting %s s)\n", $1, $4, $3, $2 }' "$OUT/conditions.tsv"
} | tee "$OUT/summary.md"
