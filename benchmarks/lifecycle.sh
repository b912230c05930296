#!/usr/bin/env bash
# Whole-lifecycle timings, side by side in one run:
#   clearoci   `clearoci --debug run` of `true` in a busybox bundle (plus its boot breakdown)
#   floor      bare QEMU booting the same kernel and image until the agent is ready and powers off
#   runc       `runc run` of the same bundle
#   crun       `crun run` of the same bundle (reported as unavailable where it cannot run)
# Every round runs each variant once, in a rotating order, so machine load hits all of them
# alike; one untimed warm-up round comes first. Reports medians, min/max and ratios.
#
#   usage: benchmarks/lifecycle.sh [-n N] [--markdown] [-o FILE]
#     -n N         timed rounds (default 5, at least 1)
#     --markdown   also print the report as a markdown block
#     -o FILE      also write the markdown block to FILE
#   environment: CLEAROCI (default out/bin/clearoci), CLEAROCI_ASSETS (default: the assets the
#     CLI would find, pinned to one version for the whole run), RUNC (/usr/sbin/runc),
#     CRUN (/usr/bin/crun), BENCH_TIMEOUT (seconds per run, default 120), TMPDIR.
me=lifecycle.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
rounds=${bench_n:-5}

bench_setup_tmp clearoci-bench
# Pins the assets and the CLI, and gives the same files to clearoci and to the floor.
bench_pin_assets
bundle=$tmp/bundle
bench_bundle "$bundle" true

