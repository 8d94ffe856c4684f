#!/usr/bin/env bash
# Benchmarks of motif serve's broker (its CloudEvents ingress, durable log and
# deliveries), each beside its baseline in the same run, on the same machine, with the
# same load generator (tests/bench's `event-load`, or wrk for a) with INGEST_TOOL=wrk):
#
#   a) durable ingest: the most events/s `motif serve`'s broker ingress accepts
#      (`POST /broker/default`, binary-mode CloudEvents with unique ids and ~90 bytes of
#      JSON data, 202 once appended) with no trigger, with `--event-fsync always` (the
#      default: each 202 after its records are fsynced, concurrent appends sharing one
#      fsync) and, for information, `--event-fsync never`; against tests/bench's
#      `bare-ingest`, an axum server that reads each POST's body and answers 202 (no
#      decoding, no log). The load: `event-load --rate 0` (closed loop: each connection
#      sends its next event once the last is answered) on CONNECTIONS connections for
#      INGEST_DURATION, after a WARMUP. ROUNDS rounds, the order of the three servers
#      rotating; a fresh server (and state directory) for each run. Medians of the
#      rounds. Target: >= 10,000 events/s durably accepted.
#   b) end to end to a wasm subscriber: `motif create -l rust-wasm -t cloudevent sub` in
#      SCRATCH with a handler that accepts every event and answers nothing (204),
#      deployed with `motif deploy` to one `motif serve` (fsync always). For each load of
#      LOADS (events/s, or `max`: `event-load --rate 0`) and each of ROUNDS rounds:
#        - broker: a fresh trigger (`motif subscribe sub --name ... --filter
#          type=TYPE`, so its latency histogram is its own), event-load publishing to
#          the broker at that rate (open loop: latency from each event's due time) for
#          DURATION, then waiting until the trigger's lag is 0; its delivered count and
#          the broker's own latency from each event's arrival at the ingress
#          (`knativearrivaltime`) to the subscriber's 2xx (`latencyP50Ms`,
#          `latencyP99Ms` of GET /v1/events/triggers); delivered/s is delivered over the
#          time from the first publish to lag 0 (polled every 0.1 s). Then `motif
#          unsubscribe`.
#        - direct: the same event-load at the same rate straight to the function
#          through the gateway (`Host: sub.localhost`): what invoking it costs without
#          the broker, request latency p50/p99.
#      Which goes first alternates between rounds. Target: p99 < 50 ms at 5,000/s.
#
# The machine is shared: before each section (and each round of b) the script waits (up
# to BUSY_WAIT s) until no rustc runs and under 20 % of the CPU is in use, and records
# what it found; each measured run records the CPU-s used by the server, the load
# generator, softirq and everything else.
#
# Prints markdown tables on stdout (and in $OUT/summary.md); progress goes to stderr. Raw
# output (event-load's JSON reports, wrk output, trigger status, server logs, state
# directories) is kept in $OUT.
#
# Settings (environment): ROUNDS=3 INGEST_DURATION=10s DURATION=20s WARMUP=2s
#   CONNECTIONS=64 LOADS="1000 5000 max" TYPE=dev.motif.bench.load INGEST_TOOL=event-load
#   (or wrk: wrk -t1 with a Lua script giving each event its own ce-id) SECTIONS="a b"
#   BUSY_WAIT=600 DRAIN_TIMEOUT=600 (s to wait for a trigger's lag to reach 0)
#   SCRATCH=target/bench-events (the subscriber function, kept between runs so that its
#     build is reused)  OUT=$SCRATCH/<UTC time>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=scripts/bench-lib.sh
. "$ROOT/scripts/bench-lib.sh"
ROUNDS=${ROUNDS:-3}
INGEST_DURATION=${INGEST_DURATION:-10s}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-64}
read -r -a LOADS <<<"${LOADS:-1000 5000 max}"
TYPE=${TYPE:-dev.motif.bench.load}
INGEST_TOOL=${INGEST_TOOL:-event-load}
read -r -a SECTIONS <<<"${SECTIONS:-a b}"
BUSY_WAIT=${BUSY_WAIT:-600}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
SCRATCH=${SCRATCH:-$ROOT/target/bench-events}
OUT=${OUT:-$SCRATCH/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
export MOTIF_CACHE_DIR=$OUT/cache
has() { local s; for s in "${@:2}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
case $INGEST_TOOL in event-load | wrk) ;; *) die "INGEST_TOOL is event-load or wrk, not $INGEST_TOOL" ;; esac

