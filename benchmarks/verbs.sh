#!/usr/bin/env bash
# Per-verb latency of the OCI lifecycle, clearoci beside runc in one run. Every round runs, for
# each runtime (in an order that rotates from round to round, so machine load hits both alike):
#   container A:  create, start, state, pause, resume, exec `true`, kill KILL, (wait until it is
#                 stopped, not timed), delete
#   container B:  create, start (not timed), delete --force while `sleep 1000` still runs
# The container process is busybox `sleep 1000`. One untimed warm-up round comes first; every
# round uses fresh ids and one private --root per runtime. Reports medians, min/max and ratios.
#
#   usage: benchmarks/verbs.sh [-n N] [--markdown] [-o FILE]
#     -n N         timed rounds (default 5, at least 1)
#     --markdown   also print the report as a markdown block
#     -o FILE      also write the markdown block to FILE
#   environment: CLEAROCI (default out/bin/clearoci), CLEAROCI_ASSETS (default: the assets the
#     CLI would find, pinned to one version for the whole run), RUNC (/usr/sbin/runc),
#     BENCH_TIMEOUT (seconds per command, default 120), TMPDIR.
me=verbs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
rounds=${bench_n:-5}
[ "$(id -u)" = 0 ] || die "run as root (both runtimes need it)"
[ -x "$RUNC" ] || die "$RUNC not found"

bench_setup_tmp clearoci-verbs
bench_pin_assets
bundle=$tmp/bundle
bench_bundle "$bundle" sleep 1000

# ---------------------------------------------------------------- machine
bench_machine