# The floor's QEMU argv: from the CLI when it can print it, else built here the same way.
console=$tmp/floor-console.log
declare -a floor_argv=()
if "$CLEAROCI_BIN" check --help 2>/dev/null | grep -q -- '--print-qemu-argv'; then
    mapfile -t floor_argv < <("$CLEAROCI_BIN" check --print-qemu-argv) ||:
    [ ${#floor_argv[@]} -gt 0 ] || die "clearoci check --print-qemu-argv printed nothing"
    floor_source="clearoci check --print-qemu-argv"
else
    qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found"
    img=$CLEAROCI_ASSETS/clearoci.img
    [ -f "$img" ] || die "no clearoci.img in $CLEAROCI_ASSETS"
    img_bytes=$(stat -c %s "$img")
    mem=128
    # Mirrors QemuCommandLine.Build for the default VM (q35, NVDIMM/DAX root, 128 MiB) minus the
    # channels, shares and monitor; TCG only.
    floor_argv=("$qemu" -name clearoci-bare
        -machine "q35,nvdimm=on,smm=off,vmport=off,sata=off,usb=off,graphics=off,hpet=off,mem-merge=on,memory-backend=mem"
        -accel tcg,tb-size=32 -cpu max
        -m "${mem}M,slots=1,maxmem=$((mem + (img_bytes + 1048575) / 1048576))M"
        -object "memory-backend-memfd,id=mem,size=${mem}M,share=on"
        -object "memory-backend-file,id=img,mem-path=$img,size=$img_bytes,share=on,readonly=on"
        -device nvdimm,id=nv0,memdev=img,unarmed=on
        -smp 1 -nodefaults -no-user-config -nographic -no-reboot
        -kernel "$CLEAROCI_ASSETS/vmlinux"
        -append "console=ttyS0 quiet panic=-1 reboot=t random.trust_cpu=on nokaslr 8250.nr_uarts=1 root=/dev/pmem0 rootfstype=ext4 rootflags=dax ro init=/init clearoci.bare=1"
        -chardev null,id=con -serial chardev:con
        -object rng-random,id=rng,filename=/dev/urandom -device virtio-rng-pci,rng=rng)
    floor_source="built by lifecycle.sh from $CLEAROCI_ASSETS (this clearoci has no check --print-qemu-argv)"
fi
# The guest console goes to a file of ours: that is where the agent says it is ready.
have_console=0
for i in "${!floor_argv[@]}"; do
    if [ "$i" -gt 0 ] && [ "${floor_argv[i-1]}" = -chardev ] && [[ ${floor_argv[i]} == *id=con* ]]; then
        floor_argv[i]="file,id=con,path=$console"; have_console=1
    elif [ "$i" -gt 0 ] && [ "${floor_argv[i-1]}" = -serial ] && [[ ${floor_argv[i]} != chardev:* ]]; then
        floor_argv[i]="file:$console"; have_console=1
    fi
done
[ $have_console = 1 ] || floor_argv+=(-serial "file:$console")
# Shell-quotes only what needs it (printf %q would also escape every comma).
quote() {
    local a out=
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}
floor_cmdline=$(quote "${floor_argv[@]}")

# ---------------------------------------------------------------- machine
bench_machine
crun_version=$("$CRUN" --version 2>/dev/null | head -1)

# ---------------------------------------------------------------- measurement
variants=(clearoci floor runc crun)
declare -A label=([clearoci]="clearoci run" [floor]="floor: bare QEMU boot" [runc]="runc run" [crun]="crun run")
declare -A unavailable=() times=() vm_up=() q2k=() k2a=() ready=() f_k2a=() f_ready=() f_rest=()
declare -A p_cli=() p_spawn=() p_create=() p_start=() p_run=() p_stop=() p_exit=()

# Reads one clearoci run's --debug output (the json --log, else stderr) and prints, in ms:
# VM up, QEMU to kernel, kernel to agent, agent ready after (from the "VM up" line), then the
# phases of the whole command from the wall-clock timestamps of the log lines (the same clock as
# EPOCHREALTIME): spawn to "booting the VM", to QEMU spawn, container create, start, run,
# power-off, and the CLI's exit after power-off. "-" where a value is missing.
cat >"$tmp/phases.py" <<'PY'
import json, re, sys
from datetime import datetime
t0, t1, log, err = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
msgs = []
try:
    for line in open(log):
        try:
            j = json.loads(line)
            msg = re.sub(r"^\[\s*\d+ ms\] ", "", j["msg"])  # DebugLog's own elapsed-time prefix
            msgs.append((msg, int(datetime.fromisoformat(j["time"]).timestamp() * 1e6)))
        except (ValueError, KeyError):
            pass
except OSError:
    pass
text = "\n".join(m for m, _ in msgs) + "\n" + open(err, errors="replace").read()
m = re.search(r"VM up in (\d+) ms \(QEMU to kernel (-?\d+) ms, kernel to agent (\d+) ms, agent ready after (\d+) ms", text)
out = list(m.groups()) if m else ["-"] * 4
def at(prefix):
    return next((t for msg, t in msgs if msg.startswith(prefix)), None)
boot, up = at("booting the VM"), at("VM up in")
# The create request starts right after "VM up" (older CLIs also logged "creating the container").
creating = at("creating the container") or up
created = at("container created") or at("created")
started, exited, off = at("container started"), at("container exited"), at("VM powered off")
def span(a, b, minus=0):
    return "-" if a is None or b is None else str(round((b - a) / 1000 - minus))
out.append(span(t0, boot))
out.append(span(boot, up, int(out[0])) if m else "-")
out += [span(creating, created), span(created, started), span(started, exited), span(exited, off), span(off, t1)]
print(" ".join(out))
PY
serial=0

# Runs one variant once: sets ms (wall time from spawn to exit) and rc; output in $tmp/last.*.
run_once() {
    local v=$1 id t0 t1
    serial=$((serial + 1))
    id=bench-$$-$v-$serial
    local -a cmd
    case $v in
        clearoci) cmd=("$CLEAROCI_BIN" --debug --log "$tmp/clearoci-log.json" --log-format json --root "$tmp/clearoci-root" run --bundle "$bundle" "$id")
            : >"$tmp/clearoci-log.json" ;;
        floor) cmd=("${floor_argv[@]}"); : >"$console" ;;
        runc) cmd=("$RUNC" --root "$tmp/runc-root" run --bundle "$bundle" "$id"); made_rt+=("$RUNC"); made_root+=("$tmp/runc-root"); made_id+=("$id") ;;
        crun) cmd=("$CRUN" --root "$tmp/crun-root" run --bundle "$bundle" "$id"); made_rt+=("$CRUN"); made_root+=("$tmp/crun-root"); made_id+=("$id") ;;
    esac
    t0=$EPOCHREALTIME
    timeout -k 5 "$LIMIT" "${cmd[@]}" </dev/null >"$tmp/last.out" 2>"$tmp/last.err" &
    job=$!
    wait "$job"; rc=$?
    t1=$EPOCHREALTIME
    job=
    t0us=$((10#${t0/./})); t1us=$((10#${t1/./}))
    ms=$(( (t1us - t0us) / 1000 ))
}

# Checks the run that just ended and records it; marks the variant unavailable on failure.
record() {
    local v=$1 timed=$2 why line
    why=
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        why="timed out after ${LIMIT} s"
    elif [ "$rc" != 0 ]; then
        why="exit status $rc: $(tr '\n' ' ' <"$tmp/last.err" | cut -c1-300 | sed 's/ *$//')"
    elif [ "$v" = floor ] && ! grep -q 'bare boot ready' "$console"; then
        why="QEMU exited without 'clearoci-agent: bare boot ready' on the console (an agent without bare mode? rebuild with make assets): $(tail -3 "$console" | tr '\n' ' ' | cut -c1-300 | sed 's/ *$//')"
    fi
    if [ -n "$why" ]; then
        unavailable[$v]=$why
        return
    fi
    [ "$timed" = 1 ] || return 0
    times[$v]+="$ms "
    case $v in
        clearoci)
            local -a f
            read -r -a f <<<"$(python3 "$tmp/phases.py" "$t0us" "$t1us" "$tmp/clearoci-log.json" "$tmp/last.err")"
            local k=0 name
            for name in vm_up q2k k2a ready p_cli p_spawn p_create p_start p_run p_stop p_exit; do
                [ "${f[k]:--}" != - ] && eval "$name[clearoci]+=\"${f[k]} \""
                k=$((k + 1))
            done ;;
        floor)
            line=$(grep -m1 'bare boot ready' "$console")
            if [[ $line =~ kernel\ to\ agent\ ([0-9]+)\ ms,\ agent\ ready\ after\ ([0-9]+)\ ms ]]; then
                f_k2a[$v]+="${BASH_REMATCH[1]} "; f_ready[$v]+="${BASH_REMATCH[2]} "
            fi
            # The kernel's timestamp of that line is the guest's uptime when the agent was ready.
            if [[ $line =~ ^\[\ *([0-9]+)\.([0-9]{6})\] ]]; then
                f_rest[$v]+="$(( ms - (10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]} / 1000) )) "
            fi ;;
    esac
}


