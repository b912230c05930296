#!/usr/bin/env bash
# Host memory per additional container, clearoci beside runc, with KSM off and then on.
# Creates and starts N idle containers of each runtime (busybox `sleep 100000`), waits until
# their memory settles, and sums the PSS (/proc/PID/smaps_rollup) of everything each container
# keeps on the host: for clearoci the detached supervisor (its --pid-file) and its descendants
# (QEMU, virtiofsd and virtiofsd's sandbox child, found through the ppid in /proc/*/stat); for
# runc the container's process (runc itself exits; there is no shim). Then turns KSM on
# (run=1, pages_to_scan=1000, sleep_millisecs=20), waits until full_scans has grown by 2 and
# measures the same containers again. Reports per-container PSS (total / N) by process kind,
# RSS for reference, and KSM's pages_shared/pages_sharing. Every container is deleted and the
# KSM settings are restored at exit, also on Ctrl-C or SIGTERM.
#
#   usage: benchmarks/memory.sh [-n N] [--created] [--markdown] [-o FILE]
#     -n N         containers per runtime (default 5, at least 1)
#     --created    measure created containers that were never started (default: started)
#     --markdown   also print the report as a markdown block
#     -o FILE      also write the markdown block to FILE
#   environment: CLEAROCI (default out/bin/clearoci), CLEAROCI_ASSETS (default: the assets the
#     CLI would find, pinned to one version for the whole run), RUNC (/usr/sbin/runc),
#     BENCH_TIMEOUT (seconds per command, default 120), KSM_TIMEOUT (seconds to wait for two
#     full KSM scans, default 600), SETTLE_TIMEOUT (seconds to wait for PSS to settle, default
#     180), TMPDIR.
me=memory.sh
ksm=/sys/kernel/mm/ksm
count=
start_them=1
bench_extra_arg() { case $1 in --created) start_them=0; bench_shift=1 ;; esac; }
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
count=${bench_n:-5}
KSM_LIMIT=${KSM_TIMEOUT:-600}
SETTLE_LIMIT=${SETTLE_TIMEOUT:-180}
[ "$(id -u)" = 0 ] || die "run as root (both runtimes and the KSM settings need it)"
[ -x "$RUNC" ] || die "$RUNC not found"
[ -w "$ksm/run" ] || die "$ksm/run is not writable (no KSM in this kernel?)"
[ -r /proc/self/smaps_rollup ] || die "/proc/PID/smaps_rollup is missing (kernel older than 4.14?)"
command -v python3 >/dev/null || die "python3 not found"

declare -A ksm_saved=()                        # KSM settings as found; restored at exit
# Puts run, pages_to_scan and sleep_millisecs back as they were (run first, so ksmd stops
# before its rate changes back).
bench_extra_cleanup() {
    local f
    # Found stopped with nothing merged: unmerge what this run merged (run=2 does it before it
    # returns), so the host's pages are as they were; run=0 alone would leave them merged.
    if [ "${ksm_saved[run]:-}" = 0 ] && [ "${ksm_saved[pages_shared]:-}" = 0 ] && [ "$(cat "$ksm/pages_shared")" != 0 ]; then
        echo 2 >"$ksm/run" || echo "memory.sh: could not unmerge KSM pages (run=2)" >&2
    fi
    for f in run pages_to_scan sleep_millisecs; do
        [ -n "${ksm_saved[$f]:-}" ] || continue
        [ "$(cat "$ksm/$f")" = "${ksm_saved[$f]}" ] || echo "${ksm_saved[$f]}" >"$ksm/$f" ||
            echo "memory.sh: could not restore $ksm/$f to ${ksm_saved[$f]}" >&2
    done
}

for f in run pages_to_scan sleep_millisecs pages_shared; do
    ksm_saved[$f]=$(cat "$ksm/$f") || die "cannot read $ksm/$f"
done
bench_setup_tmp clearoci-memory
bench_pin_assets
bundle=$tmp/bundle
bench_bundle "$bundle" sleep 100000

# ---------------------------------------------------------------- machine
bench_machine
thp="anon $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null), shmem $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null)"

