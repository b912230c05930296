#!/usr/bin/env bash
# A private dockerd + containerd and a private podman set-up, with ClearOci registered beside
# runc, that changes nothing global on the host and can run several times side by side.
#
#   engine-env.sh up DIR CLEAROCI     start everything under DIR (an empty or missing directory)
#   engine-env.sh down DIR            stop it (by pid) and remove DIR; safe to repeat
#
# `up` makes a holder process in a new network namespace and a new mount namespace (propagation
# slave: host mounts are seen, none made inside leaks out), with a private tmpfs on /run and `lo`
# up. containerd and dockerd run in those namespaces; docker0, iptables rules, overlay mounts,
# podman's netavark bridge and netns files never touch the host's. It writes these wrappers:
#
#   DIR/docker  ARGS   the docker 20.10 client on DIR/docker.sock
#   DIR/podman  ARGS   podman with private --root/--runroot/--tmpdir and DIR/podman/containers.conf
#   DIR/ctr     ARGS   ctr on the private containerd (in the namespaces: its fifos are in /run)
#   DIR/ns      CMD    runs CMD in the namespaces (e.g. `DIR/ns busybox wget -qO- 127.0.0.1:8080`)
#
# and imports the image `clearoci-test/busybox` (from busybox-static: no registry needed) into
# docker, podman and containerd. Runtimes: docker `--runtime clearoci` (default runc); podman's
# default runtime is ClearOci (`--runtime runc` for runc); ctr `--runc-binary CLEAROCI`.
# Logs: DIR/containerd.log, DIR/dockerd.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 up DIR CLEAROCI | down DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2

# Polls CMD until it succeeds, for at most $1 seconds (never a fixed sleep).
wait_for() {
    local limit=$1 what=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $end ]; then echo "engine-env: $what not ready within $limit s" >&2; return 1; fi
        sleep 0.1
    done
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

stop_pid() { # stop_pid FILE: TERM, then KILL after a bounded wait
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local end=$((SECONDS + 20))
    while alive "$pid" && [ $SECONDS -lt $end ]; do sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
}

