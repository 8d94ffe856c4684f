#!/usr/bin/env bash
# Benchmarks of `motif serve`, the embedded serving layer (issue 7, item 6), each beside
# its baseline in the same run, on the same machine, with the same load generator:
#
#   a) throughput through the gateway: the wasi:http hello (tests/wasm-guests/http-fixture,
#      GET /hello) deployed to `motif serve` as `hi` and reached by host (`Host: hi.localhost`,
#      wrk's -H replaces the Host it derives from the URL), against `wasmtime serve -S cli`
#      (wasmtime-cli 48) serving the same component. ROUNDS rounds, which server goes
#      first alternates; each server is started, checked by hand, warmed up (WARMUP),
#      measured (`wrk -t1 -c32 --latency`, DURATION) and stopped. Medians of the rounds.
#   b) cold start from zero: the fixture (`wasm`, deployed through the admin API) and
#      functions made by `motif create` in SCRATCH (`rust-wasm`, `rust` built natively by
#      `motif deploy`, `node` from the js template, `python`), deployed to a server with
#      `--stable-window 1s --scale-to-zero-grace 1ms` (1-2 s after its last request a
#      function has no instance). COLD_RUNS rounds; in each, once no function has an
#      instance (GET /v1/functions), each function in turn gets one request from zero
#      (curl's time_total: connect, buffered while an instance starts, answer) and at
#      once one warm request (the same curl, a new connection as well). Beside it
#      (BASELINE=1) the same artifact spawned directly, without motif serve, to its first
#      200 on the same path (tests/bench's `first-request`, attempts 1 ms apart), as
#      scripts/bench-cold-start.sh does: what a process of that language costs anyway.
#   c) density: N_FUNCTIONS distinct functions (the fixture under the names d1..dN)
#      deployed one after another through the admin API (one curl, one kept-alive
#      connection), each invoked once, then idle for IDLE_WAIT with the default 60 s
#      stable window (so every one stays loaded): VmRSS of the `motif serve` process and
#      its CPU while idle; then requests to functions picked at random per request
#      (tests/bench/lua/random-function.lua), at 1 and at CONNECTIONS connections, for
#      DURATION each; and (ZERO_RSS=1) VmRSS again once all have scaled to zero (after
#      the default 60 s window and 30 s grace). When RUST_BACKTRACE or RUST_LIB_BACKTRACE
#      is set (BACKTRACE_COMPARE=1), the server is then restarted on the same state
#      without them and measured again: with them, each error made in the process (the
#      wasm host makes one per request) captures a backtrace, and the system unwinder
#      searches the unwind tables of every loaded module, so the cost of a request grows
#      with the number of functions.
#
# The machine is shared: before each phase the script waits (up to BUSY_WAIT s) until no
# rustc runs and under 20 % of the CPU is in use, and records what it found.
#
# Prints markdown tables on stdout (and in $OUT/summary.md); progress goes to stderr. Raw
# output (wrk, curl timings, server logs, state directories) is kept in $OUT.
#
# Settings (environment): ROUNDS=3 DURATION=10s WARMUP=2s CONNECTIONS=32 THREADS=1
#   COLD_RUNS=11 LANGUAGES="wasm rust-wasm rust node python" BASELINE=1
#   N_FUNCTIONS=1000 IDLE_WAIT=10 ZERO_RSS=1 BACKTRACE_COMPARE=1 SECTIONS="a b c"
#   BUSY_WAIT=600
#   WASMTIME=path of a wasmtime 48 CLI (else `wasmtime` on PATH, else the one in
#     target/bench-tools, installed there with `cargo install` when missing: minutes)
#   SCRATCH=target/bench-serve (the created functions, kept between runs so that their
#     builds are reused)  OUT=$SCRATCH/<UTC time>
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
read -r -a LANGUAGES <<<"${LANGUAGES:-wasm rust-wasm rust node python}"
BASELINE=${BASELINE:-1}
N_FUNCTIONS=${N_FUNCTIONS:-1000}
IDLE_WAIT=${IDLE_WAIT:-10}
ZERO_RSS=${ZERO_RSS:-1}
BACKTRACE_COMPARE=${BACKTRACE_COMPARE:-1}
read -r -a SECTIONS <<<"${SECTIONS:-a b c}"
BUSY_WAIT=${BUSY_WAIT:-600}
SCRATCH=${SCRATCH:-$ROOT/target/bench-serve}
OUT=${OUT:-$SCRATCH/$(date -u +%Y%m%dT%H%M%SZ)}
LUA=$ROOT/tests/bench/lua
mkdir -p "$OUT"
# One compile cache for the run: motif serve and the direct-spawn baseline share it, as
# they would on a developer's machine; the first deploy of the fixture fills it.
export MOTIF_CACHE_DIR=$OUT/cache
has() { local s; for s in "${@:2}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# --- tools and builds ------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "installing wrk"; $SUDO apt-get install -y -qq wrk >&2
fi
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
if has a "${SECTIONS[@]}"; then
    WASMTIME=$(wasmtime_cli)
fi

log "building (release)"
cargo build --release -p motif-cli -p motif-invoker -p motif-bench >&2
(cd tests/wasm-guests && cargo build --release --target wasm32-wasip2 -p http-fixture >&2)
BIN=$ROOT/target/release
MOTIF=$BIN/motif
FIXTURE=$ROOT/tests/wasm-guests/target/wasm32-wasip2/release/http_fixture.wasm
FIRST_REQUEST=$BIN/first-request

# --- servers ---------------------------------------------------------------------------
# stop_server (bench-lib's, called on exit too) with time for motif serve's drain
# (--drain 5s): killed before it, its process instances would outlive it.
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    [ -z "${STATE:-}" ] || rm -f "$STATE/.bench-auth"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime, all threads
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# wait_200 URL [CURL ARGS...]: until URL answers 200 (10 s), while SERVER_PID lives.
wait_200() {
    local url=$1
    shift
    for _ in $(seq 200); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start (see $OUT)"
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url" || true)" = 200 ] && return 0
        sleep 0.05
    done
    die "$url did not answer 200 within 10 s"
}