# ---------------------------------------------------------------- helpers
# mem.py snap LIST OUT: for every "runtime id pid" line of LIST, the process tree under pid with
#   each process's smaps_rollup and ksm_stat, as JSON in OUT.
# mem.py total LIST: the summed PSS (kB) of all those trees.
# mem.py report FORMAT INFO: the report (text or md) from the snapshots and facts in INFO (JSON).
cat >"$tmp/mem.py" <<'PY'
import json, os, sys

def children():
    kids = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            s = open(f"/proc/{e}/stat").read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(e))
    return kids

def kv(path):
    d = {}
    try:
        for line in open(path):
            k, _, v = line.partition(":") if ":" in line else line.partition(" ")
            v = v.split()
            if v and v[0].lstrip("-").isdigit():
                d[k.strip()] = int(v[0])
    except OSError:
        pass
    return d

def kind_of(pid, root, runtime):
    if pid == root:
        return "supervisor" if runtime == "clearoci" else "container"
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe")).replace(" (deleted)", "")
    except OSError:
        exe = "?"
    if exe.startswith("qemu-system"):
        return "qemu"
    if exe == "virtiofsd":
        return "virtiofsd"
    return "other:" + exe

def mappings(pid):
    """PSS and RSS (kB) of one process grouped by what is mapped: a file by its name, the guest
    RAM memfd, the heap, large anonymous mappings by their size (the TCG code buffer is one)."""
    groups, cur = {}, None
    try:
        for line in open(f"/proc/{pid}/smaps"):
            head = line.split(None, 5)
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                name = head[5].strip() if len(head) > 5 else ""
                if name.startswith("/memfd:"):
                    name = "guest RAM (memfd)"
                elif name.startswith("/"):
                    name = os.path.basename(name)
                elif name == "":
                    size = (hi - lo + (1 << 19)) >> 20
                    name = f"anonymous mapping of {size} MiB" if size >= 8 else "small anonymous mappings"
                cur = groups.setdefault(name, {"pss": 0, "rss": 0})
            elif cur is not None and line.startswith(("Pss:", "Rss:")):
                cur[line[:3].lower()] += int(line.split()[1])
    except OSError:
        pass
    return groups

def snap(listfile):
    kids = children()
    out = []
    for line in open(listfile):
        runtime, cid, root = line.split()
        root = int(root)
        procs, todo = [], [root]
        while todo:
            pid = todo.pop(0)
            r = kv(f"/proc/{pid}/smaps_rollup")
            if r:
                k = kv(f"/proc/{pid}/ksm_stat")
                procs.append({"pid": pid, "kind": kind_of(pid, root, runtime),
                              "rss": r.get("Rss", 0), "pss": r.get("Pss", 0),
                              "anon": r.get("Pss_Anon", 0), "file": r.get("Pss_File", 0),
                              "shmem": r.get("Pss_Shmem", 0), "ksm": r.get("KSM", 0),
                              "rmap": k.get("ksm_rmap_items", 0)})
                if procs[-1]["kind"] == "qemu":
                    procs[-1]["maps"] = mappings(pid)
            todo += kids.get(pid, [])
        out.append({"runtime": runtime, "id": cid, "root": root, "procs": procs})
    return out

def mib(kb):
    return f"{kb / 1024:.1f}"