# --- tools and builds ------------------------------------------------------------------
if [ "$INGEST_TOOL" = wrk ] && ! command -v wrk >/dev/null; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "installing wrk"; $SUDO apt-get install -y -qq wrk >&2
fi
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"

log "building (release)"
cargo build --release -p motif-cli -p motif-invoker -p motif-bench >&2
# What was built: the commit (and whether the tree differed from it), and when.
COMMIT=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || COMMIT="$COMMIT (with uncommitted changes)"
STARTED=$(date -u '+%Y-%m-%d %H:%M')
BIN=$ROOT/target/release
MOTIF=$BIN/motif
EVENT_LOAD=$BIN/event-load
BARE_INGEST=$BIN/bare-ingest

# --- servers ---------------------------------------------------------------------------
# stop_server (bench-lib's, called on exit too) with time for motif serve's drain.
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

# wait_ready URL: until URL answers 200 (10 s), while SERVER_PID lives.
wait_ready() {
    for _ in $(seq 200); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start (see $OUT)"
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" = 200 ] && return 0
        sleep 0.05
    done
    die "$1 did not answer 200 within 10 s"
}

# start_serve LABEL [ARGS...]: a `motif serve` with its state in $OUT/state-LABEL; sets
# SERVER_PID, PORT, STATE and ADMIN (the admin API's URL).
start_serve() {
    local label=$1
    shift
    STATE=$OUT/state-$label
    PORT=$(free_port)
    "$MOTIF" serve --port "$PORT" --state-dir "$STATE" --drain 5s "$@" >>"$OUT/serve-$label.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$PORT/_/ready"
    for _ in $(seq 100); do [ -s "$STATE/serve.json" ] && break; sleep 0.05; done
    [ "$(jq -r .pid "$STATE/serve.json")" = "$SERVER_PID" ] ||
        die "serve.json names another process than the one started"
    ADMIN=http://$(jq -r .admin "$STATE/serve.json")
    # The token as a header file (owner-only, removed at stop), not on curl's command line.
    (umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$STATE/admin-token")" >"$STATE/.bench-auth")
}

# start_bare: bare-ingest on a free port; sets SERVER_PID and PORT.
start_bare() {
    STATE=
    PORT=$(free_port)
    PORT=$PORT "$BARE_INGEST" >>"$OUT/bare-ingest.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "bare-ingest exited at start (see $OUT/bare-ingest.log)"
        [ "$(ce_post "http://127.0.0.1:$PORT/broker/default" || true)" = 202 ] && return 0
        sleep 0.05
    done
    die "bare-ingest did not answer 202 within 10 s"
}

admin() { curl -sS --max-time 60 -H @"$STATE/.bench-auth" "$@"; }

# ce_post URL [CURL ARGS...]: one binary-mode CloudEvent of type dev.motif.bench.check
# by hand; prints the status.
ce_post() {
    local url=$1
    shift
    curl -sS --max-time 5 -o "$OUT/check.body" -w '%{http_code}' -X POST "$@" \
        -H 'Content-Type: application/json' -H 'ce-specversion: 1.0' \
        -H "ce-id: bench-check-$(date +%s%N)" -H 'ce-source: /motif/bench/check' \
        -H 'ce-type: dev.motif.bench.check' --data-binary '{"check":true}' "$url"
}

# --- measuring -------------------------------------------------------------------------
printf 'phase\twaited_s\trustc\tcpu_in_use_pct\n' >"$OUT/conditions.tsv"
CLK=$(getconf CLK_TCK)

# begin / finish RAW: CPU counted around a measured run. finish prints "server CPU-s,
# load generator CPU-s (from RAW.time), softirq CPU-s, others CPU-s" (tab-separated).
begin() { T0=$(cpu_ticks "$SERVER_PID"); J0=$(cpu_jiffies); }
finish() {
    local t1 j1 gen
    t1=$(cpu_ticks "$SERVER_PID"); j1=$(cpu_jiffies)
    gen=$(awk '{ printf "%.1f", $1 + $2 }' "$1.time")
    awk -v a="$T0" -v b="$t1" -v ja="$J0" -v jb="$j1" -v c="$CLK" -v g="$gen" 'BEGIN {
        split(ja, x, " "); split(jb, y, " "); s = (b - a) / c; q = (y[3] - x[3]) / c
        o = (y[1] - x[1]) / c - s - g - q; printf "%.1f\t%.1f\t%.1f\t%.1f", s, g, q, o < 0 ? 0 : o }'
}