# start_serve LABEL STABLE_WINDOW GRACE: a `motif serve` (run through SERVE_ENV, say an
# `env` that changes its environment) with its state in $OUT/state-LABEL; sets
# SERVER_PID, PORT, STATE and ADMIN (the admin API's URL).
SERVE_ENV=()
start_serve() {
    local label=$1
    STATE=$OUT/state-$label
    PORT=$(free_port)
    "${SERVE_ENV[@]}" "$MOTIF" serve --port "$PORT" --state-dir "$STATE" --stable-window "$2" \
        --scale-to-zero-grace "$3" --drain 5s >>"$OUT/serve-$label.log" 2>&1 &
    SERVER_PID=$!
    wait_200 "http://127.0.0.1:$PORT/_/ready"
    for _ in $(seq 100); do [ -s "$STATE/serve.json" ] && break; sleep 0.05; done
    [ "$(jq -r .pid "$STATE/serve.json")" = "$SERVER_PID" ] ||
        die "serve.json names another process than the one started"
    ADMIN=http://$(jq -r .admin "$STATE/serve.json")
    # The token as a header file (owner-only, removed at stop), not on curl's command line.
    (umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$STATE/admin-token")" >"$STATE/.bench-auth")
}

admin() { curl -sS --max-time 600 -H @"$STATE/.bench-auth" "$@"; }

# deploy_wasm NAME FILE: the component as function NAME, through the admin API.
deploy_wasm() {
    local code
    code=$(admin -o "$OUT/deploy-$1.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
        --data-binary "$(deploy_body "$2")" "$ADMIN/v1/functions/$1")
    [ "$code" = 200 ] || die "deploying $1 answered $code: $(cat "$OUT/deploy-$1.json")"
}
deploy_body() {
    printf '{"spec":{"language":"rust-wasm","kind":"http"},"source":{"runtime":"wasm","path":"%s"}}' "$1"
}

# instances: how many instances (ready or starting) every function has in all.
instances() {
    admin "$ADMIN/v1/functions" | jq '[.[].running[] | (.instances | length) + .starting] | add // 0'
}

