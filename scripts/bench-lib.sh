# Helpers shared by the benchmark scripts (bench-runtime, bench-node, bench-python):
# logging, the one server under test (start it yourself, put its pid in SERVER_PID), free
# ports, wrk runs and their latencies, and how busy the shared machine is. Sourced, not
# run. wrk_run reads THREADS and CONNECTIONS; check reads OUT and BODY.

log() { printf '[bench] %s\n' "$*" >&2; }

die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

seconds() { # "10s" -> 10, "2m" -> 120, "5" -> 5
    case $1 in *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}

SERVER_PID=
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

free_port() { # below Linux's ephemeral range, so no client socket holds it
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 12000))
        if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
            echo "$p"; return 0
        fi
    done
    die "no free port found"
}

# The machine is shared: other builds (rustc) or CPU-bound jobs (fuzzers, test loops)
# would take CPU from wrk and the server. Wait for it to be quiet, and record per run how
# much CPU everything else used while it was measured.
busy() { pgrep -c -x rustc 2>/dev/null || true; }

cpu_jiffies() { # busy, total, softirq (the loopback's packet processing is counted here)
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $8 }' /proc/stat
}

others_busy() { # percent of the machine's CPU in use over 2 s (nothing of ours runs now)
    local a b
    a=$(cpu_jiffies); sleep 2; b=$(cpu_jiffies)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9) }'
}

to_ms() { # wrk's latency ("812.00us", "3.12ms", "1.02s") in ms
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.2f", n }'
}

