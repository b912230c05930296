#!/usr/bin/env bash
# Engine timings, ClearOci against runc, side by side in one run, on a private dockerd +
# containerd and podman (tests/ClearOci.EngineTests/engine-env.sh: own network and mount
# namespaces, nothing global changes):
#   docker-clearoci   docker run --rm --runtime clearoci busybox true
#   docker-runc       docker run --rm --runtime runc busybox true
#   podman-clearoci   podman run --rm busybox true          (ClearOci is its configured default)
#   podman-runc       podman run --rm --runtime runc busybox true
#   ctr-clearoci      ctr run --rm --runc-binary CLEAROCI busybox ID true   (containerd's runc shim)
#   ctr-shim          ctr run --rm --runtime io.containerd.clearoci.v2 busybox ID true
#                     (ClearOci's own shim, SHIM, from containerd's opt dir)
#   ctr-runc          ctr run --rm busybox ID true
# Every round runs each variant once, in a rotating order, so machine load hits all of them
# alike; one untimed warm-up round comes first. Reports medians, min/max and ClearOci/runc ratios.
#
#   usage: benchmarks/engines.sh [-n N] [-o FILE]   (--markdown is accepted; the report is markdown already)
#     -n N      timed rounds (default 5, at least 1)
#     -o FILE   also write the report (a markdown block) to FILE
#   environment: CLEAROCI (default out/bin/clearoci), SHIM (default: containerd-shim-clearoci-v2
#     beside CLEAROCI), BENCH_TIMEOUT (seconds per run, default 180)
me=engines.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_parse_args "$@"
rounds=${bench_n:-5}
clearoci=$(realpath "${CLEAROCI:-$repo/out/bin/clearoci}")
[ -x "$clearoci" ] || { echo "$0: $clearoci not found (make build assets)" >&2; exit 1; }
shim=$(realpath "${SHIM:-$(dirname "$clearoci")/containerd-shim-clearoci-v2}")
[ -x "$shim" ] || { echo "$0: $shim not found (make build)" >&2; exit 1; }
limit=${BENCH_TIMEOUT:-180}
env_sh=$repo/tests/ClearOci.EngineTests/engine-env.sh
dir=$(mktemp -d /tmp/coe-bench-XXXXXX)
trap 'bash "$env_sh" down "$dir" >/dev/null 2>&1' EXIT
bash "$env_sh" up "$dir" "$clearoci" >/dev/null || { echo "$0: engine set-up failed (see $dir/*.log)" >&2; exit 1; }
"$dir/docker" save clearoci-test/busybox:latest -o "$dir/busybox.tar"
"$dir/ctr" images import --base-name docker.io/clearoci-test/busybox "$dir/busybox.tar" >/dev/null
# containerd finds io.containerd.clearoci.v2 as containerd-shim-clearoci-v2 in its opt dir's bin/.
mkdir -p "$dir/c/opt/bin" && ln -sf "$shim" "$dir/c/opt/bin/containerd-shim-clearoci-v2"
rm -f "$dir/busybox.tar"

variants=(docker-clearoci docker-runc podman-clearoci podman-runc ctr-clearoci ctr-shim ctr-runc)
command_of() { # command_of NAME ID: sets cmd to the variant's argv
    local img=clearoci-test/busybox
    case $1 in
        docker-clearoci) cmd=("$dir/docker" run --rm --runtime clearoci "$img" true) ;;
        docker-runc) cmd=("$dir/docker" run --rm --runtime runc "$img" true) ;;
        podman-clearoci) cmd=("$dir/podman" run --rm "$img" true) ;;
        podman-runc) cmd=("$dir/podman" run --rm --runtime runc "$img" true) ;;
        ctr-clearoci) cmd=("$dir/ctr" run --rm --runc-binary "$clearoci" "docker.io/$img:latest" "$2" true) ;;
        ctr-shim) cmd=("$dir/ctr" run --rm --runtime io.containerd.clearoci.v2 "docker.io/$img:latest" "$2" true) ;;
        ctr-runc) cmd=("$dir/ctr" run --rm "docker.io/$img:latest" "$2" true) ;;
    esac
}

declare -A times
load_start=$(cut -d' ' -f1 /proc/loadavg)
for ((round = 0; round <= rounds; round++)); do
    for ((i = 0; i < ${#variants[@]}; i++)); do
        v=${variants[$(((i + round) % ${#variants[@]}))]}
        command_of "$v" "bench-$round-$i"
        start=$(date +%s%N)
        if ! timeout -k 5 "$limit" "${cmd[@]}" </dev/null >"$dir/last.out" 2>&1; then
            echo "$0: $v failed in round $round: $(tail -3 "$dir/last.out")" >&2; exit 1
        fi
        ms=$((($(date +%s%N) - start) / 1000000))
        [ "$round" -eq 0 ] || times[$v]+="$ms "
    done
    if [ "$round" -eq 0 ]; then echo "warm-up done" >&2; else echo "round $round/$rounds done" >&2; fi
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

report() {
    echo "Engines: \`run --rm busybox true\`, $rounds rounds ($(date -u +%Y-%m-%d); load average $load_start at start, $load_end at end)"
    echo
    echo "| engine | ClearOci median (min-max) ms | runc median (min-max) ms | ratio |"
    echo "|---|---|---|---|"
    for e in docker podman ctr; do
        read -r cm cmin cmax _ < <(stats "${times[$e-clearoci]}")
        read -r rm rmin rmax _ < <(stats "${times[$e-runc]}")
        ratio=$(awk -v a="$cm" -v b="$rm" 'BEGIN { printf "%.1f", a / b }')
        echo "| $e | $cm ($cmin-$cmax) | $rm ($rmin-$rmax) | $ratio |"
    done
    read -r cm cmin cmax _ < <(stats "${times[ctr-shim]}")
    read -r rm rmin rmax _ < <(stats "${times[ctr-runc]}")
    ratio=$(awk -v a="$cm" -v b="$rm" 'BEGIN { printf "%.1f", a / b }')
    echo "| ctr, ClearOci's shim | $cm ($cmin-$cmax) | $rm ($rmin-$rmax) | $ratio |"
}
report
if [ -n "$md_file" ]; then report >"$md_file"; fi