# wait_zero SECONDS: until no function has an instance.
wait_zero() {
    local deadline=$((SECONDS + $1))
    while [ "$(instances)" != 0 ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "instances still running after $1 s"
        sleep 0.1
    done
}

# --- conditions (wait_quiet: bench-lib.sh) ----------------------------------------------
printf 'phase\twaited_s\trustc\tcpu_in_use_pct\n' >"$OUT/conditions.tsv"

# wrk_figures RAW: req/s, p50 ms, p99 ms, non-2xx and socket errors of one wrk output.
wrk_figures() {
    local raw=$1 rps p50 p99 non2xx sockerr
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
    [ -n "$rps" ] || die "no Requests/sec in $raw"
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$raw")
    sockerr=$(awk -F': ' '/Socket errors:/ { print $2 }' "$raw" | tr -d ' ')
    printf '%s\t%s\t%s\t%s\t%s' "$rps" "$p50" "$p99" "${non2xx:-0}" "${sockerr:--}"
}

# --- a) throughput through the gateway vs wasmtime serve -------------------------------
HELLO_BODY='hello from wasi:http'
section_a() {
    local round order server label raw hdr t0 t1 j0 j1 figures rps requests CLK body
    CLK=$(getconf CLK_TCK)
    A_RESULTS=$OUT/a.tsv
    printf 'round\tserver\trps\tp50\tp99\tnon2xx\tsocket_errors\tserver_cpu\tus_per_req\tothers_cpu\n' >"$A_RESULTS"
    wait_quiet "a) throughput"
    for round in $(seq "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order=(wasmtime motif); else order=(motif wasmtime); fi
        for server in "${order[@]}"; do
            label="round $round, $server"
            raw=$OUT/a-r$round-$server
            hdr=()
            if [ "$server" = motif ]; then
                start_serve "a-r$round" 60s 30s
                # Named `hi`, not `hello`: were wrk's Host not sent, GET /hello would be
                # routed by path to a function `hello` that is not there, a 404 that fails
                # the run, rather than to this one.
                deploy_wasm hi "$FIXTURE"
                hdr=(-H 'Host: hi.localhost')
                # Both ways of naming the function reach it; wrk uses the host.
                body=$(curl -sS --max-time 5 "${hdr[@]}" "http://127.0.0.1:$PORT/hello")
                [ "$body" = "$HELLO_BODY" ] || die "$label: by host, GET /hello answered '$body'"
                body=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/hi/hello")
                [ "$body" = "$HELLO_BODY" ] || die "$label: by path, GET /hi/hello answered '$body'"
                [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/hello")" = 404 ] ||
                    die "$label: GET /hello without the host did not answer 404"
            else
                PORT=$(free_port)
                "$WASMTIME" serve -S cli --addr "127.0.0.1:$PORT" "$FIXTURE" >>"$OUT/wasmtime.log" 2>&1 &
                SERVER_PID=$!
                wait_200 "http://127.0.0.1:$PORT/hello"
                body=$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/hello")
                [ "$body" = "$HELLO_BODY" ] || die "$label: GET /hello answered '$body'"
            fi
            wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${hdr[@]}" "http://127.0.0.1:$PORT/hello" >"$raw.warmup.txt" 2>&1
            t0=$(cpu_ticks "$SERVER_PID"); j0=$(cpu_jiffies)
            timeout $(($(seconds "$DURATION") + 20)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
                "${hdr[@]}" "http://127.0.0.1:$PORT/hello" >"$raw.txt" 2>&1 || die "$label: wrk failed (see $raw.txt)"
            t1=$(cpu_ticks "$SERVER_PID"); j1=$(cpu_jiffies)
            stop_server
            figures=$(wrk_figures "$raw.txt")
            [ "$(cut -f4 <<<"$figures")" = 0 ] || die "$label: answers other than 2xx (see $raw.txt)"
            requests=$(awk '/ requests in / { print $1 }' "$raw.txt")
            rps=$(cut -f1 <<<"$figures")
            # server CPU, and CPU of everything but the server and softirq (wrk included)
            printf '%s\t%s\t%s\t%s\n' "$round" "$server" "$figures" "$(awk -v a="$t0" -v b="$t1" -v c="$CLK" -v n="$requests" \
                -v ja="$j0" -v jb="$j1" 'BEGIN { split(ja, x, " "); split(jb, y, " "); s = (b - a) / c
                    printf "%.1f\t%.1f\t%.1f", s, s * 1e6 / n, (y[1] - x[1] - (y[3] - x[3])) / c - s }')" >>"$A_RESULTS"
            log "a) $label: $rps req/s, p50 $(cut -f2 <<<"$figures") ms, p99 $(cut -f3 <<<"$figures") ms"
        done
    done
}

# --- b) cold start from zero -----------------------------------------------------------
FUNCTIONS=$SCRATCH/functions
template_of() { case $1 in node) echo js ;; *) echo "$1" ;; esac; }
path_of() { case $1 in wasm) echo /hello ;; *) echo / ;; esac; }

# prepare_function LANG: deploys cold-LANG (created in SCRATCH unless there).
prepare_function() {
    local lang=$1 name=cold-$1 dir
    if [ "$lang" = wasm ]; then
        deploy_wasm "$name" "$FIXTURE"
        return
    fi
    dir=$FUNCTIONS/$name
    if [ ! -f "$dir/motif.toml" ]; then
        mkdir -p "$FUNCTIONS"
        "$MOTIF" create -l "$(template_of "$lang")" "$name" --path "$dir" >>"$OUT/create.log" 2>&1 ||
            die "motif create -l $(template_of "$lang") failed (see $OUT/create.log)"
    fi
    log "deploying $name (builds it)"
    MOTIF_STATE_DIR=$STATE "$MOTIF" deploy "$dir" >>"$OUT/deploy-$name.log" 2>&1 ||
        die "motif deploy $dir failed (see $OUT/deploy-$name.log)"
}