# event_load RAW URL RATE DURATION [EVENT-LOAD ARGS...]: one event-load run on
# CONNECTIONS connections; its JSON report in RAW.json, its CPU-s in RAW.time.
event_load() {
    local raw=$1 url=$2 rate=$3 dur=$4 limit
    shift 4
    limit=$(($(seconds "$dur") + 120))
    local TIMEFORMAT='%U %S'
    { time timeout "$limit" "$EVENT_LOAD" --url "$url" --rate "$rate" --duration "$dur" \
        --connections "$CONNECTIONS" "$@" >"$raw.json" 2>"$raw.err"; } 2>"$raw.time" ||
        die "event-load failed or timed out (see $raw.err)"
}

# wrk_load RAW URL DURATION: wrk -t1 with unique ce-ids on CONNECTIONS connections.
wrk_load() {
    local raw=$1 url=$2 dur=$3 limit
    limit=$(($(seconds "$dur") + 20))
    local TIMEFORMAT='%U %S'
    { time timeout "$limit" wrk -t1 -c"$CONNECTIONS" -d"$dur" --latency -s "$OUT/ce-unique.lua" \
        "$url" >"$raw.txt" 2>&1; } 2>"$raw.time" || die "wrk failed or timed out (see $raw.txt)"
}

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

# The event of post.lua/ce.lua (tests/bench/lua), with a ce-id of its own per request.
cat >"$OUT/ce-unique.lua" <<'EOF'
local n = 0
local prefix = "wrk-" .. os.time() .. "-" .. math.random(1000000) .. "-"
wrk.method = "POST"
wrk.body = '{"id":1,"name":"motif-bench","payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-source"] = "/motif/bench/wrk"
wrk.headers["ce-type"] = "dev.motif.bench.load"
request = function()
    n = n + 1
    wrk.headers["ce-id"] = prefix .. n
    return wrk.format()
end
EOF

# fsync_probe: what one small synchronous write costs on the state directories' disk.
fsync_probe() {
    local out
    out=$(dd if=/dev/zero of="$OUT/fsync-probe" bs=4k count=500 oflag=dsync 2>&1 | tail -n1)
    rm -f "$OUT/fsync-probe"
    echo "$out" >"$OUT/fsync-probe.txt"
    awk '{ for (i = 1; i <= NF; i++) if ($(i + 1) == "s,") { printf "%.2f", $i * 1000 / 500; exit } }' <<<"$out"
}

