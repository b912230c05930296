#!/usr/bin/env bash
# TCG only: what QEMU's translation cache size (tb-size, ClearOci's tcgCacheMiB) costs and saves,
# every size side by side in one run. Per size S (CLEAROCI_TCG_CACHE_MIB=S):
#   run      `clearoci run` of `true` (boot + create + start + power-off: the code the guest kernel
#            and agent run, translated again whenever the cache is full)
#   exec     `clearoci exec` of `ls -R /bin` in a running container (an exec's code after boot)
#   memory   PSS of that container's QEMU once settled (smaps_rollup; its anonymous part holds the cache)
# and runc's `run` of the same bundle as the baseline. Rounds rotate the order, so machine load
# hits every size alike; one untimed warm-up round comes first. Medians, min/max.
#
#   usage: benchmarks/tcg-cache.sh [-n N] [--sizes "8 16 32"] [--markdown] [-o FILE]
#     -n N         timed rounds (default 5, at least 1)
#     --sizes L    the sizes in MiB to compare (default "8 16 32")
#   environment: CLEAROCI (default out/bin/clearoci), CLEAROCI_ASSETS, RUNC, BENCH_TIMEOUT, TMPDIR.
me=tcg-cache.sh
sizes="8 16 32"
bench_extra_arg() { case $1 in --sizes) sizes=${2:-}; bench_shift=2 ;; esac; }
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
rounds=${bench_n:-5}
for s in $sizes; do [[ $s =~ ^[1-9][0-9]*$ ]] || die "--sizes wants whole numbers of MiB, got '$s'"; done
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$RUNC" ] || die "$RUNC not found"

bench_setup_tmp clearoci-tcg
bench_pin_assets
bench_machine
[[ $accel == tcg* ]] || die "the accelerator here is '$accel': the translation cache exists only under TCG"
bench_bundle "$tmp/run" true
bench_bundle "$tmp/sleep" sleep 100000

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# Times one command into $ms (not in a subshell: $job must stay visible to the clean-up, and
# $n must count); dies on failure or after $LIMIT s, killing what it left.
timed() {
    local t0 rc
    t0=$(now_ms)
    timeout -k 5 "$LIMIT" "$@" </dev/null >"$tmp/out" 2>&1 & job=$!
    wait "$job"; rc=$?; job=
    [ $rc = 0 ] || die "$* failed ($rc): $(tail -c 600 "$tmp/out")"
    ms=$(( $(now_ms) - t0 ))
}

# Unique ids (a runc id names its host cgroup); each is deleted at exit if a run was killed.
n=0
run_clearoci() { # size
    n=$((n + 1))
    made_rt+=("$CLEAROCI_BIN"); made_root+=("$tmp/root"); made_id+=("tcg$$-$n")
    CLEAROCI_TCG_CACHE_MIB=$1 timed "$CLEAROCI_BIN" --root "$tmp/root" run --bundle "$tmp/run" "tcg$$-$n"
}
run_runc() {
    n=$((n + 1))
    made_rt+=("$RUNC"); made_root+=("$tmp/runc"); made_id+=("runc$$-$n")
    timed "$RUNC" --root "$tmp/runc" run --bundle "$tmp/run" "runc$$-$n"
}

declare -A t_run=() t_exec=() pss=() anon=()
variants=($sizes runc)
for round in $(seq 0 "$rounds"); do
    rot=$((round % ${#variants[@]}))
    order=("${variants[@]:rot}" "${variants[@]:0:rot}")
    for v in "${order[@]}"; do
        if [ "$v" = runc ]; then run_runc; else run_clearoci "$v"; fi
        [ "$round" -gt 0 ] && t_run[$v]+="$ms "
    done
    echo "round $round of $rounds done" >&2
done

# One running container per size: exec timings, then its QEMU's memory once settled.
qemu_of() { # supervisor pid
    local c
    for c in $(pgrep -P "$1"); do
        [[ $(cat "/proc/$c/comm" 2>/dev/null) == qemu-system* ]] && { echo "$c"; return; }
    done
}
rollup() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/smaps_rollup"; }
for s in $sizes; do
    id=tcgsleep$s
    made_rt+=("$CLEAROCI_BIN"); made_root+=("$tmp/root"); made_id+=("$id")
    CLEAROCI_TCG_CACHE_MIB=$s timeout -k 5 "$LIMIT" "$CLEAROCI_BIN" --root "$tmp/root" create --bundle "$tmp/sleep" --pid-file "$tmp/$id.pid" "$id" </dev/null >/dev/null 2>&1 ||
        die "create with tb-size $s failed"
    "$CLEAROCI_BIN" --root "$tmp/root" start "$id" || die "start $id failed"
    for round in $(seq 0 "$rounds"); do
        timed "$CLEAROCI_BIN" --root "$tmp/root" exec "$id" ls -R /bin
        [ "$round" -gt 0 ] && t_exec[$s]+="$ms "
    done
    q=$(qemu_of "$(cat "$tmp/$id.pid")")
    [ -n "$q" ] || die "no QEMU under the supervisor of $id"
    # Settled: PSS changes by less than 1 % over 3 s (at most 60 s).
    last=0; end=$((SECONDS + 60))
    while :; do
        cur=$(rollup "$q" Pss)
        [ $SECONDS -ge $end ] && break
        [ "$last" -gt 0 ] && [ $(( (cur > last ? cur - last : last - cur) * 100 )) -lt "$last" ] && break
        last=$cur; sleep 3
    done
    pss[$s]=$(rollup "$q" Pss); anon[$s]=$(rollup "$q" Pss_Anon)
    "$CLEAROCI_BIN" --root "$tmp/root" delete --force "$id" >/dev/null 2>&1
done

report() {
    echo "TCG translation cache (tb-size) per VM: $rounds rounds, medians (min-max) in ms; QEMU PSS in MiB"
    echo "machine: $cpu_model, $mem_total, accelerator $accel, QEMU $qemu_version, load $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
    echo "clearoci: $CLEAROCI (sha256 $clearoci_sha..., tree $clearoci_commit), guest assets $asset_version"
    echo
    echo "| tb-size | clearoci run true | clearoci exec ls -R /bin | QEMU PSS | of it anonymous |"
    echo "|---:|---:|---:|---:|---:|"
    for s in $sizes; do
        read -r rm rmin rmax _ <<<"$(stats "${t_run[$s]}")"
        read -r em emin emax _ <<<"$(stats "${t_exec[$s]}")"
        printf '| %s MiB | %s (%s-%s) | %s (%s-%s) | %.1f | %.1f |\n' "$s" "$rm" "$rmin" "$rmax" "$em" "$emin" "$emax" \
            "$(awk -v k="${pss[$s]}" 'BEGIN { print k / 1024 }')" "$(awk -v k="${anon[$s]}" 'BEGIN { print k / 1024 }')"
    done
    read -r rm rmin rmax _ <<<"$(stats "${t_run[runc]}")"
    echo "| runc (baseline) | $rm ($rmin-$rmax) | | | |"
}
report
if [ $markdown = 1 ] || [ -n "$md_file" ]; then
    out=$(printf '```\n%s\n```\n' "$(report)")
    [ $markdown = 1 ] && printf '\n%s\n' "$out"
    [ -n "$md_file" ] && printf '%s\n' "$out" >"$md_file"
fi
exit 0