# request NAME PATH [N]: "CODE MS" lines of N GETs by host (default 1), one after the
# other from one curl, each on a new connection (`Connection: close`). Two: the second
# follows the first at once, before the autoscaler's next look at the revision.
request() {
    local outputs=() i
    for i in $(seq "${3:-1}"); do outputs+=(-o "$OUT/b-body-$1.$i.txt" "http://127.0.0.1:$PORT$2"); done
    curl -sS --max-time 60 -w '%{http_code} %{time_total}\n' -H "Host: $1.localhost" -H 'Connection: close' \
        "${outputs[@]}" | awk '{ printf "%s %.3f\n", $1, $2 * 1000 }'
}

# launch LANG: the command that runs cold-LANG's artifact without motif serve, as words
# (NUL-separated): `env` with the function's environment, then the program and its
# arguments (the snapshot's paths made real), as motif serve starts an instance.
launch() {
    local name=cold-$1 hex package files
    hex=$(admin "$ADMIN/v1/functions/$name" | jq -r .latest.artifact)
    hex=${hex#sha256:}
    package=$STATE/artifacts/$hex/package.json
    files=$STATE/artifacts/$hex/files
    [ -f "$package" ] || die "no artifact for $name at $package"
    if [ "$(jq -r .runtime "$package")" = wasm ]; then
        printf '%s\0' env "MOTIF_FUNCTION_NAME=$name" MOTIF_FUNCTION_KIND=http \
            "$BIN/motif-invoker" --wasm "$STATE/artifacts/$hex/function.wasm"
    else
        jq -j --arg dir "$files" --arg name "$name" '
            def real: gsub("\\{dir\\}"; $dir);
            (["env", "MOTIF_FUNCTION_NAME=\($name)", "MOTIF_FUNCTION_KIND=http"]
             + [.env[] | "\(.[0])=\(.[1] | real)"] + [.program | real] + [.args[] | real])
            | map(. + "\u0000") | join("")' "$package"
    fi
}

# direct LANG: one spawn-to-first-200 of cold-LANG without motif serve, in ms, run in its
# snapshot's directory as an instance is.
direct() {
    local lang=$1 words=() hex
    mapfile -d '' words < <(launch "$lang")
    hex=$(admin "$ADMIN/v1/functions/cold-$lang" | jq -r .latest.artifact)
    hex=${hex#sha256:}
    (cd "$STATE/artifacts/$hex/" && { [ ! -d files ] || cd files; } &&
        "$FIRST_REQUEST" "$(path_of "$lang")" -- "${words[@]}") | tee -a "$OUT/b-direct-$lang.raw" |
        sed -n 's/.*spawn-to-first-200=\([0-9.]*\)ms.*/\1/p'
}

section_b() {
    local lang run cold warm ready code code2 ms
    B_RESULTS=$OUT/b.tsv
    B_DIRECT=$OUT/b-direct.tsv
    printf 'run\tlanguage\tcold_ms\twarm_ms\tready_after_ms\n' >"$B_RESULTS"
    printf 'run\tlanguage\tms\n' >"$B_DIRECT"
    # A grace of 1 ms: the CLI refuses 0s (its duration parser takes only positive ones).
    start_serve b 1s 1ms
    for lang in "${LANGUAGES[@]}"; do prepare_function "$lang"; done
    # One request each before measuring: as on any start after the first, the
    # interpreters' files are in the page cache.
    for lang in "${LANGUAGES[@]}"; do
        read -r code ms < <(request "cold-$lang" "$(path_of "$lang")")
        [ "$code" = 200 ] || die "cold-$lang answered $code: $(cat "$OUT/b-body-cold-$lang.1.txt")"
    done
    wait_quiet "b) cold start"
    for run in $(seq "$COLD_RUNS"); do
        wait_zero 30
        # Stopped instances (SIGTERM, drain) finish exiting before the next cold start.
        sleep 0.5
        for lang in "${LANGUAGES[@]}"; do
            { read -r code cold && read -r code2 warm; } < <(request "cold-$lang" "$(path_of "$lang")" 2)
            [ "$code" = 200 ] || die "cold-$lang answered $code from zero (run $run)"
            [ "$code2" = 200 ] || die "cold-$lang answered $code2 warm (run $run)"
            ready=$(admin "$ADMIN/v1/functions/cold-$lang" | jq -r '[.running[].instances[].readyAfterMillis] | max // "-"')
            printf '%s\t%s\t%s\t%s\t%s\n' "$run" "$lang" "$cold" "$warm" "$ready" >>"$B_RESULTS"
        done
        log "b) run $run of $COLD_RUNS: $(awk -F'\t' -v r="$run" '$1 == r { printf "%s %s/%s ms  ", $2, $3, $4 }' "$B_RESULTS")"
    done
    if [ "$BASELINE" = 1 ]; then
        wait_zero 30
        for lang in "${LANGUAGES[@]}"; do direct "$lang" >/dev/null; done
        for run in $(seq "$COLD_RUNS"); do
            for lang in "${LANGUAGES[@]}"; do
                ms=$(direct "$lang")
                [ -n "$ms" ] || die "cold-$lang did not start directly (see $OUT/b-direct-$lang.raw)"
                printf '%s\t%s\t%s\n' "$run" "$lang" "$ms" >>"$B_DIRECT"
            done
        done
    fi
    stop_server
}

# --- c) density ------------------------------------------------------------------------
# curl_config FILE KIND: one curl operation per function, kept-alive: `deploy` (PUT to the
# admin API) or `invoke` (GET /hello by host); each writes "CODE SECONDS".
curl_config() {
    local file=$1 kind=$2 i
    for i in $(seq "$N_FUNCTIONS"); do
        if [ "$kind" = deploy ]; then
            printf 'url = "%s/v1/functions/d%d"\nrequest = "PUT"\nheader = "@%s"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\n' \
                "$ADMIN" "$i" "$STATE/.bench-auth" "$OUT/c-deploy.json"
        else
            printf 'url = "http://127.0.0.1:%s/hello"\nheader = "Host: d%d.localhost"\n' "$PORT" "$i"
        fi
        printf 'output = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\nmax-time = 600\n'
        [ "$i" = "$N_FUNCTIONS" ] || echo next
    done >"$file"
}

cput() { printf '%s\t%s\n' "$1" "$2" >>"$C_RESULTS"; log "c) $1: $2"; }

# density_load PREFIX: the loaded server SERVER_PID idle for IDLE_WAIT (its memory and
# CPU), then under load: random functions at 1 and CONNECTIONS connections, and (`one`)
# the same load on d1 alone, what spreading it costs. Records keys PREFIX<name>.
density_load() {
    local p=$1 ticks0 ticks1 run which c n raw figures CLK
    CLK=$(getconf CLK_TCK)
    cput "${p}instances_loaded" "$(instances)"
    ticks0=$(cpu_ticks "$SERVER_PID")
    sleep "$IDLE_WAIT"
    ticks1=$(cpu_ticks "$SERVER_PID")
    cput "${p}rss_idle_kib" "$(rss_kib "$SERVER_PID")"
    # What the resident memory is: heap and other anonymous memory, or mapped files (the
    # binary; compiled code mapped from the cache, once per function).
    cput "${p}rss_idle_anon_kib" "$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status")"
    cput "${p}rss_idle_file_kib" "$(awk '/^RssFile:/ { print $2 }' "/proc/$SERVER_PID/status")"
    # RSS counts a file's pages once per mapping; PSS shares them out among mappings.
    cput "${p}pss_idle_kib" "$(awk '/^Pss:/ { print $2 }' "/proc/$SERVER_PID/smaps_rollup")"
    cput "${p}idle_cpu_pct" "$(awk -v a="$ticks0" -v b="$ticks1" -v c="$CLK" -v s="$IDLE_WAIT" 'BEGIN { printf "%.1f", 100 * (b - a) / c / s }')"
    for run in "random 1" "random $CONNECTIONS" "one $CONNECTIONS"; do
        read -r which c <<<"$run"
        n=$N_FUNCTIONS; [ "$which" = one ] && n=1
        raw=$OUT/c-$p$which-c$c
        wrk -t1 -c"$c" -d"$WARMUP" -s "$LUA/random-function.lua" "http://127.0.0.1:$PORT/" \
            -- "$n" d /hello >"$raw.warmup.txt" 2>&1
        timeout $(($(seconds "$DURATION") + 20)) wrk -t1 -c"$c" -d"$DURATION" --latency \
            -s "$LUA/random-function.lua" "http://127.0.0.1:$PORT/" -- "$n" d /hello >"$raw.txt" 2>&1 ||
            die "wrk failed (see $raw.txt)"
        figures=$(wrk_figures "$raw.txt")
        [ "$(cut -f4 <<<"$figures")" = 0 ] || die "requests answered other than 2xx (see $raw.txt)"
        cput "${p}${which}_c${c}_rps" "$(cut -f1 <<<"$figures")"
        cput "${p}${which}_c${c}_p50_ms" "$(cut -f2 <<<"$figures")"
        cput "${p}${which}_c${c}_p99_ms" "$(cut -f3 <<<"$figures")"
    done
    cput "${p}rss_after_load_kib" "$(rss_kib "$SERVER_PID")"
    cput "${p}instances_after_load" "$(instances)"
}

# invoke_all FILE: GET /hello of every function once (kept-alive); "CODE SECONDS" lines.
invoke_all() {
    curl_config "$OUT/c-invoke.curl" invoke
    curl -sS -K "$OUT/c-invoke.curl" >"$1"
    [ "$(awk '$1 != 200' "$1" | wc -l)" = 0 ] || die "invocations failed (see $1)"
}

section_c() {
    local t0 t1
    C_RESULTS=$OUT/c.tsv
    printf 'key\tvalue\n' >"$C_RESULTS"
    # After a) or b) the fixture is in the compile cache: every deploy loads it from there.
    deploy_body "$FIXTURE" >"$OUT/c-deploy.json"
    wait_quiet "c) density"
    start_serve c 60s 30s
    sleep 1
    cput rss_empty_kib "$(rss_kib "$SERVER_PID")"
    curl_config "$OUT/c-deploy.curl" deploy
    t0=$(date +%s%N)
    curl -sS -K "$OUT/c-deploy.curl" >"$OUT/c-deploys.txt"
    t1=$(date +%s%N)
    [ "$(awk '$1 != 200' "$OUT/c-deploys.txt" | wc -l)" = 0 ] || die "deploys failed (see $OUT/c-deploys.txt)"
    [ "$(wc -l <"$OUT/c-deploys.txt")" = "$N_FUNCTIONS" ] || die "not every deploy answered"
    cput deploy_seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
    cput rss_deployed_kib "$(rss_kib "$SERVER_PID")"
    invoke_all "$OUT/c-invokes.txt"
    density_load ""
    if [ "$ZERO_RSS" = 1 ]; then
        log "c) waiting for every function to scale to zero (60 s stable window + 30 s grace)"
        wait_zero 240
        sleep 2
        cput rss_zero_kib "$(rss_kib "$SERVER_PID")"
    fi
    cput hwm_kib "$(hwm_kib "$SERVER_PID")"
    stop_server
    # With RUST_BACKTRACE (or RUST_LIB_BACKTRACE) set, every error made in the process
    # captures a backtrace, and the system unwinder searches the unwind tables of every
    # loaded module: the same server again without them, for comparison. A restart keeps
    # what is deployed; each function starts on its first request.
    if [ "$BACKTRACE_COMPARE" = 1 ] && [ -n "${RUST_BACKTRACE:-}${RUST_LIB_BACKTRACE:-}" ]; then
        SERVE_ENV=(env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE)
        start_serve c 60s 30s
        SERVE_ENV=()
        invoke_all "$OUT/c-nobt-invokes.txt"
        density_load nobt_
        cput nobt_hwm_kib "$(hwm_kib "$SERVER_PID")"
        stop_server
    fi
}

for s in "${SECTIONS[@]}"; do "section_$s"; done

# --- report ----------------------------------------------------------------------------
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# pct P: the P-th percentile, nearest rank
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int(p / 100 * NR); if (i < p / 100 * NR) i++; if (i < 1) i = 1; print a[i] }'; }
col() { awk -F'\t' -v k="$2" -v v="$3" -v c="$4" 'NR > 1 && $k == v { print $c }' "$1"; }
cval() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$C_RESULTS"; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.2f", v }'; }
yes_no() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "-" || v == "") print "-"; else if ((op == "<") ? (v + 0 < t + 0) : (v + 0 >= t + 0)) print "yes"; else print "no" }'; }

commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || commit="$commit (with uncommitted changes)"
{
    echo "## motif serve"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit"
    echo "- command: \`ROUNDS=$ROUNDS DURATION=$DURATION COLD_RUNS=$COLD_RUNS N_FUNCTIONS=$N_FUNCTIONS bash scripts/bench-serve.sh\` (sections: ${SECTIONS[*]})"
    echo "- $(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//')${WASMTIME:+; $("$WASMTIME" --version)}; Node $(node -v 2>/dev/null || echo -); $(python3 --version 2>&1)"
    echo "- environment: RUST_BACKTRACE=${RUST_BACKTRACE:-unset}, RUST_LIB_BACKTRACE=${RUST_LIB_BACKTRACE:-unset} (a) and b) run with it as given)"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), shared by the load generator and the server"
    echo "- raw output: $OUT"
    if has a "${SECTIONS[@]}"; then
        echo
        echo "### a) wasm hello through the gateway vs wasmtime serve"
        echo
        echo "\`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up, GET /hello of tests/wasm-guests/http-fixture; motif serve by host (\`Host: hi.localhost\`). Medians of $ROUNDS rounds (each column on its own); target: ratio >= 1.0."
        echo
        echo "| server | req/s | p50 ms | p99 ms | server CPU µs/req |"
        echo "|---|---|---|---|---|"
        for server in wasmtime motif; do
            printf '| %s | %s | %s | %s | %s |\n' \
                "$([ "$server" = motif ] && echo 'motif serve (gateway, in-process wasm)' || echo 'wasmtime serve -S cli')" \
                "$(col "$A_RESULTS" 2 "$server" 3 | median)" "$(col "$A_RESULTS" 2 "$server" 4 | median)" \
                "$(col "$A_RESULTS" 2 "$server" 5 | median)" "$(col "$A_RESULTS" 2 "$server" 9 | median)"
        done
        ra=$(col "$A_RESULTS" 2 motif 3 | median); rb=$(col "$A_RESULTS" 2 wasmtime 3 | median)
        ratio=$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.2f", a / b }')
        echo
        echo "Ratio motif serve / wasmtime serve (median req/s): **${ratio}x** (target met: $(yes_no "$ratio" 1.0 '>='))."
        echo
        echo "Per round (others CPU-s: everything but the server and softirq, wrk included, during the measured run):"
        echo
        echo "| round | server | req/s | p50 ms | p99 ms | server CPU-s | server CPU µs/req | others CPU-s | socket errors |"
        echo "|---|---|---|---|---|---|---|---|---|"
        awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $8, $9, $10, $7 }' "$A_RESULTS"
    fi
    if has b "${SECTIONS[@]}"; then
        echo
        echo "### b) cold start from zero"
        echo
        echo "\`motif serve --stable-window 1s --scale-to-zero-grace 1ms\`; $COLD_RUNS runs, each once no function had an instance; one GET by host from zero, then at once a warm GET (one curl, each on a new connection; curl's time_total). ready = the instance's start as motif serve reports it (\`readyAfterMillis\`). direct = the same artifact spawned without motif serve to its first 200 (\`first-request\`, 1 ms attempts)."
        echo
        echo "| function | from zero p50 ms | p90 ms | min–max ms | warm p50 ms | ready p50 ms | direct spawn p50 ms | target p50 | met |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for lang in "${LANGUAGES[@]}"; do
            case $lang in wasm | rust-wasm) target=2 ;; rust) target=30 ;; *) target=200 ;; esac
            p50=$(col "$B_RESULTS" 2 "$lang" 3 | median)
            printf '| %s | %s | %s | %s–%s | %s | %s | %s | < %s ms | %s |\n' \
                "$([ "$lang" = wasm ] && echo 'wasm (http-fixture)' || echo "$lang (motif create)")" \
                "$(fmt "$p50")" "$(fmt "$(col "$B_RESULTS" 2 "$lang" 3 | pct 90)")" \
                "$(fmt "$(col "$B_RESULTS" 2 "$lang" 3 | sort -n | head -1)")" "$(fmt "$(col "$B_RESULTS" 2 "$lang" 3 | sort -n | tail -1)")" \
                "$(fmt "$(col "$B_RESULTS" 2 "$lang" 4 | median)")" "$(fmt "$(col "$B_RESULTS" 2 "$lang" 5 | median)")" \
                "$(fmt "$([ "$BASELINE" = 1 ] && col "$B_DIRECT" 2 "$lang" 3 | median || echo -)")" "$target" "$(yes_no "$p50" "$target" '<')"
        done
        echo
        echo "Every run, from zero / warm ms:"
        echo
        echo "| function | runs |"
        echo "|---|---|"
        for lang in "${LANGUAGES[@]}"; do
            printf '| %s | %s |\n' "$lang" "$(awk -F'\t' -v l="$lang" 'NR > 1 && $2 == l { printf "%s%.1f/%.1f", (n++ ? ", " : ""), $3, $4 }' "$B_RESULTS")"
        done
    fi
    if has c "${SECTIONS[@]}"; then
        n=$N_FUNCTIONS
        dep=$(cval deploy_seconds)
        nobt=; [ -z "$(cval nobt_rss_idle_kib)" ] || nobt=1
        given="RUST_BACKTRACE=${RUST_BACKTRACE:-unset}${RUST_LIB_BACKTRACE:+, RUST_LIB_BACKTRACE=$RUST_LIB_BACKTRACE}"
        # crow LABEL FUNCTION TARGET THRESHOLD OP: a row with FUNCTION's text for the
        # environment as given (and without the backtrace variables, if run); FUNCTION
        # PREFIX prints "text<TAB>value to hold against THRESHOLD".
        crow() {
            local a b met
            a=$("$2" ""); met=$(yes_no "${a##*$'\t'}" "$4" "$5")
            if [ -n "$nobt" ]; then
                b=$("$2" nobt_)
                [ -z "$4" ] || met="$met / $(yes_no "${b##*$'\t'}" "$4" "$5")"
                printf '| %s | %s | %s | %s | %s |\n' "$1" "${a%%$'\t'*}" "${b%%$'\t'*}" "$3" "${4:+$met}"
            else
                printf '| %s | %s | %s | %s |\n' "$1" "${a%%$'\t'*}" "$3" "${4:+$met}"
            fi
        }
        once() { if [ -z "$1" ]; then printf '%s\t-' "$ONCE"; else printf -- '-\t-'; fi; }
        timing() { printf 'p50 %s ms, p99 %s ms\t-' "$(fmt "$(awk '{ print $2 * 1000 }' "$1" | median)")" "$(fmt "$(awk '{ print $2 * 1000 }' "$1" | pct 99)")"; }
        v_first() { if [ -z "$1" ]; then timing "$OUT/c-invokes.txt"; else timing "$OUT/c-nobt-invokes.txt"; fi; }
        v_idle() {
            local k; k=$(cval "${1}rss_idle_kib")
            printf '**%s MiB** (%s KiB a function over the empty server; anonymous %s MiB, files %s MiB; PSS %s MiB)\t%s' \
                "$(mib "$k")" "$(awk -v a="$k" -v b="$(cval rss_empty_kib)" -v n="$n" 'BEGIN { printf "%.0f", (a - b) / n }')" \
                "$(mib "$(cval "${1}rss_idle_anon_kib")")" "$(mib "$(cval "${1}rss_idle_file_kib")")" "$(mib "$(cval "${1}pss_idle_kib")")" "$(mib "$k")"
        }
        v_cpu() { printf '%s %% of one CPU\t-' "$(cval "${1}idle_cpu_pct")"; }
        v_load() { # PREFIX WHICH CONNECTIONS
            printf '%s req/s, p50 %s ms, p99 %s ms\t%s' "$(cval "${1}${2}_c${3}_rps")" "$(cval "${1}${2}_c${3}_p50_ms")" \
                "$(cval "${1}${2}_c${3}_p99_ms")" "$(cval "${1}${2}_c${3}_p99_ms")"
        }
        v_c1() { v_load "$1" random 1; }
        v_cn() { v_load "$1" random "$CONNECTIONS"; }
        v_one() { v_load "$1" one "$CONNECTIONS"; }
        v_after() { printf '%s MiB (%s instances)\t-' "$(mib "$(cval "${1}rss_after_load_kib")")" "$(cval "${1}instances_after_load")"; }
        v_hwm() { printf '%s MiB\t-' "$(mib "$(cval "${1}hwm_kib")")"; }
        echo
        echo "### c) density: $n wasm functions in one motif serve"
        echo
        echo "The fixture deployed as d1..d$n through the admin API (one curl, kept-alive), each invoked once, then idle ${IDLE_WAIT} s with the default 60 s stable window (all loaded: $(cval instances_loaded) instances). Random: each request to a function picked at random, by host; one: the same load on d1 alone. \`wrk -t1 --latency\` for $DURATION after a $WARMUP warm-up.${nobt:+ Second column: the same server restarted on the same state without RUST_BACKTRACE and RUST_LIB_BACKTRACE (each function loaded again by one request).}"
        echo
        if [ -n "$nobt" ]; then
            echo "| measure | $given | without | target | met |"
            echo "|---|---|---|---|---|"
        else
            echo "| measure | $given | target | met |"
            echo "|---|---|---|---|"
        fi
        ONCE="$n in $dep s = $(awk -v n="$n" -v s="$dep" 'BEGIN { printf "%.0f", n / s }')/s; each p50 $(fmt "$(awk '{ print $2 * 1000 }' "$OUT/c-deploys.txt" | median)") ms, p99 $(fmt "$(awk '{ print $2 * 1000 }' "$OUT/c-deploys.txt" | pct 99)") ms"
        crow "deploys" once "" "" ""
        crow "first request of each (as given: loaded by its deploy${nobt:+; without: from zero after the restart})" v_first "" "" ""
        ONCE="$(mib "$(cval rss_empty_kib)") MiB"; crow "VmRSS, empty server" once "" "" ""
        ONCE="$(mib "$(cval rss_deployed_kib)") MiB"; crow "VmRSS, $n deployed" once "" "" ""
        crow "VmRSS, $n loaded and idle" v_idle "< 500 MiB" 500 "<"
        crow "CPU of the idle server" v_cpu "" "" ""
        crow "random function, 1 connection" v_c1 "p99 < 5 ms" 5 "<"
        crow "random function, $CONNECTIONS connections" v_cn "" "" ""
        crow "one function (d1), $CONNECTIONS connections" v_one "" "" ""
        crow "VmRSS after the load" v_after "" "" ""
        for p in "" nobt_; do
            k=$(cval "${p}instances_after_load")
            [ -z "$k" ] || [ "$k" = "$n" ] ||
                echo "| **caution** | ${p:+without: }only $k of $n functions had an instance after the load: some requests were cold starts | |${nobt:+ |} |"
        done
        if [ "$ZERO_RSS" = 1 ]; then ONCE="$(mib "$(cval rss_zero_kib)") MiB"; crow "VmRSS once all scaled to zero" once "" "" ""; fi
        crow "VmHWM (peak RSS)" v_hwm "" "" ""
    fi
    echo
    echo "Conditions when each phase began (the CPU in use over 2 s):"
    echo
    awk -F'\t' 'NR > 1 { printf "- %s: %s%% of the CPU in use, %s rustc running (after waiting %s s)\n", $1, $4, $3, $2 }' "$OUT/conditions.tsv"
} | tee "$OUT/summary.md"
log "raw output in $OUT"