# --- a) durable ingest -----------------------------------------------------------------
INGEST_SERVERS=(bare always never)
section_a() {
    local round i k server raw url figures cpu rate p50 p99 errors accepted sent order=()
    A_RESULTS=$OUT/a.tsv
    printf 'round\tserver\tevents_per_s\tp50_ms\tp99_ms\terrors\tsent\tserver_cpu\tgen_cpu\tsoftirq_cpu\tothers_cpu\tus_per_event\n' >"$A_RESULTS"
    FSYNC_MS=$(fsync_probe)
    log "a) one 4 KiB O_DSYNC write on this disk: ${FSYNC_MS} ms (mean of 500)"
    wait_quiet "a) durable ingest"
    for round in $(seq "$ROUNDS"); do
        order=()
        for i in 0 1 2; do order+=("${INGEST_SERVERS[$(((i + round - 1) % 3))]}"); done
        for server in "${order[@]}"; do
            raw=$OUT/a-r$round-$server
            if [ "$server" = bare ]; then
                start_bare
            else
                start_serve "a-r$round-$server" --event-fsync "$server"
                k=$(ce_post "http://127.0.0.1:$PORT/broker/default")
                [ "$k" = 202 ] || die "a) round $round, $server: the broker answered $k: $(cat "$OUT/check.body")"
                # by host too
                k=$(ce_post "http://127.0.0.1:$PORT/" -H 'Host: broker.localhost')
                [ "$k" = 202 ] || die "a) round $round, $server: the broker by host answered $k"
            fi
            url=http://127.0.0.1:$PORT/broker/default
            if [ "$INGEST_TOOL" = wrk ]; then
                wrk_load "$raw.warmup" "$url" "$WARMUP"
                begin
                wrk_load "$raw" "$url" "$INGEST_DURATION"
                cpu=$(finish "$raw")
                figures=$(wrk_figures "$raw.txt")
                rate=$(cut -f1 <<<"$figures"); p50=$(cut -f2 <<<"$figures"); p99=$(cut -f3 <<<"$figures")
                errors=$(cut -f4 <<<"$figures")
                sent=$(awk '/ requests in / { print $1 }' "$raw.txt")
                accepted=$((sent - errors))
            else
                event_load "$raw.warmup" "$url" 0 "$WARMUP"
                begin
                event_load "$raw" "$url" 0 "$INGEST_DURATION"
                cpu=$(finish "$raw")
                read -r rate p50 p99 errors sent accepted < <(jq -r \
                    '[.achieved_rate, .latency_ms.p50, .latency_ms.p99, .errors, .sent, .accepted] | @tsv' "$raw.json")
            fi
            if [ "$server" != bare ]; then
                # What the log holds: every accepted event (and the checks) is in it.
                du -sk "$STATE/events" >"$raw.log-size" 2>&1 || true
            fi
            stop_server
            [ "$errors" = 0 ] || die "a) round $round, $server: $errors events not accepted (see $raw.*)"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$server" "$rate" "$p50" "$p99" "$errors" "$sent" "$cpu" \
                "$(awk -v s="$(cut -f1 <<<"$cpu")" -v n="$accepted" 'BEGIN { printf "%.1f", s * 1e6 / n }')" >>"$A_RESULTS"
            log "a) round $round, $server: $rate events/s, p50 $p50 ms, p99 $p99 ms (server/load generator/softirq/others CPU-s: $(tr '\t' / <<<"$cpu"))"
        done
    done
}

# --- b) end to end to a wasm subscriber ------------------------------------------------
SUB_DIR=$SCRATCH/functions/sub
# The subscriber: the rust-wasm cloudevent template with a handler that takes every
# event and answers nothing.
prepare_sub() {
    if [ ! -f "$SUB_DIR/motif.toml" ]; then
        mkdir -p "$(dirname "$SUB_DIR")"
        "$MOTIF" create -l rust-wasm -t cloudevent sub --path "$SUB_DIR" >>"$OUT/create.log" 2>&1 ||
            die "motif create -l rust-wasm -t cloudevent failed (see $OUT/create.log)"
    fi
    cat >"$SUB_DIR/src/main.rs" <<'EOF'
//! sub: the subscriber of scripts/bench-events.sh. It takes every event and answers
//! nothing (204): what a broker's delivery costs, with as little of the function's own
//! work as a function can have.

use motif_function::{Error, Event};

async fn handle(_event: Event) -> Result<Option<Event>, Error> {
    Ok(None)
}

motif_function::cloudevent!(handle);
EOF
    log "b) deploying sub (builds it)"
    MOTIF_STATE_DIR=$STATE "$MOTIF" deploy "$SUB_DIR" >>"$OUT/deploy-sub.log" 2>&1 ||
        die "motif deploy $SUB_DIR failed (see $OUT/deploy-sub.log)"
}