# wrk_run LUA PORT DURATION OUTFILE [--latency]: prints the CPU seconds wrk used.
wrk_run() {
    local lua=$1 port=$2 dur=$3 out=$4 extra=${5:-} limit
    limit=$(($(seconds "$dur") + 20))
    local TIMEFORMAT='%U %S'
    { time timeout "$limit" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" $extra -s "$lua" \
        "http://127.0.0.1:$port/" >"$out" 2>&1; } 2>"$out.time" ||
        die "wrk failed or timed out (see $out)"
    awk '{ printf "%.1f", $1 + $2 }' "$out.time"
}

# check SCENARIO SERVER PORT LABEL: one request by hand before measuring; the echo must be
# exact (body, its media type, and for a CloudEvent the ce-id), except from
# EVENT_SINK_SERVER, a server that takes an event without echoing it (status only).
check() {
    local scenario=$1 server=$2 port=$3 label=$4 code
    local args=(-sS --max-time 5 -o "$OUT/check.body" -D "$OUT/check.headers" -w '%{http_code}'
        -H 'Content-Type: application/json' --data-binary "$BODY")
    if [ "$scenario" = ce ]; then
        args+=(-H 'ce-specversion: 1.0' -H 'ce-id: bench-0001' -H 'ce-source: /motif/bench'
            -H 'ce-type: dev.motif.bench.echo')
    fi
    code=$(curl "${args[@]}" "http://127.0.0.1:$port/") || die "$label: check request failed"
    [ "$code" = 200 ] || die "$label: check request answered $code, not 200"
    [ "$scenario" = ce ] && [ "$server" = "${EVENT_SINK_SERVER:-}" ] && return 0
    [ "$(cat "$OUT/check.body")" = "$BODY" ] || die "$label: the body was not echoed"
    # parameters allowed: faas-js-runtime adds `; charset=utf-8`
    tr -d '\r' <"$OUT/check.headers" | grep -qiE '^content-type: application/json(;.*)?$' ||
        die "$label: the Content-Type was not echoed"
    if [ "$scenario" = ce ]; then
        tr -d '\r' <"$OUT/check.headers" | grep -qix 'ce-id: bench-0001' ||
            die "$label: the ce-id header was not echoed"
    fi
}

# throughput_tables RESULTS BASE MOTIF BASE_NAME BASE_SHORT CE_NAME SERVER_NOTE: the
# medians table and the per-round table of a run's results (a TSV whose columns are
# round, scenario, server, req/s, p50, p99, server CPU-s, wrk CPU-s, non-2xx, socket
# errors, rustc, load, server µs/request, others CPU-s, softirq CPU-s; a header line
# first). BASE and MOTIF are the servers' names in it; BASE_NAME and BASE_SHORT name the
# baseline in the tables, CE_NAME the CloudEvent scenario; SERVER_NOTE follows "by the
# server" in the per-round caption.
throughput_tables() {
    awk -F'\t' -v cpus="$(nproc)" -v secs="$(seconds "$DURATION")" -v base="$2" -v motif="$3" \
        -v base_name="$4" -v base_short="$5" -v ce_name="$6" -v server_note="$7" '
        function commas(n,   s) { s = sprintf("%d", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]([,]|$)/, ",&", s); return s }
        function median(list,   a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        NR == 1 { next }
        {
            k = $2 SUBSEP $3
            rps[k] = rps[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6; us[k] = us[k] " " $13
            row[++rows] = $0
            if (!($2 in seen)) { seen[$2] = 1; order[++ns] = $2 }
            by[$1 SUBSEP $2 SUBSEP $3] = $4
        }
        END {
            name["http"] = "HTTP echo (POST, 100 B JSON)"; name["ce"] = ce_name
            print "Medians of the rounds (each column on its own); ratio = motif req/s / " base_name " req/s:"
            print ""
            print "| scenario | " base_short " req/s | motif req/s | ratio | " base_short " p99 ms | motif p99 ms | " base_short " p50 ms | motif p50 ms | " base_short " server CPU µs/req | motif server CPU µs/req |"
            print "|---|---|---|---|---|---|---|---|---|---|"
            for (i = 1; i <= ns; i++) {
                s = order[i]; b = s SUBSEP base; m = s SUBSEP motif
                rb = median(rps[b]); rm = median(rps[m])
                printf "| %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f |\n", name[s], commas(rb), commas(rm), rm / rb,
                    median(p99[b]), median(p99[m]), median(p50[b]), median(p50[m]), median(us[b]), median(us[m])
            }
            print ""
            print "Per round. CPU-s used during the measured run (the machine has " cpus * secs " in " secs " s) by the server" server_note ", by wrk, in softirq (mostly the loopback traffic), and by everything else (other jobs on the shared machine, kernel threads); rustc = other builds running when it started:"
            print ""
            print "| round | scenario | server | req/s | ratio in round | p50 ms | p99 ms | server CPU-s | server CPU µs/req | wrk CPU-s | softirq CPU-s | others CPU-s | non-2xx | socket errors | rustc |"
            print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
            for (r = 1; r <= rows; r++) {
                split(row[r], f, "\t")
                ratio = "-"
                if (f[3] == motif && by[f[1] SUBSEP f[2] SUBSEP base] > 0)
                    ratio = sprintf("%.2f", f[4] / by[f[1] SUBSEP f[2] SUBSEP base])
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], commas(f[4]), ratio,
                    f[5], f[6], f[7], f[13], f[8], f[15], f[14], f[9], f[10], f[11]
            }
        }' "$1"
}

# measure_rounds RESULTS A B: ROUNDS rounds of wrk against servers A and B (which goes
# first alternates); in each, for each of SCENARIOS (http: LUA/post.lua, ce: LUA/ce.lua),
# each server is started (the script's `start_server SERVER SCENARIO PORT`, which sets
# SERVER_PID), checked (`check SCENARIO SERVER PORT LABEL`), warmed up for WARMUP,
# measured for DURATION and stopped. Writes one TSV row a run to RESULTS, the table that
# throughput_tables reads; the script's `cpu_ticks PID` says what the server used.
measure_rounds() {
    local results=$1 a=$2 b=$3 round order scenario lua server label port raw rustc_now load t0 t1 j0 j1
    local wrk_cpu rps p50 p99 non2xx sockerr server_cpu softirq_cpu other_cpu requests us_per_req
    local CLK
    CLK=$(getconf CLK_TCK)
    printf 'round\tscenario\tserver\trps\tp50\tp99\tserver_cpu\twrk_cpu\tnon2xx\tsocket_errors\trustc\tload\tus_per_req\tother_cpu\tsoftirq_cpu\n' >"$results"
    for round in $(seq "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order=("$a" "$b"); else order=("$b" "$a"); fi
        for scenario in "${SCENARIOS[@]}"; do
            lua=$LUA/post.lua; [ "$scenario" = ce ] && lua=$LUA/ce.lua
            for server in "${order[@]}"; do
                label="round $round, $scenario, $server"
                port=$(free_port)
                start_server "$server" "$scenario" "$port"
                check "$scenario" "$server" "$port" "$label"
                raw=$OUT/r$round-$scenario-$server
                wrk_run "$lua" "$port" "$WARMUP" "$raw.warmup.txt" >/dev/null
                rustc_now=$(busy)
                load=$(cut -d' ' -f1 /proc/loadavg)
                t0=$(cpu_ticks "$SERVER_PID"); j0=$(cpu_jiffies)
                wrk_cpu=$(wrk_run "$lua" "$port" "$DURATION" "$raw.txt" --latency)
                t1=$(cpu_ticks "$SERVER_PID"); j1=$(cpu_jiffies)
                stop_server
                rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw.txt")
                [ -n "$rps" ] || die "$label: no Requests/sec in $raw.txt"
                p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw.txt")")
                p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw.txt")")
                non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$raw.txt")
                sockerr=$(awk -F': ' '/Socket errors:/ { print $2 }' "$raw.txt" | tr -d ' ')
                server_cpu=$(awk -v a="$t0" -v b="$t1" -v c="$CLK" 'BEGIN { printf "%.1f", (b - a) / c }')
                # CPU-s in softirq (mostly the loopback traffic itself), and of everything else
                # but the server and wrk (other jobs on the machine, kernel threads)
                softirq_cpu=$(awk -v a="$j0" -v b="$j1" -v c="$CLK" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.1f", (y[3] - x[3]) / c }')
                other_cpu=$(awk -v a="$j0" -v b="$j1" -v c="$CLK" -v s="$server_cpu" -v w="$wrk_cpu" -v q="$softirq_cpu" \
                    'BEGIN { split(a, x, " "); split(b, y, " "); v = (y[1] - x[1]) / c - s - w - q; printf "%.1f", v < 0 ? 0 : v }')
                requests=$(awk '/ requests in / { print $1 }' "$raw.txt")
                us_per_req=$(awk -v a="$t0" -v b="$t1" -v c="$CLK" -v n="$requests" 'BEGIN { printf "%.1f", (b - a) / c * 1e6 / n }')
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$scenario" "$server" \
                    "$rps" "$p50" "$p99" "$server_cpu" "$wrk_cpu" "${non2xx:-0}" "${sockerr:--}" \
                    "$rustc_now" "$load" "$us_per_req" "$other_cpu" "$softirq_cpu" >>"$results"
                log "$label: $rps req/s, p50 $p50 ms, p99 $p99 ms (server ${server_cpu} CPU-s = $us_per_req us/request, wrk ${wrk_cpu} CPU-s, softirq ${softirq_cpu} CPU-s, others ${other_cpu} CPU-s, rustc running: $rustc_now, load $load)"
            done
        done
    done
}

# wait_quiet PHASE: waits (up to BUSY_WAIT s, default 600) until no rustc runs and under
# 20 % of the CPU is in use, and records how busy the machine was when the phase began in
# $OUT/conditions.tsv (which the caller starts with its header line).
wait_quiet() {
    local waited=0 r u limit=${BUSY_WAIT:-600}
    [ "$limit" -gt 0 ] || return 0
    while :; do
        r=$(busy); u=$(others_busy)
        { [ "$r" -eq 0 ] && [ "$u" -lt 20 ]; } && break
        [ "$waited" -ge "$limit" ] && { log "still busy after ${waited}s (rustc: $r, CPU in use: $u%); measuring anyway"; break; }
        [ "$waited" -eq 0 ] && log "machine busy (rustc: $r, CPU in use: $u%); waiting up to ${limit}s"
        sleep 8; waited=$((waited + 10))
    done
    log "$1: waited ${waited}s; rustc: $r, CPU in use: $u%"
    printf '%s\t%s\t%s\t%s\n' "$1" "$waited" "$r" "$u" >>"$OUT/conditions.tsv"
}

# wasmtime_cli: prints the path of a wasmtime 48 CLI: $WASMTIME, else `wasmtime` on PATH,
# else target/bench-tools/bin/wasmtime, installed there with `cargo install` (minutes).
wasmtime_cli() {
    local wasmtime=${WASMTIME:-$(command -v wasmtime || true)}
    if [ -z "$wasmtime" ]; then
        wasmtime=$ROOT/target/bench-tools/bin/wasmtime
        if [ ! -x "$wasmtime" ]; then
            log "installing wasmtime-cli 48 (takes minutes)"
            cargo install --locked wasmtime-cli --version 48.0.8 --root "$ROOT/target/bench-tools" >&2
        fi
    fi
    "$wasmtime" --version | grep -q '^wasmtime 48\.' || die "$wasmtime is not wasmtime 48"
    echo "$wasmtime"
}