down() {
    [ -d "$dir" ] || return 0
    # Containers first (their VMs), then the daemons, then the namespaces' holder.
    if [ -S "$dir/docker.sock" ] && [ -x "$dir/docker" ]; then
        ids=$(timeout 30 "$dir/docker" ps -aq 2>/dev/null || true)
        [ -z "$ids" ] || timeout 60 "$dir/docker" rm -f $ids >/dev/null 2>&1 || true
    fi
    if [ -x "$dir/podman" ]; then timeout 60 "$dir/podman" rm -af -t 0 >/dev/null 2>&1 || true; fi
    stop_pid "$dir/dockerd.pid"
    stop_pid "$dir/containerd.pid"
    # Whatever is left (shims, conmon, supervisors, VMs) shares the holder's mount or network
    # namespace, or names DIR on its command line.
    local holder mnt="" net="" pid
    holder=$(cat "$dir/holder.pid" 2>/dev/null || true)
    if alive "$holder"; then
        mnt=$(readlink "/proc/$holder/ns/mnt" || true); net=$(readlink "/proc/$holder/ns/net" || true)
    fi
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = $$ ] || [ "$pid" = "$holder" ] && continue
        if { [ -n "$mnt" ] && [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mnt" ]; } ||
           { [ -n "$net" ] && [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$net" ]; } ||
           tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$dir/"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    stop_pid "$dir/holder.pid"
    # Mounts live only in the private mount namespace: gone with its last process.
    rm -rf "$dir"
}

up() {
    local clearoci=$3
    [ -x "$clearoci" ] || { echo "engine-env: $clearoci is not executable (make build)" >&2; exit 1; }
    for tool in unshare nsenter ip containerd dockerd podman /usr/bin/docker ctr busybox; do
        command -v "$tool" >/dev/null || { echo "engine-env: $tool not found (make deps)" >&2; exit 1; }
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    mkdir -p "$dir/c" "$dir/d" "$dir/p/networks" "$dir/image"

    # The holder: new netns + mount ns, private /run, lo up; then it waits.
    nohup unshare --net --mount --propagation slave -- /bin/sh -c \
        'mount -t tmpfs -o mode=0755 tmpfs /run && ip link set lo up && touch "$0/holder.ready" && exec sleep infinity' "$dir" \
        </dev/null >"$dir/holder.log" 2>&1 &
    echo $! >"$dir/holder.pid"
    local holder=$!
    wait_for 20 "the namespace holder" test -e "$dir/holder.ready"
    local enter="nsenter -t $holder --net --mount --"

    cat >"$dir/ns" <<EOF
#!/bin/sh
exec $enter "\$@"
EOF
    cat >"$dir/docker" <<EOF
#!/bin/sh
DOCKER_HOST=unix://$dir/docker.sock exec /usr/bin/docker "\$@"
EOF
    cat >"$dir/ctr" <<EOF
#!/bin/sh
exec $enter ctr --address $dir/c/containerd.sock "\$@"
EOF
    cat >"$dir/podman" <<EOF
#!/bin/sh
CONTAINERS_CONF=$dir/p/containers.conf exec $enter podman --root $dir/p/root --runroot $dir/p/runroot --tmpdir $dir/p/tmp --cgroup-manager cgroupfs --events-backend file "\$@"
EOF
    chmod +x "$dir/ns" "$dir/docker" "$dir/ctr" "$dir/podman"

    cat >"$dir/c/config.toml" <<EOF
version = 2
root = "$dir/c/root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/c/containerd.sock"
[ttrpc]
  address = "$dir/c/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/c/opt"
EOF
    cat >"$dir/d/daemon.json" <<EOF
{
  "data-root": "$dir/d/root",
  "exec-root": "/run/docker",
  "pidfile": "$dir/d/dockerd.pid",
  "hosts": ["unix://$dir/docker.sock"],
  "containerd": "$dir/c/containerd.sock",
  "runtimes": { "clearoci": { "path": "$clearoci" } }
}
EOF
    # Podman cannot raise nofile/nproc without CAP_SYS_RESOURCE (docs/ENGINES.md); file locks
    # and a private network config dir keep it off the host's shared state.
    cat >"$dir/p/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
runtime = "clearoci"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "clearoci"]

[engine.runtimes]
clearoci = ["$clearoci"]
runc = ["/usr/sbin/runc"]

[network]
network_config_dir = "$dir/p/networks"
EOF

    # The daemons: fds above 2 closed (they would leak into runtimes), pids recorded.
    nohup $enter containerd --config "$dir/c/config.toml" </dev/null >"$dir/containerd.log" 2>&1 &
    echo $! >"$dir/containerd.pid"
    wait_for 60 containerd "$dir/ctr" version
    nohup $enter dockerd --config-file "$dir/d/daemon.json" </dev/null >"$dir/dockerd.log" 2>&1 &
    echo $! >"$dir/dockerd.pid"
    wait_for 90 dockerd "$dir/docker" version

    # The image, from the busybox-static bundle the other tests use.
    bash "$here/../../spec-fixtures/make-busybox-bundle.sh" "$dir/image/bundle" >/dev/null
    tar -C "$dir/image/bundle/rootfs" -cf "$dir/image/rootfs.tar" .
    "$dir/docker" import -c 'CMD ["/bin/sh"]' "$dir/image/rootfs.tar" clearoci-test/busybox:latest >/dev/null
    "$dir/podman" import -q --change 'CMD ["/bin/sh"]' "$dir/image/rootfs.tar" localhost/clearoci-test/busybox:latest >/dev/null
    rm -rf "$dir/image/bundle" "$dir/image/rootfs.tar"
    echo "engine-env: up in $dir (holder $holder)"
}

case $cmd in
    up) [ $# -eq 3 ] || usage; trap 'echo "engine-env: up failed; see $dir/*.log" >&2' ERR; up "$@" ;;
    down) [ $# -eq 2 ] || usage; down ;;
    *) usage ;;
esac
