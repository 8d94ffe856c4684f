#!/usr/bin/env bash
# Requests/s, p99 and cold start of motif's Python invoker against Google's
# functions-framework for Python: same machine, same interpreter, same load generator
# (wrk), same run. See BENCHMARKS.md ("Python invoker").
#
# Method, as in shared/research/peers-bench.md ("How it was run") and bench-runtime.sh:
#   - two scenarios: `http` (tests/bench/lua/post.lua: a POST of 100 bytes of JSON, echoed
#     with its Content-Type) and `ce` (tests/bench/lua/ce.lua: the same body as a
#     binary-mode CloudEvent; motif echoes the event, functions-framework answers a
#     CloudEvent function with `200 OK` whatever it returns, so for it this measures
#     receiving an event);
#   - two servers, each in a virtualenv of its own under target/bench-python (built from
#     the same interpreter, so neither loads the other's packages): `motif`
#     (`python -m motif`, invokers/python installed with its pinned requirements) and `ff`
#     (`functions-framework` FF_VERSION, its default server: gunicorn, 1 worker, 8 threads);
#     both serve a plain-`def` echo (invokers/python/bench/echo.py, main.py);
#   - ROUNDS rounds; in each, for each scenario, each server in turn (which one goes first
#     alternates between rounds): start it on a free loopback port, check one request by
#     hand with curl, warm up (wrk, WARMUP), measure (wrk --latency, DURATION), stop it;
#   - cold start: COLD_RUNS times each (alternating), the time from spawning the server
#     to its first 200 (motif: GET /_/ready, which waits for the function to load; ff:
#     GET /, it has no readiness endpoint), polled every 2 ms.
#
# Prints a markdown table of medians (and per-round numbers) on stdout; progress goes to
# stderr. Raw wrk output, server logs and cold-start runs are kept in $OUT.
#
# Settings (environment): ROUNDS=3 DURATION=10s WARMUP=2s CONNECTIONS=32 THREADS=1
#   COLD_RUNS=10 FF_VERSION=3.10.2
#   BUSY_WAIT=600  seconds to wait, before measuring, until the shared machine is quiet (no
#                  `rustc` running and under 20 % CPU in use); 0 = do not wait. Each run's
#                  table row says how much CPU everything else used while it was measured.
#   OUT=target/bench-python/<UTC time>
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
COLD_RUNS=${COLD_RUNS:-10}
FF_VERSION=${FF_VERSION:-3.10.2}
BUSY_WAIT=${BUSY_WAIT:-600}
BASE=$ROOT/target/bench-python
OUT=${OUT:-$BASE/$(date -u +%Y%m%dT%H%M%SZ)}
LUA=$ROOT/tests/bench/lua
BODY='{"id":1,"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
SCENARIOS=(http ce)
SERVERS=(ff motif)

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
command -v curl >/dev/null || die "curl is needed"
# The interpreter itself, not a version manager's shim script in front of it.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is needed"

# --- virtualenvs -----------------------------------------------------------------------
pip_quiet() { "$1/bin/python" -m pip install -q --disable-pip-version-check "${@:2}" >&2; }
[ -x "$BASE/venv-motif/bin/python" ] || "$PYTHON" -m venv "$BASE/venv-motif"
[ -x "$BASE/venv-ff/bin/python" ] || "$PYTHON" -m venv "$BASE/venv-ff"
log "installing the motif invoker (invokers/python) and functions-framework $FF_VERSION"
pip_quiet "$BASE/venv-motif" -r invokers/python/requirements.txt
# Installed from a copy, so that the build's by-products stay out of the source tree.
rm -rf "$BASE/src-motif" && mkdir -p "$BASE/src-motif"
cp -r invokers/python/pyproject.toml invokers/python/README.md invokers/python/motif "$BASE/src-motif/"
pip_quiet "$BASE/venv-motif" --force-reinstall --no-deps "$BASE/src-motif"
pip_quiet "$BASE/venv-ff" "functions-framework==$FF_VERSION"
version() { "$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))"; }
mkdir -p "$OUT/fn"
cp invokers/python/bench/echo.py invokers/python/bench/main.py "$OUT/fn/"

# --- servers ---------------------------------------------------------------------------

# server_argv SERVER KIND PORT: the command line (after `env`) that serves the echo.
# PYTHONDONTWRITEBYTECODE is dropped so that both servers run as they would in an image,
# from compiled bytecode.
server_argv() {
    local server=$1 kind=$2 port=$3
    case $server in
    motif) echo "-u PYTHONDONTWRITEBYTECODE PORT=$port MOTIF_HOST=127.0.0.1 MOTIF_FUNCTION_KIND=$kind" \
        "$BASE/venv-motif/bin/python -m motif echo.py" ;;
    ff)
        local target=echo; [ "$kind" = cloudevent ] && target=echo_ce
        echo "-u PYTHONDONTWRITEBYTECODE $BASE/venv-ff/bin/functions-framework --target=$target" \
            "--host=127.0.0.1 --port=$port" ;;
    esac
}

