# Shared by the benchmark scripts (sourced, not run). Before sourcing, a script sets `me` (its
# name in messages); it may define `bench_extra_arg` (called with the remaining arguments for an
# option the common parser does not know; it sets `bench_shift` to how many it consumed, 0 if
# none) and `bench_extra_cleanup` (run first at exit). After sourcing:
#   bench_parse_args "$@"   -n N (sets bench_n), --markdown, -o FILE, -h
#   bench_setup_tmp PREFIX  makes the private directory $tmp; cleanup at exit kills what is left
#   bench_pin_assets        pins CLEAROCI_ASSETS and a private copy of the CLI ($CLEAROCI_BIN)
#   bench_bundle DIR ARG..  a busybox bundle whose process runs ARG.. without a terminal
#   bench_machine           cpu_model mem_total accel qemu_version runc_version clearoci_commit load_start
#   stats / median / ratio  figures for the reports
# Every container a script creates goes into made_rt/made_root/made_id; at exit each one still
# present is deleted with --force, and every process whose command line names $tmp (or whose
# root lies inside it) is killed.
set -uo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLEAROCI=${CLEAROCI:-$repo/out/bin/clearoci}
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-/usr/bin/crun}
LIMIT=${BENCH_TIMEOUT:-120}
# Built-in defaults unless the caller names a host config: /etc/clearoci/config.json is not read.
export CLEAROCI_CONFIG=${CLEAROCI_CONFIG:-$repo/tests/host-config-defaults.json}
bench_n=
markdown=0
md_file=
tmp=
job=
declare -a made_rt=() made_root=() made_id=()

die() { echo "$me: $*" >&2; exit 1; }

bench_parse_args() {
    local script=$0
    while [ $# -gt 0 ]; do
        case $1 in
            -n) bench_n=${2:-}; shift 2 || { echo "$script: -n needs a number" >&2; exit 2; } ;;
            -n*) bench_n=${1#-n}; shift ;;
            --markdown) markdown=1; shift ;;
            -o) md_file=${2:-}; shift 2 || { echo "$script: -o needs a file" >&2; exit 2; } ;;
            -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$script"; exit 0 ;;
            *)
                bench_shift=0
                declare -F bench_extra_arg >/dev/null && bench_extra_arg "$@"
                [ "$bench_shift" -gt 0 ] || { echo "$script: unknown argument $1 (try --help)" >&2; exit 2; }
                shift "$bench_shift" ;;
        esac
    done
    if [ -n "$bench_n" ] && { ! [[ $bench_n =~ ^[0-9]+$ ]] || [ "$bench_n" -lt 1 ]; }; then
        echo "$script: -n wants a whole number >= 1, got '$bench_n'" >&2; exit 2
    fi
    if [ -n "$md_file" ] && ! : >>"$md_file"; then
        echo "$script: cannot write $md_file" >&2; exit 2
    fi
    [ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is needed (EPOCHREALTIME)"
    command -v timeout >/dev/null || die "timeout (coreutils) not found"
    [ -x "$CLEAROCI" ] || die "$CLEAROCI not found: run make build"
}

# Stops a process tree top-down (so nothing forks behind our back) and prints its pids.
stop_tree() {
    local p=$1 c
    kill -STOP "$p" 2>/dev/null || return 0
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null); do stop_tree "$c"; done
}

# Kills the running command ($job) and everything it started, by pid, and waits until they are gone.
kill_job() {
    [ -n "$job" ] || return 0
    local pids p
    pids=$(stop_tree "$job")
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    wait "$job" 2>/dev/null
    for p in $pids; do timeout 10 tail --pid="$p" -s 0.05 -f /dev/null 2>/dev/null; done
    job=
}