def report(fmt, info):
    n = info["count"]
    phases = info["phases"]          # [{"name", "snap"}]
    rows = []                        # (label, [(pss, rss) per phase] or text per phase)
    def per_container(snap, runtime, pred, field):
        return sum(p[field] for c in snap if c["runtime"] == runtime for p in c["procs"] if pred(p)) / n
    def nprocs(snap, runtime, pred):
        return sum(1 for c in snap if c["runtime"] == runtime for p in c["procs"] if pred(p)) / n
    kinds = []
    for ph in phases:
        for c in ph["snap"]:
            for p in c["procs"]:
                if c["runtime"] == "clearoci" and p["kind"] not in kinds:
                    kinds.append(p["kind"])
    order = [k for k in ("qemu", "virtiofsd", "supervisor") if k in kinds] + [k for k in kinds if k not in ("qemu", "virtiofsd", "supervisor")]
    label = {"qemu": "QEMU", "virtiofsd": "virtiofsd", "supervisor": "supervisor (clearoci)"}
    def row(name, runtime, pred, extra=None):
        cells = []
        for ph in phases:
            s = ph["snap"]
            if extra:
                cells += [mib(per_container(s, runtime, pred, extra)), ""]
            else:
                cells += [mib(per_container(s, runtime, pred, "pss")), mib(per_container(s, runtime, pred, "rss"))]
        rows.append((name, cells))
    row("**clearoci, all processes**" if fmt == "md" else "clearoci, all processes", "clearoci", lambda p: True)
    for k in order:
        c = nprocs(phases[0]["snap"], "clearoci", lambda p, k=k: p["kind"] == k)
        row(f"{label.get(k, k)} ({c:g} process{'es' if c != 1 else ''})", "clearoci", lambda p, k=k: p["kind"] == k)
        if k == "qemu":
            for f, what in (("shmem", "shmem: guest RAM (memfd)"), ("anon", "anon: TCG cache, QEMU heap"), ("file", "file: binary, libraries, kernel, image")):
                row(("· " if fmt == "md" else "  ") + "PSS " + what, "clearoci", lambda p: p["kind"] == "qemu", f)
        if k == "virtiofsd":
            row(("· " if fmt == "md" else "  ") + "PSS shmem: guest RAM it touched", "clearoci", lambda p: p["kind"] == "virtiofsd", "shmem")
    row("**runc: the container's `sleep`**" if fmt == "md" else "runc: the container's sleep", "runc", lambda p: True)
    head = []
    for ph in phases:
        head += [ph["name"] + " PSS", ph["name"] + " RSS"]
    if fmt == "md":
        print("| per container, MiB | " + " | ".join(head) + " |")
        print("|---|" + "---:|" * len(head))
        for name, cells in rows:
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
    else:
        w = max(len(r[0]) for r in rows) + 2
        print("  " + "per container, MiB".ljust(w) + "".join(h.rjust(14) for h in head))
        for name, cells in rows:
            print("  " + name.ljust(w) + "".join(c.rjust(14) for c in cells))
        print()
    # The largest parts of QEMU's PSS, per container.
    for ph in phases:
        agg = {}
        for c in ph["snap"]:
            for p in c["procs"]:
                for name, v in p.get("maps", {}).items():
                    agg[name] = agg.get(name, 0) + v["pss"] / n
        top = sorted(agg.items(), key=lambda kv: -kv[1])[:8]
        rest = sum(agg.values()) - sum(v for _, v in top)
        parts = "; ".join(f"{name} {mib(v)}" for name, v in top) + f"; the rest {mib(rest)}"
        print(("- " if fmt == "md" else "") + f"{ph['name']}, QEMU's PSS by mapping, MiB per container: {parts}")
    # KSM merged and tracked pages in our QEMUs
    for ph in phases:
        s = ph["snap"]
        ksm_kb = sum(p["ksm"] for c in s for p in c["procs"])
        rmap = sum(p["rmap"] for c in s for p in c["procs"] if p["kind"] == "qemu")
        ph["ksm_kb"], ph["rmap"] = ksm_kb, rmap
    return phases

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "snap":
        json.dump(snap(sys.argv[2]), open(sys.argv[3], "w"))
    elif cmd == "total":
        print(sum(p["pss"] for c in snap(sys.argv[2]) for p in c["procs"]))
    elif cmd == "report":
        info = json.load(open(sys.argv[3]))
        for ph in info["phases"]:
            ph["snap"] = json.load(open(ph["file"]))
        phases = report(sys.argv[2], info)
        for ph in phases:
            print(f"{ph['name']}: KSM pages mapped by these processes (smaps KSM) {mib(ph['ksm_kb'])} MiB in all, "
                  f"{mib(ph['ksm_kb'] / info['count'])} per container; pages KSM tracks in the QEMUs (ksm_rmap_items) "
                  f"{ph['rmap']} in all (KSM scans only private anonymous memory that QEMU marked mergeable)")
PY