# trigger NAME: the trigger's status (JSON), or nothing while it does not run.
trigger() { admin "$ADMIN/v1/events/triggers" | jq -c --arg n "$1" '.[] | select(.name == $n)'; }

# subscribe NAME [TYPE]: a fresh trigger sub-NAME for events of TYPE (default $TYPE),
# running when this returns.
subscribe() {
    MOTIF_STATE_DIR=$STATE "$MOTIF" subscribe sub --name "$1" --filter "type=${2:-$TYPE}" >>"$OUT/subscribe.log" 2>&1 ||
        die "motif subscribe sub --name $1 failed (see $OUT/subscribe.log)"
    for _ in $(seq 200); do [ -n "$(trigger "sub-$1")" ] && return 0; sleep 0.05; done
    die "trigger sub-$1 is not running 10 s after motif subscribe"
}

unsubscribe() {
    MOTIF_STATE_DIR=$STATE "$MOTIF" unsubscribe sub "$1" >>"$OUT/subscribe.log" 2>&1 ||
        die "motif unsubscribe sub $1 failed (see $OUT/subscribe.log)"
}

# drain NAME RAW: waits until trigger sub-NAME's lag is 0 (polled every 0.1 s); writes its
# status to RAW.trigger.json and the time it was seen drained (ns) to RAW.drained.
drain() {
    local deadline=$((SECONDS + DRAIN_TIMEOUT)) status
    while :; do
        status=$(trigger "sub-$1")
        [ -n "$status" ] || die "trigger sub-$1 disappeared"
        if [ "$(jq -r .lag <<<"$status")" = 0 ]; then
            date +%s%N >"$2.drained"
            echo "$status" >"$2.trigger.json"
            return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] || die "trigger sub-$1 still has lag $(jq -r .lag <<<"$status") after ${DRAIN_TIMEOUT}s"
        sleep 0.1
    done
}

rate_of() { if [ "$1" = max ]; then echo 0; else echo "$1"; fi; }

# b_direct ROUND LOAD: event-load to the function through the gateway.
b_direct() {
    local round=$1 load=$2 raw=$OUT/b-r$1-$2-direct cpu
    begin
    event_load "$raw" "http://127.0.0.1:$PORT/" "$(rate_of "$load")" "$DURATION" --host sub.localhost --type "$TYPE"
    cpu=$(finish "$raw")
    jq -r --arg r "$round" --arg l "$load" --arg cpu "$cpu" '[$r, $l, "direct", .sent, .accepted, .errors,
        .achieved_rate, .latency_ms.p50, .latency_ms.p99, .latency_ms.max, .accepted, "-", "-", .achieved_rate,
        .elapsed_s, 0, 0, 0] + ($cpu | split("\t")) | @tsv' "$raw.json" >>"$B_RESULTS"
    log "b) round $round, $load, direct: $(jq -r '"\(.accepted) of \(.sent) accepted, \(.achieved_rate)/s, p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms"' "$raw.json")"
}