# Processes that are still ours: their command line names our private directory (a supervisor,
# QEMU or virtiofsd) or their root is inside it (a runc container's process). The directory
# name is unique, so nothing else can match.
leftovers() {
    local d p r
    [ -n "$tmp" ] || return 0
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = $$ ] && continue
        r=$(readlink "$d/root" 2>/dev/null) ||:
        if [[ $r == "$tmp"/* ]] || { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -qF -- "$tmp"; then echo "$p"; fi
    done
}

bench_cleanup() {
    local rc=$? i p
    trap - EXIT INT TERM HUP
    kill_job
    declare -F bench_extra_cleanup >/dev/null && bench_extra_cleanup
    for i in "${!made_id[@]}"; do
        # runc and crun remove a container at the end of `run`; one that was killed stays.
        [ -d "${made_root[i]}/${made_id[i]}" ] &&
            timeout -k 5 "$LIMIT" "${made_rt[i]}" --root "${made_root[i]}" delete --force "${made_id[i]}" </dev/null >/dev/null 2>&1
    done
    for p in $(leftovers); do
        echo "$me: killing leftover process $p" >&2
        kill -KILL "$p" 2>/dev/null
        timeout 10 tail --pid="$p" -s 0.05 -f /dev/null 2>/dev/null
    done
    [ -n "$tmp" ] && rm -rf "$tmp"
    exit "$rc"
}
bench_interrupted() { echo "$me: interrupted, cleaning up" >&2; exit 130; }

bench_setup_tmp() { # prefix
    trap bench_cleanup EXIT
    trap bench_interrupted INT TERM HUP
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || die "mktemp failed"
}

# Pins the guest assets to one version for the whole run (a concurrent `make assets` may switch
# `current`) and runs a private copy of the CLI (a concurrent `make build` rewrites out/bin; it
# is a single NativeAOT file, and the detached supervisor `create` leaves is the same binary).
bench_pin_assets() {
    if [ -z "${CLEAROCI_ASSETS:-}" ]; then
        CLEAROCI_ASSETS=$(dirname "$CLEAROCI")/../share/clearoci/current
        [ -f "$CLEAROCI_ASSETS/vmlinux" ] || CLEAROCI_ASSETS=/usr/local/share/clearoci/current
        [ -f "$CLEAROCI_ASSETS/vmlinux" ] || CLEAROCI_ASSETS=/usr/share/clearoci/current
    fi
    [ -f "$CLEAROCI_ASSETS/vmlinux" ] || die "no guest assets (vmlinux) in $CLEAROCI_ASSETS: run make assets or set CLEAROCI_ASSETS"
    CLEAROCI_ASSETS=$(readlink -f "$CLEAROCI_ASSETS")
    export CLEAROCI_ASSETS
    clearoci_sha=$(sha256sum "$CLEAROCI" | cut -c1-12)
    cp "$CLEAROCI" "$tmp/clearoci" || die "cannot copy $CLEAROCI"
    CLEAROCI_BIN=$tmp/clearoci
    asset_version=$(cat "$CLEAROCI_ASSETS/version" 2>/dev/null || basename "$CLEAROCI_ASSETS")
}

bench_bundle() { # dir arg...
    local dir=$1; shift
    "$repo/spec-fixtures/make-busybox-bundle.sh" "$dir" >/dev/null || die "could not build the busybox bundle"
    python3 - "$dir/config.json" "$@" <<'PY' || die "could not edit the bundle's config.json"
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = sys.argv[2:]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"), indent=1)
PY
}

bench_machine() {
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    accel=$("$CLEAROCI_BIN" check 2>/dev/null | sed -n 's/^accelerator:[[:space:]]*//p')
    qemu_version=$(qemu-system-x86_64 --version 2>/dev/null | head -1 | sed 's/^QEMU emulator version //')
    runc_version=$("$RUNC" --version 2>/dev/null | head -1)
    clearoci_commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
    load_start=$(cut -d' ' -f1-3 /proc/loadavg)
}

# stats "v1 v2 ..." [DIVISOR [DECIMALS]]: prints "median min max count", each divided by DIVISOR
# (default 1) with DECIMALS places (default 0); median of an even count: mean of the middle two.
stats() {
    printf '%s\n' $1 | awk -v d="${2:-1}" -v p="${3:-0}" 'NF { a[n++] = $1 } END {
        if (n == 0) { print "- - - 0"; exit }
        for (i = 1; i < n; i++) { x = a[i]; for (j = i - 1; j >= 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        m = (n % 2) ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2
        f = "%." p "f"
        printf f " " f " " f " %d\n", m / d, a[0] / d, a[n - 1] / d, n }'
}
median() { stats "$1" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.1fx", a / b }'; }