# Runs one runtime command under timeout; sets rc; output in $tmp/last.out and $tmp/last.err.
run_cmd() { # binary root args...
    local bin=$1 root=$2; shift 2
    timeout -k 5 "$LIMIT" "$bin" --root "$root" "$@" </dev/null >"$tmp/last.out" 2>"$tmp/last.err" &
    job=$!
    wait "$job"; rc=$?
    job=
}
why() {
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "timed out after ${LIMIT} s"
    else echo "exit status $rc: $(cat "$tmp/last.err" "$tmp/last.out" | tr '\n' ' ' | cut -c1-300 | sed 's/ *$//')"; fi
}
ksm_read() { cat "$ksm/$1"; }
# Sleeps in the background and waits for it, so INT and TERM are handled at once.
nap() { sleep "$1" & job=$!; wait "$job"; job=; }

# ---------------------------------------------------------------- containers
# KSM off for the first measurement (it was off when found, or is turned off until the end).
[ "$(ksm_read run)" = 0 ] || echo 0 >"$ksm/run" || die "cannot stop KSM"

declare -A bin=([clearoci]="$CLEAROCI_BIN" [runc]="$RUNC")
declare -A root=([clearoci]="$tmp/clearoci-root" [runc]="$tmp/runc-root")
list=$tmp/containers.list
: >"$list"
t_create=$SECONDS
for ((i = 1; i <= count; i++)); do
    for rt in clearoci runc; do
        id=mem$$-$rt-$i
        made_rt+=("${bin[$rt]}"); made_root+=("${root[$rt]}"); made_id+=("$id")
        echo "creating $rt $id ..." >&2
        run_cmd "${bin[$rt]}" "${root[$rt]}" create --bundle "$bundle" --pid-file "$tmp/$id.pid" "$id"
        [ "$rc" = 0 ] || die "$rt create $id failed: $(why)"
        if [ "$start_them" = 1 ]; then
            run_cmd "${bin[$rt]}" "${root[$rt]}" start "$id"
            [ "$rc" = 0 ] || die "$rt start $id failed: $(why)"
        fi
        pid=$(cat "$tmp/$id.pid") || die "no pid file for $rt $id"
        echo "$rt $id $pid" >>"$list"
    done
done
t_create=$((SECONDS - t_create))

# Waits until the containers' summed PSS changes by less than 1 % over 5 s (bounded), so the
# guests have finished booting and settled.
settle() {
    local deadline=$((SECONDS + SETTLE_LIMIT)) a b t0=$SECONDS
    a=$(python3 "$tmp/mem.py" total "$list")
    while [ $SECONDS -lt $deadline ]; do
        nap 5
        b=$(python3 "$tmp/mem.py" total "$list")
        if awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.01 * a) }'; then
            settled_after="$((SECONDS - t0)) s"; return 0
        fi
        a=$b
    done
    settled_after="not within ${SETTLE_LIMIT} s (measured anyway)"
}

# Every container must still be alive (created or running).
check_alive() {
    local rt id pid
    while read -r rt id pid; do
        kill -0 "$pid" 2>/dev/null || die "$rt container $id (pid $pid) is gone"
    done <"$list"
}

echo "waiting for memory to settle (KSM off) ..." >&2
settle; settle_off=$settled_after
check_alive
python3 "$tmp/mem.py" snap "$list" "$tmp/snap-off.json" || die "measurement failed"
ksm_off_shared=$(ksm_read pages_shared); ksm_off_sharing=$(ksm_read pages_sharing)

# ---------------------------------------------------------------- KSM on
echo 1000 >"$ksm/pages_to_scan" && echo 20 >"$ksm/sleep_millisecs" || die "cannot set the KSM scan rate"
scans0=$(ksm_read full_scans)
echo 1 >"$ksm/run" || die "cannot start KSM"
t_ksm=$SECONDS
echo "KSM on (pages_to_scan 1000, sleep_millisecs 20): waiting for 2 full scans (at most ${KSM_LIMIT} s) ..." >&2
while [ $(( $(ksm_read full_scans) - scans0 )) -lt 2 ] && [ $((SECONDS - t_ksm)) -lt "$KSM_LIMIT" ]; do
    nap 1