echo "warm-up round (not timed) ..." >&2
for v in "${variants[@]}"; do
    run_once "$v"; record "$v" 0
done
active=()
for v in "${variants[@]}"; do [ -z "${unavailable[$v]:-}" ] && active+=("$v"); done
[ ${#active[@]} -gt 0 ] || die "nothing could run"

for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < ${#active[@]}; k++)); do order+=("${active[(r + k) % ${#active[@]}]}"); done
    echo "round $((r + 1))/$rounds: ${order[*]}" >&2
    for v in "${order[@]}"; do
        [ -n "${unavailable[$v]:-}" ] && continue
        run_once "$v"; record "$v" 1
        [ -n "${unavailable[$v]:-}" ] && echo "  $v failed: ${unavailable[$v]}" >&2
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
declare -A med=()
for v in "${variants[@]}"; do med[$v]=-; [ -n "${times[$v]:-}" ] && [ -z "${unavailable[$v]:-}" ] && med[$v]=$(median "${times[$v]}"); done
r_runc=$(ratio "${med[clearoci]}" "${med[runc]}")
r_floor=$(ratio "${med[clearoci]}" "${med[floor]}")
r_crun=$(ratio "${med[clearoci]}" "${med[crun]}")
over_floor=n/a
[ "${med[clearoci]}" != - ] && [ "${med[floor]}" != - ] && over_floor="$((med[clearoci] - med[floor])) ms"
# The breakdown: one row per phase, medians of each phase taken on their own (so they need not
# add up exactly to the median of the whole).
declare -a b_label=() b_co=() b_fl=()
brow() { b_label+=("$1"); b_co+=("$2"); b_fl+=("$3"); }
m() { median "$1"; }
brow "whole command (wall)" "${med[clearoci]}" "${med[floor]}"
brow "CLI start, config, state dir (spawn to \"booting the VM\")" "$(m "${p_cli[clearoci]:-}")" -
brow "virtiofsd, sockets, QEMU spawn" "$(m "${p_spawn[clearoci]:-}")" -
brow "VM up: QEMU spawn to agent ready" "$(m "${vm_up[clearoci]:-}")" -
brow "  QEMU to kernel" "$(m "${q2k[clearoci]:-}")" -
brow "  kernel to agent" "$(m "${k2a[clearoci]:-}")" "$(m "${f_k2a[floor]:-}")"
brow "  agent ready after" "$(m "${ready[clearoci]:-}")" "$(m "${f_ready[floor]:-}")"
brow "QEMU to kernel + power-off (wall - guest uptime at ready)" - "$(m "${f_rest[floor]:-}")"
brow "CreateContainer request (guest prepares the container)" "$(m "${p_create[clearoci]:-}")" -
brow "StartProcess request" "$(m "${p_start[clearoci]:-}")" -
brow "\`true\` runs until its exit is reported" "$(m "${p_run[clearoci]:-}")" -
brow "output drained, power-off, QEMU gone" "$(m "${p_stop[clearoci]:-}")" -
brow "CLI exit after power-off (cleanup)" "$(m "${p_exit[clearoci]:-}")" -

row_text() { # variant
    local v=$1 s
    if [ -n "${unavailable[$v]:-}" ]; then printf '  %-24s unavailable: %s\n' "${label[$v]}" "${unavailable[$v]}"; return; fi
    read -r -a s <<<"$(stats "${times[$v]:-}")"
    printf '  %-24s %9s %9s %9s %6s\n' "${label[$v]}" "${s[0]}" "${s[1]}" "${s[2]}" "${s[3]}"
}
row_md() {
    local v=$1 s
    if [ -n "${unavailable[$v]:-}" ]; then printf '| %s | unavailable: %s | | | |\n' "${label[$v]}" "${unavailable[$v]//|/\\|}"; return; fi
    read -r -a s <<<"$(stats "${times[$v]:-}")"
    printf '| %s | %s | %s | %s | %s |\n' "${label[$v]}" "${s[0]}" "${s[1]}" "${s[2]}" "${s[3]}"
}

report_text() {
    echo "ClearOci lifecycle benchmark: \`true\` in a busybox bundle; $rounds interleaved rounds after 1 warm-up; wall ms"
    echo "machine:  $(nproc) CPUs, $cpu_model, $mem_total RAM, kernel $(uname -r)"
    echo "          accelerator: $accel"
    echo "          QEMU $qemu_version; $runc_version; $crun_version"
    echo "          load average $load_start at start, $load_end at end"
    echo "clearoci: $CLEAROCI (sha256 $clearoci_sha..., tree $clearoci_commit), guest assets $asset_version"
    echo
    printf '  %-24s %9s %9s %9s %6s\n' "" median min max runs
    for v in "${variants[@]}"; do row_text "$v"; done
    echo
    echo "  clearoci / runc   $r_runc"
    echo "  clearoci / crun   $r_crun"
    echo "  clearoci / floor  $r_floor   (clearoci - floor: $over_floor)"
    echo
    echo "breakdown, medians in ms (clearoci: its --debug lines; floor: the agent's console line):"
    printf '  %-58s %9s %9s\n' "" clearoci floor
    for i in "${!b_label[@]}"; do printf '  %-58s %9s %9s\n' "${b_label[i]}" "${b_co[i]}" "${b_fl[i]}"; done
    echo
    echo "commands:"
    echo "  clearoci: $CLEAROCI --debug --log TMP/clearoci-log.json --log-format json --root TMP/clearoci-root run --bundle TMP/bundle ID"
    echo "  floor:    ($floor_source)"
    echo "            ${floor_cmdline//$tmp/TMP}"
    echo "  runc:     $RUNC --root TMP/runc-root run --bundle TMP/bundle ID"
    echo "  crun:     $CRUN --root TMP/crun-root run --bundle TMP/bundle ID"
}

report_md() {
    echo "**Machine:** $(nproc) CPUs ($cpu_model), $mem_total RAM, kernel $(uname -r), accelerator: $accel;"
    echo "QEMU $qemu_version; $runc_version; $crun_version. Load average $load_start at start, $load_end at end."
    echo "clearoci binary sha256 $clearoci_sha... (tree $clearoci_commit), guest assets $asset_version. \`true\` in a busybox bundle,"
    echo "$rounds interleaved rounds after 1 warm-up; wall time in ms from spawn to exit."
    echo
    echo "| | median | min | max | runs |"
    echo "|---|---:|---:|---:|---:|"
    for v in "${variants[@]}"; do row_md "$v"; done
    echo
    echo "clearoci / runc: **$r_runc**; clearoci / crun: **$r_crun**; clearoci / floor: **$r_floor** (clearoci − floor: $over_floor)."
    echo
    echo "| breakdown (medians, ms) | clearoci | floor |"
    echo "|---|---:|---:|"
    for i in "${!b_label[@]}"; do echo "| ${b_label[i]/#  /· } | ${b_co[i]} | ${b_fl[i]} |"; done
    echo
    echo "Commands (TMP: the script's private directory, ID: unique per run):"
    echo
    echo '```'
    echo "$CLEAROCI --debug --log TMP/clearoci-log.json --log-format json --root TMP/clearoci-root run --bundle TMP/bundle ID"
    echo "$RUNC --root TMP/runc-root run --bundle TMP/bundle ID"
    echo "$CRUN --root TMP/crun-root run --bundle TMP/bundle ID"
    echo '```'
    echo
    echo "Floor argv ($floor_source):"
    echo
    echo '```'
    echo "${floor_cmdline//$tmp/TMP}"
    echo '```'
}

report_text
if [ "$markdown" = 1 ]; then
    echo
    report_md
fi
[ -n "$md_file" ] && report_md >"$md_file"
[ -z "${unavailable[clearoci]:-}" ] || exit 1
exit 0