# b_broker ROUND LOAD: publish to the broker, to a fresh trigger, until delivered.
b_broker() {
    local round=$1 load=$2 raw=$OUT/b-r$1-$2-broker name t0 t1 cpu
    name=b-r$round-$load-$(date +%s)
    subscribe "$name"
    begin
    t0=$(date +%s%N)
    event_load "$raw" "http://127.0.0.1:$PORT/broker/default" "$(rate_of "$load")" "$DURATION" --type "$TYPE"
    drain "$name" "$raw"
    # the load generator's time file covers the publishing only; the server's CPU-s
    # cover publishing and delivering
    cpu=$(finish "$raw")
    t1=$(cat "$raw.drained")
    unsubscribe "$name"
    jq -r --arg r "$round" --arg l "$load" --arg cpu "$cpu" --arg s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" \
        --slurpfile t "$raw.trigger.json" '[$r, $l, "broker", .sent, .accepted, .errors, .achieved_rate,
        .latency_ms.p50, .latency_ms.p99, .latency_ms.max, $t[0].delivered, $t[0].latencyP50Ms, $t[0].latencyP99Ms,
        (if ($s | tonumber) > 0 then ($t[0].delivered / ($s | tonumber) | round) else 0 end), $s,
        $t[0].retries, $t[0].deadLettered, $t[0].dropped] + ($cpu | split("\t")) | @tsv' "$raw.json" >>"$B_RESULTS"
    log "b) round $round, $load, broker: $(jq -r '"published \(.accepted) of \(.sent) at \(.achieved_rate)/s (ack p99 \(.latency_ms.p99) ms)"' "$raw.json"); $(jq -r '"delivered \(.delivered) (matched \(.matched), retries \(.retries), dead-lettered \(.deadLettered), dropped \(.dropped)), arrival to 2xx p50 \(.latencyP50Ms) ms, p99 \(.latencyP99Ms) ms"' "$raw.trigger.json")"
}

section_b() {
    local round load k name
    B_RESULTS=$OUT/b.tsv
    printf 'round\tload\tpath\tsent\taccepted\terrors\tachieved_rate\tack_p50_ms\tack_p99_ms\tack_max_ms\tdelivered\te2e_p50_ms\te2e_p99_ms\tdelivered_per_s\tseconds\tretries\tdead_lettered\tdropped\tserver_cpu\tgen_cpu\tsoftirq_cpu\tothers_cpu\n' >"$B_RESULTS"
    start_serve b
    prepare_sub
    # The function answers a binary-mode event by host, with 204 (no reply event).
    k=$(ce_post "http://127.0.0.1:$PORT/" -H 'Host: sub.localhost')
    [ "$k" = 204 ] || die "b) sub answered $k, not 204: $(cat "$OUT/check.body")"
    # And one event through the broker reaches it.
    name=check-$(date +%s)
    subscribe "$name" dev.motif.bench.check
    k=$(ce_post "http://127.0.0.1:$PORT/broker/default")
    [ "$k" = 202 ] || die "b) the broker answered $k: $(cat "$OUT/check.body")"
    drain "$name" "$OUT/b-check"
    [ "$(jq -r .delivered "$OUT/b-check.trigger.json")" = 1 ] || die "b) the check event was not delivered: $(cat "$OUT/b-check.trigger.json")"
    unsubscribe "$name"
    # Warm-up, not counted: the function directly, then through a trigger.
    event_load "$OUT/b-warmup-direct" "http://127.0.0.1:$PORT/" 0 "$WARMUP" --host sub.localhost --type "$TYPE"
    name=warmup-$(date +%s)
    subscribe "$name"
    event_load "$OUT/b-warmup-broker" "http://127.0.0.1:$PORT/broker/default" 1000 "$WARMUP" --type "$TYPE"
    drain "$name" "$OUT/b-warmup-broker"
    unsubscribe "$name"
    for round in $(seq "$ROUNDS"); do
        wait_quiet "b) end to end, round $round"
        for load in "${LOADS[@]}"; do
            if [ $((round % 2)) -eq 1 ]; then
                b_direct "$round" "$load"; b_broker "$round" "$load"
            else
                b_broker "$round" "$load"; b_direct "$round" "$load"
            fi
        done
    done
    stop_server
}

for s in "${SECTIONS[@]}"; do "section_$s"; done