done
scans=$(( $(ksm_read full_scans) - scans0 ))
ksm_wait=$((SECONDS - t_ksm))
check_alive
python3 "$tmp/mem.py" snap "$list" "$tmp/snap-on.json" || die "measurement failed"
ksm_on_shared=$(ksm_read pages_shared); ksm_on_sharing=$(ksm_read pages_sharing)
ksm_scanned=$(ksm_read pages_scanned 2>/dev/null || echo n/a)
bench_extra_cleanup
restore_note="; pages_shared $(ksm_read pages_shared) after restoring (was ${ksm_saved[pages_shared]})"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- delete everything
for i in "${!made_id[@]}"; do
    run_cmd "${made_rt[i]}" "${made_root[i]}" delete --force "${made_id[i]}"
    [ "$rc" = 0 ] || echo "memory.sh: delete --force ${made_id[i]} failed: $(why)" >&2
done

# ---------------------------------------------------------------- report
cat >"$tmp/info.json" <<EOF
{"count": $count, "phases": [{"name": "KSM off", "file": "$tmp/snap-off.json"}, {"name": "KSM on", "file": "$tmp/snap-on.json"}]}
EOF
state_word=$([ "$start_them" = 1 ] && echo started || echo "created, not started")
ksm_text="KSM on: $scans full scans in $ksm_wait s$([ "$scans" -lt 2 ] && echo " (fewer than 2: the time limit ran out)"); pages_shared $ksm_off_shared → $ksm_on_shared, pages_sharing $ksm_off_sharing → $ksm_on_sharing (whole host; 4 KiB pages)"

report_text() {
    echo "ClearOci memory per container: $count $state_word busybox \`sleep 100000\` containers per runtime; PSS = sum / $count"
    echo "machine:  $(nproc) CPUs, $cpu_model, $mem_total RAM, kernel $(uname -r), THP $thp"
    echo "          accelerator: $accel"
    echo "          QEMU $qemu_version; $runc_version"
    echo "          load average $load_start at start, $load_end at end"
    echo "clearoci: $CLEAROCI (sha256 $clearoci_sha..., tree $clearoci_commit), guest assets $asset_version"
    echo "created in $t_create s; KSM off: settled after $settle_off"
    echo
    python3 "$tmp/mem.py" report text "$tmp/info.json"
    echo "$ksm_text"
    echo "KSM settings restored: run=$(ksm_read run) pages_to_scan=$(ksm_read pages_to_scan) sleep_millisecs=$(ksm_read sleep_millisecs)$restore_note"
}

report_md() {
    echo "**Machine:** $(nproc) CPUs ($cpu_model), $mem_total RAM, kernel $(uname -r), THP $thp, accelerator: $accel;"
    echo "QEMU $qemu_version; $runc_version. Load average $load_start at start, $load_end at end."
    echo "clearoci binary sha256 $clearoci_sha... (tree $clearoci_commit), guest assets $asset_version."
    echo "$count $state_word busybox \`sleep 100000\` containers per runtime (created in $t_create s); PSS from"
    echo "/proc/PID/smaps_rollup summed over each container's processes, divided by $count. KSM off: measured once the"
    echo "summed PSS had settled ($settle_off); KSM on: the same containers again."
    echo
    python3 "$tmp/mem.py" report md "$tmp/info.json" | sed '/^KSM o[nf]f*:/ { s/^/- /; }'
    echo "- $ksm_text"
    echo "- KSM settings restored afterwards: run=$(ksm_read run), pages_to_scan=$(ksm_read pages_to_scan), sleep_millisecs=$(ksm_read sleep_millisecs)$restore_note"
    echo
    echo "Commands (R: a private --root per runtime, B: the bundle, i = 1..$count; RT: clearoci or $RUNC):"
    echo
    echo '```'
    echo "RT --root R create --bundle B --pid-file P.i ID.i$([ "$start_them" = 1 ] && echo "; RT --root R start ID.i")"
    echo "(KSM off) wait until the summed PSS changes < 1 % in 5 s; read /proc/PID/smaps_rollup of P.i's process tree"
    echo "echo 1000 > $ksm/pages_to_scan; echo 20 > $ksm/sleep_millisecs; echo 1 > $ksm/run"
    echo "(KSM on) wait until $ksm/full_scans grew by 2; read smaps_rollup again; restore the KSM settings"
    echo "RT --root R delete --force ID.i"
    echo '```'
}

report_text
if [ "$markdown" = 1 ]; then
    echo
    report_md
fi
[ -n "$md_file" ] && report_md >"$md_file"
exit 0