# start_server SERVER SCENARIO PORT: runs it in the background, waits until it serves.
start_server() {
    local server=$1 kind=http port=$3 code
    [ "$2" = ce ] && kind=cloudevent
    # shellcheck disable=SC2046
    (cd "$OUT/fn" && exec env $(server_argv "$server" "$kind" "$port")) >>"$OUT/$server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "$server exited at start (see $OUT/$server.log)"
        if [ "$server" = motif ]; then
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/_/ready" || true)
            [ "$code" = 200 ] && return 0
        else # listening
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/" || true)
            [ "$code" != 000 ] && return 0
        fi
        sleep 0.05
    done
    die "$server did not become ready on port $port within 10 s"
}

EVENT_SINK_SERVER=ff # functions-framework answers an event `OK`, whatever the function returns
cpu_ticks() { # utime + stime of a process and its children (gunicorn's worker)
    local total=0 pid
    for pid in $1 $(pgrep -P "$1" 2>/dev/null); do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

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
measure_rounds "$RESULTS" ff motif

# --- cold start ------------------------------------------------------------------------
COLD=$OUT/cold.tsv
log "cold start: $COLD_RUNS runs each"
cat >"$OUT/cold_start.py" <<'PY'
"""`cold_start.py PORT PATH ENV_ARGS...`: spawns `env ENV_ARGS...` (a server), times it to
its first 200 on PATH, polling every 2 ms, and prints the milliseconds."""
import http.client, os, signal, subprocess, sys, time

port, path, argv = int(sys.argv[1]), sys.argv[2], ["env", *sys.argv[3:]]
started = time.perf_counter()
server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                break
        except OSError:
            pass
        finally:
            connection.close()
        if server.poll() is not None or time.perf_counter() - started > 10:
            sys.exit(f"the server exited or did not answer: {argv}")
        time.sleep(0.002)
    print(f"{(time.perf_counter() - started) * 1000:.1f}")
finally:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
PY
printf 'run\tserver\tms\n' >"$COLD"
for run in $(seq "$COLD_RUNS"); do
    if [ $((run % 2)) -eq 1 ]; then order=(ff motif); else order=(motif ff); fi
    for server in "${order[@]}"; do
        port=$(free_port)
        path=/; [ "$server" = motif ] && path=/_/ready
        # shellcheck disable=SC2046
        ms=$(cd "$OUT/fn" && "$PYTHON" "$OUT/cold_start.py" "$port" "$path" $(server_argv "$server" http "$port")) ||
            die "cold start of $server failed"
        printf '%s\t%s\t%s\n' "$run" "$server" "$ms" >>"$COLD"
    done
done

# --- report ----------------------------------------------------------------------------
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- invokers/python scripts/bench-python.sh 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes)"
fi
{
    echo "## motif Python invoker vs functions-framework"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit"
    echo "- command: \`bash scripts/bench-python.sh\`; load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up, $ROUNDS rounds; cold start: $COLD_RUNS runs each"
    echo "- $(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//'); Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); motif: httptools $(version "$BASE/venv-motif" httptools), h2 $(version "$BASE/venv-motif" h2), cloudevents $(version "$BASE/venv-motif" cloudevents); functions-framework $FF_VERSION: gunicorn $(version "$BASE/venv-ff" gunicorn), Flask $(version "$BASE/venv-ff" flask), cloudevents $(version "$BASE/venv-ff" cloudevents)"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), shared by wrk and the server"
    echo "- raw output: $OUT"
    echo
    throughput_tables "$RESULTS" ff motif functions-framework ff "binary-mode CloudEvent (motif echoes it; ff answers \`OK\`)" " (with its child processes)"
    echo
    awk -F'\t' '
        function median(list,   a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        NR == 1 { next }
        { runs[$2] = runs[$2] " " $3; shown[$2] = shown[$2] (shown[$2] == "" ? "" : " / ") $3 }
        END {
            print "Cold start, spawn to the first 200 (motif: `GET /_/ready`; ff: `GET /`), ms:"
            print ""
            print "| server | median ms | runs ms |"
            print "|---|---|---|"
            printf "| functions-framework | %.1f | %s |\n", median(runs["ff"]), shown["ff"]
            printf "| motif | %.1f | %s |\n", median(runs["motif"]), shown["motif"]
        }' "$COLD"
} | tee "$OUT/summary.md"