# --- report ----------------------------------------------------------------------------
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# col FILE KEY_COLUMN=VALUE... COLUMN: the COLUMN of the rows whose columns match.
col() {
    local file=$1 c=${*: -1} conds=("${@:2:$#-2}")
    awk -F'\t' -v c="$c" -v conds="${conds[*]}" 'BEGIN { n = split(conds, k, " ") }
        NR > 1 { for (i = 1; i <= n; i++) { split(k[i], kv, "="); if ($kv[1] != kv[2]) next } print $c }' "$file"
}
commas() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") { print "-"; exit } s = sprintf("%d", v + 0.5); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]([,]|$)/, ",&", s); print s }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "" || v == "null") print "-"; else printf "%.2f", v }'; }
yes_no() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "-" || v == "") print "-"; else if ((op == "<") ? (v + 0 < t + 0) : (v + 0 >= t + 0)) print "yes"; else print "no" }'; }

{
    echo "## motif serve: the broker"
    echo
    echo "- date: $STARTED–$(date -u '+%H:%M') UTC; commit: $COMMIT (when built)"
    echo "- command: \`ROUNDS=$ROUNDS INGEST_DURATION=$INGEST_DURATION DURATION=$DURATION CONNECTIONS=$CONNECTIONS LOADS=\"${LOADS[*]}\" INGEST_TOOL=$INGEST_TOOL bash scripts/bench-events.sh\` (sections: ${SECTIONS[*]})"
    echo "- load generator: tests/bench's event-load (one tokio thread, hyper HTTP/1.1, $CONNECTIONS kept-alive connections)$([ "$INGEST_TOOL" = wrk ] && echo "; a): $(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//') -t1")"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), shared by the load generator and the server; state directories on $(findmnt -n -o FSTYPE -T "$OUT" 2>/dev/null || echo '?') ($(findmnt -n -o SOURCE -T "$OUT" 2>/dev/null || echo '?'))"
    echo "- raw output: $OUT"
    if has a "${SECTIONS[@]}"; then
        bare=$(col "$A_RESULTS" 2=bare 3 | median)
        echo
        echo "### a) durable ingest (no triggers)"
        echo
        echo "POST /broker/default, binary-mode CloudEvents (unique ids, ~90 B JSON data), as fast as $CONNECTIONS connections allow ($INGEST_TOOL, closed loop) for $INGEST_DURATION after a $WARMUP warm-up; a fresh server per run. Medians of $ROUNDS rounds (each column on its own). One 4 KiB O_DSYNC write on this disk: ${FSYNC_MS} ms (dd, mean of 500)."
        echo
        echo "| server | accepted events/s | ratio to bare-ingest | p50 ms | p99 ms | server CPU µs/event | target >= 10,000/s |"
        echo "|---|---|---|---|---|---|---|"
        for server in "${INGEST_SERVERS[@]}"; do
            case $server in
                bare) label='bare-ingest (axum, reads the body, 202; keeps nothing)' ;;
                always) label="motif serve, \`--event-fsync always\` (default)" ;;
                never) label="motif serve, \`--event-fsync never\`" ;;
            esac
            r=$(col "$A_RESULTS" 2="$server" 3 | median)
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(commas "$r")" \
                "$(awk -v a="$r" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')" \
                "$(fmt "$(col "$A_RESULTS" 2="$server" 4 | median)")" "$(fmt "$(col "$A_RESULTS" 2="$server" 5 | median)")" \
                "$(col "$A_RESULTS" 2="$server" 12 | median)" \
                "$(if [ "$server" = bare ]; then echo -; else yes_no "$r" 10000 '>='; fi)"
        done
        echo
        echo "Per round (CPU-s during the measured run, out of $(($(nproc) * $(seconds "$INGEST_DURATION")))):"
        echo
        echo "| round | server | events/s | p50 ms | p99 ms | server CPU-s | server CPU µs/event | load generator CPU-s | softirq CPU-s | others CPU-s | not accepted |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|"
        while IFS=$'\t' read -r round server rate p50 p99 errors _ scpu gcpu qcpu ocpu us; do
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$server" "$(commas "$rate")" \
                "$(fmt "$p50")" "$(fmt "$p99")" "$scpu" "$us" "$gcpu" "$qcpu" "$ocpu" "$errors"
        done < <(tail -n +2 "$A_RESULTS")
    fi
    if has b "${SECTIONS[@]}"; then
        echo
        echo "### b) end to end: broker to a wasm subscriber"
        echo
        echo "The subscriber: \`motif create -l rust-wasm -t cloudevent sub\`, its handler returning \`Ok(None)\` (204), deployed with \`motif deploy\`; one motif serve (\`--event-fsync always\`). broker: event-load publishes to POST /broker/default for $DURATION (open loop at a fixed rate, latency from each event's due time; \`max\`: closed loop), to a fresh trigger (\`motif subscribe sub --filter type=$TYPE\`); then until the trigger's lag is 0. Its latency is the broker's own, from each event's arrival at the ingress to the subscriber's 2xx; delivered/s = delivered / (first publish to lag 0). direct: the same event-load straight to the function through the gateway (\`Host: sub.localhost\`). $CONNECTIONS connections. Medians of $ROUNDS rounds."
        echo
        echo "| load | direct: req/s | direct p50 ms | direct p99 ms | published/s | publish ack p50 ms | publish ack p99 ms | delivered / accepted | delivered/s | arrival to 2xx p50 ms | arrival to 2xx p99 ms | target p99 < 50 ms |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
        for load in "${LOADS[@]}"; do
            e2e99=$(col "$B_RESULTS" 2="$load" 3=broker 13 | median)
            printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s |\n' \
                "$([ "$load" = max ] && echo 'max (closed loop)' || echo "$(commas "$load")/s")" \
                "$(commas "$(col "$B_RESULTS" 2="$load" 3=direct 7 | median)")" \
                "$(fmt "$(col "$B_RESULTS" 2="$load" 3=direct 8 | median)")" "$(fmt "$(col "$B_RESULTS" 2="$load" 3=direct 9 | median)")" \
                "$(commas "$(col "$B_RESULTS" 2="$load" 3=broker 7 | median)")" \
                "$(fmt "$(col "$B_RESULTS" 2="$load" 3=broker 8 | median)")" "$(fmt "$(col "$B_RESULTS" 2="$load" 3=broker 9 | median)")" \
                "$(commas "$(col "$B_RESULTS" 2="$load" 3=broker 11 | median)")" "$(commas "$(col "$B_RESULTS" 2="$load" 3=broker 5 | median)")" \
                "$(commas "$(col "$B_RESULTS" 2="$load" 3=broker 14 | median)")" \
                "$(fmt "$(col "$B_RESULTS" 2="$load" 3=broker 12 | median)")" "$(fmt "$e2e99")" \
                "$(if [ "$load" = 5000 ]; then yes_no "$e2e99" 50 '<'; else echo -; fi)"
        done
        awk -F'\t' 'NR > 1 && $3 == "broker" && ($11 != $5 || $16 + $17 + $18 > 0) {
            printf "\n**caution**: round %s, %s: %s delivered of %s accepted (retries %s, dead-lettered %s, dropped %s)\n", $1, $2, $11, $5, $16, $17, $18 }' "$B_RESULTS"
        echo
        echo "Per run (CPU-s: the server during publishing and delivering, the load generator, softirq, everything else; broker runs last until the lag is 0):"
        echo
        echo "| round | load | path | sent | accepted | not accepted | req or published/s | ack p50 ms | ack p99 ms | ack max ms | delivered | arrival to 2xx p50 ms | p99 ms | delivered/s | s | retries | dead-lettered | dropped | server CPU-s | server CPU µs/event | load generator CPU-s | softirq CPU-s | others CPU-s |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s |\n",
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, ($5 > 0 ? $19 * 1e6 / $5 : 0), $20, $21, $22 }' "$B_RESULTS"
    fi
    echo
    echo "Conditions when each phase began (the CPU in use over 2 s):"
    echo
    awk -F'\t' 'NR > 1 { printf "- %s: %s%% of the CPU in use, %s rustc running (after waiting %s s)\n", $1, $4, $3, $2 }' "$OUT/conditions.tsv"
} | tee "$OUT/summary.md"
log "raw output in $OUT"
