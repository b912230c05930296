#!/usr/bin/env bash
# Builds the fallback guest root for machines without NVDIMM: a gzip'd newc cpio archive, booted
# with `-initrd FILE` and `rdinit=/init` (no root=). The archive is written by the Python below
# (no root, mknod or fakeroot needed) and is reproducible: fixed timestamps, owners 0:0, sorted
# entries, sequential inode numbers, gzip header without a name or mtime.
#
# Usage: build-initramfs.sh AGENT_BINARY [EXTRA_FILES_DIR]
#   AGENT_BINARY     static executable, installed as /init
#   EXTRA_FILES_DIR  optional tree copied over the root (may replace /init; used by tests)
#
# Content: /init, /dev/console (char 5:1, needed because devtmpfs is not auto-mounted over an
# initramfs), empty /proc /sys /dev /run /tmp /mnt /etc.
# Cached by a hash of all inputs:
#   $CACHE/initramfs/<hash>/initramfs.cpio.gz
#   $CACHE/initramfs/<hash>/manifest
# Prints the path of the cached archive on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CLEAROCI_CACHE:-/var/cache/clearoci}
epoch=${SOURCE_DATE_EPOCH:-946684800}

. "$here/lib.sh"
check_args build-initramfs.sh "$@"

hash=$( {
  echo "clearoci-initramfs v1 epoch=$epoch"
  sha256sum < "$agent"
  [ -z "$extra" ] || tree_digest "$extra"
  cat "$0" "$here/lib.sh"
} | sha256sum | cut -c1-16)
out="$cache/initramfs/$hash"
if [ -f "$out/initramfs.cpio.gz" ] && [ -f "$out/manifest" ]; then echo "$out/initramfs.cpio.gz"; exit 0; fi

start=$(date +%s.%N)
mkdir -p "$cache/initramfs"
work=$(mktemp -d "$cache/initramfs/build-$hash.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$agent" "$extra" "$epoch" "$work/initramfs.cpio.gz" <<'PY'
import gzip, os, stat, sys

agent, extra, epoch, dst = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

# path -> (mode, data bytes or None, (rdev major, minor))
entries = {}
for d in ("proc", "sys", "dev", "run", "tmp", "mnt", "etc"):
    entries[d] = (stat.S_IFDIR | (0o1777 if d == "tmp" else 0o755), None, (0, 0))
entries["dev/console"] = (stat.S_IFCHR | 0o600, None, (5, 1))
with open(agent, "rb") as f:
    entries["init"] = (stat.S_IFREG | 0o755, f.read(), (0, 0))

if extra:
    for top, dirs, files in os.walk(extra):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            full = os.path.join(top, name)
            rel = os.path.relpath(full, extra)
            st = os.lstat(full)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                entries[rel] = (stat.S_IFLNK | 0o777, os.readlink(full).encode(), (0, 0))
            elif stat.S_ISDIR(st.st_mode):
                entries[rel] = (stat.S_IFDIR | perm, None, (0, 0))
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    entries[rel] = (stat.S_IFREG | perm, f.read(), (0, 0))
            else:
                sys.exit(f"build-initramfs: {full}: unsupported file type")

def pad4(n):
    return b"\0" * (-n % 4)

def record(ino, name, mode, data, rdev):
    name_b = name.encode() + b"\0"
    data = data or b""
    fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, epoch, len(data),
              0, 0, rdev[0], rdev[1], len(name_b), 0)
    head = b"070701" + b"".join(b"%08X" % v for v in fields)
    return head + name_b + pad4(len(head) + len(name_b)) + data + pad4(len(data))

# Sorting by path puts every directory before its contents.
out = bytearray()
for ino, path in enumerate(sorted(entries), start=1):
    mode, data, rdev = entries[path]
    out += record(ino, path, mode, data, rdev)
out += record(0, "TRAILER!!!", 0, None, (0, 0))
out += b"\0" * (-len(out) % 512)

with open(dst, "wb") as raw:
    # filename="" and mtime=0 keep the gzip header identical between builds.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(out)
PY

mkdir -p "$work/out"
mv "$work/initramfs.cpio.gz" "$work/out/initramfs.cpio.gz"
chmod 0444 "$work/out/initramfs.cpio.gz"
cat > "$work/out/manifest" <<EOF
hash=$hash
initramfs=initramfs.cpio.gz
initramfs_bytes=$(stat -c %s "$work/out/initramfs.cpio.gz")
initramfs_sha256=$(sha256sum < "$work/out/initramfs.cpio.gz" | cut -d' ' -f1)
cpio_bytes=$(gzip -dc "$work/out/initramfs.cpio.gz" | wc -c)
agent=$(readlink -f "$agent")
agent_bytes=$(stat -c %s "$agent")
agent_sha256=$(sha256sum < "$agent" | cut -d' ' -f1)
extra_files_dir=${extra:+$(readlink -f "$extra")}
source_date_epoch=$epoch
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
EOF
rm -rf "$out"
mv "$work/out" "$out"
echo "$out/initramfs.cpio.gz"