# What `timeout` itself costs (every command runs under it): median of 9 `timeout ... true`
# minus median of 9 plain `true`, in µs. Printed, not subtracted.
wrap_cost() {
    local i a b t=() u=()
    for i in 1 2 3 4 5 6 7 8 9; do
        a=$EPOCHREALTIME; timeout -k 5 "$LIMIT" true; b=$EPOCHREALTIME; t+=($(( 10#${b/./} - 10#${a/./} )))
        a=$EPOCHREALTIME; command true; /bin/true; b=$EPOCHREALTIME; u+=($(( 10#${b/./} - 10#${a/./} )))
    done
    printf '%s\n' "${t[@]}" | sort -n | sed -n 5p
    printf '%s\n' "${u[@]}" | sort -n | sed -n 5p
}
read -r -d '' wrap_t wrap_u < <(wrap_cost; printf '\0')
timeout_cost=$(awk -v a="$wrap_t" -v b="$wrap_u" 'BEGIN { printf "%.1f", (a - b) / 1000 }')

# ---------------------------------------------------------------- measurement
runtimes=(clearoci runc)
verbs=(create start state pause resume exec kill delete delete-force)
declare -A verb_label=([create]="create" [start]="start" [state]="state (running)" [pause]="pause"
    [resume]="resume" [exec]="exec true" [kill]="kill KILL (running)" [delete]="delete (stopped)"
    [delete-force]="delete --force (running)")
declare -A rt_bin=([clearoci]="$CLEAROCI_BIN" [runc]="$RUNC")
declare -A rt_root=([clearoci]="$tmp/clearoci-root" [runc]="$tmp/runc-root")
declare -A times=() fails=() last_err=()   # key: runtime/verb; times in µs
serial=0

# Runs one runtime command under timeout: sets us (wall time from spawn to exit, µs) and rc;
# output in $tmp/last.out and $tmp/last.err.
run_cmd() { # runtime args...
    local rt=$1 t0 t1; shift
    t0=$EPOCHREALTIME
    timeout -k 5 "$LIMIT" "${rt_bin[$rt]}" --root "${rt_root[$rt]}" "$@" </dev/null >"$tmp/last.out" 2>"$tmp/last.err" &
    job=$!
    wait "$job"; rc=$?
    t1=$EPOCHREALTIME
    job=
    us=$(( 10#${t1/./} - 10#${t0/./} ))
}

why() {
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "timed out after ${LIMIT} s"
    else echo "exit status $rc: $(cat "$tmp/last.err" "$tmp/last.out" | tr '\n' ' ' | cut -c1-300 | sed 's/ *$//')"; fi
}

# step RUNTIME VERB TIMED ARGS...: runs one verb, records its time (when TIMED) or its failure.
# Returns non-zero on failure.
step() {
    local rt=$1 verb=$2 timed=$3; shift 3
    run_cmd "$rt" "$@"
    if [ "$rc" != 0 ]; then
        fails[$rt/$verb]=$(( ${fails[$rt/$verb]:-0} + 1 ))
        last_err[$rt/$verb]=$(why)
        echo "  $rt $verb failed: ${last_err[$rt/$verb]}" >&2
        return 1
    fi
    [ "$timed" = 1 ] && times[$rt/$verb]+="$us "
    return 0
}

# Sleeps in the background and waits for it, so INT and TERM are handled at once.
nap() { sleep "$1" & job=$!; wait "$job"; job=; }

# Polls `state` until the container reports STATUS (bounded by BENCH_TIMEOUT).
wait_status() { # runtime id status
    local rt=$1 id=$2 want=$3 deadline=$((SECONDS + LIMIT))
    while [ $SECONDS -lt $deadline ]; do
        run_cmd "$rt" state "$id"
        [ "$rc" = 0 ] && grep -q "\"status\": *\"$want\"" "$tmp/last.out" && return 0
        nap 0.02
    done
    return 1
}

# Removes a container whatever state it is in (after a failed step); not timed.
discard() { # runtime id
    [ -d "${rt_root[$1]}/$2" ] && run_cmd "$1" delete --force "$2"
    return 0
}

one_round() { # runtime timed
    local rt=$1 timed=$2 a b
    serial=$((serial + 1))
    a=v$$-$serial-$rt-a; b=v$$-$serial-$rt-b
    made_rt+=("${rt_bin[$rt]}" "${rt_bin[$rt]}"); made_root+=("${rt_root[$rt]}" "${rt_root[$rt]}"); made_id+=("$a" "$b")
    if step "$rt" create "$timed" create --bundle "$bundle" --pid-file "$tmp/$a.pid" "$a" &&
        step "$rt" start "$timed" start "$a" &&
        step "$rt" state "$timed" state "$a" &&
        step "$rt" pause "$timed" pause "$a" &&
        step "$rt" resume "$timed" resume "$a" &&
        step "$rt" exec "$timed" exec "$a" true &&
        step "$rt" kill "$timed" kill "$a" KILL; then
        if wait_status "$rt" "$a" stopped; then
            step "$rt" delete "$timed" delete "$a"
        else
            fails[$rt/delete]=$(( ${fails[$rt/delete]:-0} + 1 ))
            last_err[$rt/delete]="not stopped within ${LIMIT} s of kill KILL"
            echo "  $rt: $a not stopped within ${LIMIT} s of kill KILL" >&2
        fi
    fi
    discard "$rt" "$a"
    if step "$rt" create-b 0 create --bundle "$bundle" --pid-file "$tmp/$b.pid" "$b" &&
        step "$rt" start-b 0 start "$b"; then
        step "$rt" delete-force "$timed" delete --force "$b"
    else
        fails[$rt/delete-force]=$(( ${fails[$rt/delete-force]:-0} + 1 ))
        last_err[$rt/delete-force]="its container could not be created and started: ${last_err[$rt/create-b]:-${last_err[$rt/start-b]:-}}"
    fi
    discard "$rt" "$b"
}

echo "warm-up round (not timed) ..." >&2
for rt in "${runtimes[@]}"; do one_round "$rt" 0; done
for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < ${#runtimes[@]}; k++)); do order+=("${runtimes[(r + k) % ${#runtimes[@]}]}"); done
    echo "round $((r + 1))/$rounds: ${order[*]}" >&2
    for rt in "${order[@]}"; do one_round "$rt" 1; done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

declare -A med=() lo=() hi=() cnt=()
for rt in "${runtimes[@]}"; do
    for v in "${verbs[@]}"; do
        read -r "med[$rt/$v]" "lo[$rt/$v]" "hi[$rt/$v]" "cnt[$rt/$v]" <<<"$(stats "${times[$rt/$v]:-}" 1000 1)"
    done
done
failures=()
for rt in "${runtimes[@]}"; do
    for v in "${verbs[@]}" create-b start-b; do
        [ -n "${fails[$rt/$v]:-}" ] && failures+=("$rt ${verb_label[$v]:-$v (setup of delete --force)}: ${fails[$rt/$v]} failed, last: ${last_err[$rt/$v]}")
    done
done
cell() { # runtime verb
    [ "${cnt[$1/$2]}" = 0 ] && { echo "-"; return; }
    echo "${med[$1/$2]}"
}
range() { [ "${cnt[$1/$2]}" = 0 ] && { echo "-"; return; }; echo "${lo[$1/$2]}–${hi[$1/$2]}"; }

report_text() {
    echo "ClearOci per-verb latency: busybox \`sleep 1000\`; $rounds interleaved rounds after 1 warm-up; wall ms, spawn to exit"
    echo "machine:  $(nproc) CPUs, $cpu_model, $mem_total RAM, kernel $(uname -r)"
    echo "          accelerator: $accel"
    echo "          QEMU $qemu_version; $runc_version"
    echo "          load average $load_start at start, $load_end at end"
    echo "clearoci: $CLEAROCI (sha256 $clearoci_sha..., tree $clearoci_commit), guest assets $asset_version"
    echo "every command runs under timeout(1), which costs about $timeout_cost ms here (included in every figure alike)"
    echo
    printf '  %-26s %9s %15s %9s %15s %8s %5s\n' verb clearoci min–max runc min–max ratio runs
    for v in "${verbs[@]}"; do
        printf '  %-26s %9s %15s %9s %15s %8s %5s\n' "${verb_label[$v]}" "$(cell clearoci "$v")" "$(range clearoci "$v")" \
            "$(cell runc "$v")" "$(range runc "$v")" "$(ratio "$(cell clearoci "$v")" "$(cell runc "$v")")" "${cnt[clearoci/$v]}/${cnt[runc/$v]}"
    done
    if [ ${#failures[@]} -gt 0 ]; then
        echo
        echo "failures:"
        printf '  %s\n' "${failures[@]}"
    fi
    echo
    echo "commands (R: a private --root per runtime, B: the bundle, ID: fresh per round; RT: $CLEAROCI or $RUNC):"
    echo "  RT --root R create --bundle B --pid-file P ID; start ID; state ID; pause ID; resume ID; exec ID true;"
    echo "  kill ID KILL; (state ID until stopped); delete ID;  then: create, start ID2 (untimed); delete --force ID2"
}

report_md() {
    echo "**Machine:** $(nproc) CPUs ($cpu_model), $mem_total RAM, kernel $(uname -r), accelerator: $accel;"
    echo "QEMU $qemu_version; $runc_version. Load average $load_start at start, $load_end at end."
    echo "clearoci binary sha256 $clearoci_sha... (tree $clearoci_commit), guest assets $asset_version. Busybox \`sleep 1000\`,"
    echo "$rounds interleaved rounds after 1 warm-up; wall time in ms from spawn to exit of each command (each under"
    echo "timeout(1), about $timeout_cost ms here, in every figure alike)."
    echo
    echo "| verb | clearoci median | runc median | clearoci / runc | clearoci min–max | runc min–max | runs (clearoci/runc) |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for v in "${verbs[@]}"; do
        echo "| ${verb_label[$v]} | $(cell clearoci "$v") | $(cell runc "$v") | $(ratio "$(cell clearoci "$v")" "$(cell runc "$v")") | $(range clearoci "$v") | $(range runc "$v") | ${cnt[clearoci/$v]}/${cnt[runc/$v]} |"
    done
    if [ ${#failures[@]} -gt 0 ]; then
        echo
        echo "Failures:"
        echo
        printf -- '- %s\n' "${failures[@]//|/\\|}"
    fi
    echo
    echo "Commands per round and runtime (RT: \`clearoci\` or \`$RUNC\`; R: a private --root; ID, ID2: fresh ids):"
    echo
    echo '```'
    echo "RT --root R create --bundle B --pid-file P ID"
    echo "RT --root R start ID"
    echo "RT --root R state ID"
    echo "RT --root R pause ID"
    echo "RT --root R resume ID"
    echo "RT --root R exec ID true"
    echo "RT --root R kill ID KILL"
    echo "RT --root R state ID          # polled until \"stopped\", not timed"
    echo "RT --root R delete ID"
    echo "RT --root R create --bundle B --pid-file P2 ID2; RT --root R start ID2   # not timed"
    echo "RT --root R delete --force ID2"
    echo '```'
}

report_text
if [ "$markdown" = 1 ]; then
    echo
    report_md
fi
[ -n "$md_file" ] && report_md >"$md_file"
[ "${cnt[clearoci/create]}" != 0 ] || exit 1
exit 0
